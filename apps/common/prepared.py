"""Statements the hot paths repeat with different ids, compiled once per process.

Building a queryset and compiling it to SQL costs the ORM several times what running the
statement costs: 0.3–0.7 ms of Python for a row lock by primary key, against 0.05–0.1 ms for the
database (bench/simulation.py's profile). A dispatch or a crew's step takes a handful of such
reads, the same shape every time. ``Prepared`` builds the queryset once per kind of connection
with stand-in values, keeps the SQL, where each value goes, the column converters and the
instance builders the ORM computed, and later only binds the values, runs the statement and
builds the instances as the ORM's own iterator does (select_related included). SQLAlchemy keeps
such a compiled cache for every statement; Django has none, so the few statements that need it
declare it here. ``PreparedUpdate``, ``save_fields`` and ``insert`` do the same for the writes.

The arguments bound are numbers (ids, coordinates): each is compiled as a stand-in number that
the statement's parameters are searched for. The rest of the query is fixed when declared.

What is compiled is kept per kind of connection (its backend class and alias), not per
connection object: under daphne every request runs in a thread of its own with a connection
object of its own, and a cache keyed by the object compiled every statement again on every
request and, holding the compiler (which holds its connection), kept each request's connection
object alive for as long as the process ran.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models
from django.db.models import Field, Model, QuerySet
from django.db.models import query as orm_query
from django.db.transaction import TransactionManagementError

M = TypeVar("M", bound=Model)
S = TypeVar("S")

# Stand-ins for the bound ids while the query is compiled: valid 32-bit integers (Django
# compiles an out-of-range id to an empty query) that no constant of a declared query uses.
_STAND_IN = 2_147_480_000


def _per_kind(cache: dict[Any, S], connection: Any, shape: Any, write: Callable[[], S]) -> S:
    """The statement of this shape for this kind of connection, written on first use. What a
    statement depends on is the backend (its SQL dialect, features and converters) and the alias
    (its settings): connections of the same kind share statements."""
    key = (type(connection), connection.alias, shape)
    statement = cache.get(key)
    if statement is None:
        statement = cache[key] = write()
    return statement


def _arity(build: Callable[..., Any]) -> int:
    """The arguments bound on each run: the build's parameters without a default (one with a
    default fixes a constant when the query is declared)."""
    return build.__code__.co_argcount - len(build.__defaults__ or ())


def _stand_ins(arity: int) -> list[int]:
    return [_STAND_IN + k for k in range(arity)]


def _slots(params: Sequence[Any], arity: int) -> tuple[int | None, ...]:
    """Where each stand-in went: for each parameter of the compiled statement, the index of the
    argument bound there, or None for a constant of the query."""
    stand_ins = _stand_ins(arity)
    slots = tuple(stand_ins.index(p) if p in stand_ins else None for p in params)
    if {s for s in slots if s is not None} != set(range(arity)):
        raise ValueError("every argument of a prepared statement must be one of its parameters")
    return slots


# The widest integer column (bigint, SQLite's INTEGER): a larger id matches no row. The ORM
# compiles such a lookup to an empty result; bound as is, SQLite refuses it with OverflowError.
_INT_RANGE = range(-(2**63), 2**63)


def _matchable(args: Sequence[Any]) -> bool:
    return all(not isinstance(a, int) or a in _INT_RANGE for a in args)


def _bind(
    slots: tuple[int | None, ...], constants: tuple[Any, ...], args: Sequence[Any]
) -> list[Any]:
    return [
        args[slot] if slot is not None else constant
        for slot, constant in zip(slots, constants, strict=True)
    ]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # For each parameter of the statement: the index of the argument bound there, or None.
    slots: tuple[int | None, ...]
    constants: tuple[Any, ...]
    compiler: Any
    converters: dict[int, Any]
    model: type[Model]
    init_list: list[str]
    fields: tuple[int, int]
    populators: list[Any]
    locks: bool


class Prepared(Generic[M]):
    """``Prepared(lambda pk: Unit.objects.select_for_update().filter(pk=pk))`` then
    ``prepared(unit_id)`` → the list of instances, as ``list(queryset)`` would give."""

    def __init__(self, build: Callable[..., QuerySet[M]]) -> None:
        self._build = build
        self._arity = _arity(build)
        self._by_kind: dict[Any, _Compiled] = {}

    def _compile(self, connection: Any) -> _Compiled:
        queryset = self._build(*_stand_ins(self._arity))
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        slots = _slots(params, self._arity)
        select, klass_info = compiler.select, compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        return _Compiled(
            sql=sql,
            slots=slots,
            constants=tuple(params),
            compiler=compiler,
            converters=compiler.get_converters([s[0] for s in select[0 : compiler.col_count]]),
            model=klass_info["model"],
            init_list=[f[0].target.attname for f in select[start:end]],
            fields=(start, end),
            # (The ORM's own builders of select_related instances, as its iterator uses them.)
            populators=orm_query.get_related_populators(  # type: ignore[attr-defined]
                klass_info, select, DEFAULT_DB_ALIAS
            ),
            locks=queryset.query.select_for_update and connection.features.has_select_for_update,
        )

    def __call__(self, *args: float) -> list[M]:
        if not _matchable(args):
            return []  # an id beyond any integer column (a client's URL, say)
        connection = connections[DEFAULT_DB_ALIAS]
        compiled = self._compiled(connection)
        if compiled.locks and connection.get_autocommit():
            # What the ORM checks when it compiles a locking read, checked on every run.
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, _bind(compiled.slots, compiled.constants, args))
            rows: Any = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        start, end = compiled.fields
        out = []
        for row in rows:
            obj = compiled.model.from_db(DEFAULT_DB_ALIAS, compiled.init_list, row[start:end])
            for populator in compiled.populators:
                populator.populate(row, obj)
            out.append(cast(M, obj))
        return out

    def _compiled(self, connection: Any) -> _Compiled:
        return _per_kind(self._by_kind, connection, None, lambda: self._compile(connection))

    def first(self, *args: float) -> M | None:
        """The first row, or None."""
        rows = self(*args)
        return rows[0] if rows else None

    def one(self, *args: float) -> M:
        """The first row, or the model's DoesNotExist (as ``QuerySet.get`` raises)."""
        row = self.first(*args)
        if row is None:
            model: Any = self._compiled(connections[DEFAULT_DB_ALIAS]).model
            raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
        return row


@dataclass(frozen=True)
class _Filtered:
    sql: str
    slots: tuple[int | None, ...]
    constants: tuple[Any, ...]
    fields: tuple[Any, ...]


class PreparedUpdate:
    """``PreparedUpdate(lambda pk: Alert.objects.filter(incident_id=pk, …), "delivered_at")``
    then ``update(incident.pk, delivered_at=at)`` → the number of rows updated, as
    ``queryset.update(delivered_at=at)`` would write them: the WHERE clause compiled by the ORM
    once per kind of connection (the arguments bound as in ``Prepared``), the values prepared by
    their fields on every run."""

    def __init__(self, build: Callable[..., QuerySet[Any]], *names: str) -> None:
        self._build = build
        self._arity = _arity(build)
        self._names = names
        self._by_kind: dict[Any, _Filtered] = {}

    def _compile(self, connection: Any) -> _Filtered:
        query = self._build(*_stand_ins(self._arity)).query
        if query.select_related or query.order_by or query.is_sliced:
            raise ValueError("a prepared update filters one table, unordered and unsliced")
        where, params = query.get_compiler(connection=connection).compile(query.where)
        update = _update_set(connection, query.model, self._names)
        return _Filtered(
            sql=f"{update.sql} WHERE {where}",
            slots=_slots(params, self._arity),
            constants=tuple(params),
            fields=update.fields,
        )

    def __call__(self, *args: float, **values: Any) -> int:
        connection = connections[DEFAULT_DB_ALIAS]
        compiled = _per_kind(self._by_kind, connection, None, lambda: self._compile(connection))
        if set(values) != set(self._names):
            raise TypeError(f"a value for each of {self._names}, and only those")
        if not _matchable(args):
            return 0
        params = [f.get_db_prep_save(values[f.name], connection) for f in compiled.fields]
        params += _bind(compiled.slots, compiled.constants, args)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            return int(cursor.rowcount)


@dataclass(frozen=True)
class _Update:
    sql: str  # UPDATE … SET …, without its WHERE
    fields: tuple[Any, ...]


def _update_set(connection: Any, model: Any, names: tuple[str, ...]) -> _Update:
    meta = model._meta
    fields = tuple(cast("Field[Any, Any]", meta.get_field(name)) for name in names)
    if any(f.primary_key or not f.concrete or hasattr(f, "get_placeholder") for f in fields):
        raise ValueError(f"cannot write {names} of {meta.label} with a prepared UPDATE")
    qn = connection.ops.quote_name
    sets = ", ".join(f"{qn(f.column)} = %s" for f in fields)
    return _Update(sql=f"UPDATE {qn(meta.db_table)} SET {sets}", fields=fields)


_updates: dict[Any, _Update] = {}


def _by_pk(connection: Any, model: type[Model], names: tuple[str, ...]) -> _Update:
    """``UPDATE … SET <names> WHERE pk = %s``, written once per kind of connection and set of
    fields."""

    def write() -> _Update:
        update = _update_set(connection, model, names)
        where = connection.ops.quote_name(model._meta.pk.column)
        return _Update(sql=f"{update.sql} WHERE {where} = %s", fields=update.fields)

    return _per_kind(_updates, connection, (model, names), write)


def _row(update: _Update, obj: Model, connection: Any) -> list[Any]:
    params = [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in update.fields]
    params.append(obj._meta.pk.get_db_prep_value(obj.pk, connection))
    return params


def save_fields(obj: Model, *names: str) -> None:
    """``obj.save(update_fields=names)`` for a row the hot paths write over and over (a unit's
    status, an incident's stamps), each value prepared by its field as the ORM prepares it. Like
    ``save``, refuses when no row was updated. (No model here has save() logic or signals: the
    house style forbids both.)"""
    connection = connections[DEFAULT_DB_ALIAS]
    update = _by_pk(connection, type(obj), names)
    with connection.cursor() as cursor:
        cursor.execute(update.sql, _row(update, obj, connection))
        if cursor.rowcount == 0:
            raise DatabaseError("Save with update_fields did not affect any rows.")


def save_fields_many(objs: Sequence[Model], *names: str) -> None:
    """``save_fields`` of many rows of one model at once (``bulk_update`` without its CASE
    expressions): the same prepared UPDATE run for every row."""
    if not objs:
        return
    connection = connections[DEFAULT_DB_ALIAS]
    update = _by_pk(connection, type(objs[0]), names)
    with connection.cursor() as cursor:
        cursor.executemany(update.sql, [_row(update, obj, connection) for obj in objs])


@dataclass(frozen=True)
class _Insert:
    sql: str
    fields: tuple[Any, ...]
    returns_pk: bool


_inserts: dict[Any, _Insert] = {}


def _insert_statement(connection: Any, model: type[Model], *, with_pk: bool, rows: int) -> _Insert:
    """INSERT of ``rows`` rows (0: one row, run with executemany), reading the new ids back
    when the ids are not given and the database returns them."""

    def write() -> _Insert:
        meta = model._meta
        fields = tuple(f for f in meta.concrete_fields if with_pk or not f.primary_key)
        if any(hasattr(f, "get_placeholder") or f.generated for f in fields):
            raise ValueError(f"insert cannot write {meta.label}")
        qn = connection.ops.quote_name
        columns = ", ".join(qn(f.column) for f in fields)
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = (
            f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES {', '.join([one] * max(rows, 1))}"
        )
        returns_pk = not with_pk and rows > 0
        if returns_pk:
            returning, _params = connection.ops.return_insert_columns([meta.pk])
            sql = f"{sql} {returning}"
        return _Insert(sql=sql, fields=fields, returns_pk=returns_pk)

    return _per_kind(_inserts, connection, (model, with_pk, rows), write)


def _shape(objs: Sequence[Model]) -> tuple[type[Model], bool]:
    model, with_pk = type(objs[0]), objs[0].pk is not None
    if any(type(obj) is not model or (obj.pk is not None) != with_pk for obj in objs):
        raise ValueError("rows inserted together are of one model, all with ids or none")
    return model, with_pk


# Fields whose value, when already of this type, is what the ORM would send to the database
# (their preparation converts to that type and stops): the exact field classes, not subclasses,
# which may prepare differently.
_AS_IS: dict[type[Any], type[Any]] = {
    models.CharField: str,
    models.TextField: str,
    models.IntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.SmallIntegerField: int,
    models.BigIntegerField: int,
    models.AutoField: int,
    models.BigAutoField: int,
    models.ForeignKey: int,
    models.BooleanField: bool,
    models.FloatField: float,
}


def _values(fields: tuple[Any, ...], obj: Model, connection: Any) -> list[Any] | None:
    """The row's values as the ORM prepares them, or None when one is left to the database
    (a db_default): then the ORM writes the row."""
    values = []
    for field in fields:
        as_is = _AS_IS.get(type(field))
        if as_is is not None:
            value = getattr(obj, field.attname)
            if value is None or type(value) is as_is:
                values.append(value)
                continue
        value = field.pre_save(obj, True)
        if hasattr(value, "resolve_expression"):
            return None
        values.append(field.get_db_prep_save(value, connection))
    return values


def _written(objs: Sequence[Model]) -> None:
    for obj in objs:
        obj._state.adding = False
        obj._state.db = DEFAULT_DB_ALIAS


def insert(*objs: Model) -> None:
    """``Model.objects.create`` (or ``bulk_create`` of a few rows) for the rows a dispatch adds
    every time: one INSERT, written once per kind of connection and number of rows, each value
    prepared by its field as the ORM prepares it, the new ids read back."""
    if not objs:
        return
    connection = connections[DEFAULT_DB_ALIAS]
    model, with_pk = _shape(objs)
    rows = None
    if with_pk or connection.features.can_return_rows_from_bulk_insert:
        statement = _insert_statement(connection, model, with_pk=with_pk, rows=len(objs))
        rows = [_values(statement.fields, obj, connection) for obj in objs]
    if rows is None or any(row is None for row in rows):
        # A database that returns no ids from an INSERT, or a value left to the database: the
        # ORM writes the rows, one by one as create() does.
        for obj in objs:
            obj.save(force_insert=True)
        return
    params = [value for row in rows for value in row]  # type: ignore[union-attr]
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params)
        if statement.returns_pk:
            for obj, row in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = row[0]
    _written(objs)


def insert_many(objs: Sequence[Model]) -> None:
    """``bulk_create`` of many rows whose ids are given or not needed afterwards (the
    simulation's timeline, written in bulk): one prepared INSERT run for every row."""
    if not objs:
        return
    connection = connections[DEFAULT_DB_ALIAS]
    model, with_pk = _shape(objs)
    statement = _insert_statement(connection, model, with_pk=with_pk, rows=0)
    rows = [_values(statement.fields, obj, connection) for obj in objs]
    if any(row is None for row in rows):
        model._default_manager.bulk_create(objs)
        return
    with connection.cursor() as cursor:
        cursor.executemany(statement.sql, rows)
    _written(objs)
