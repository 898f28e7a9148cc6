"""Prepared reads and writes give what the ORM gives, compiled once per connection."""

from __future__ import annotations

import gc
import threading
import weakref
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.common.prepared import (
    Prepared,
    PreparedUpdate,
    insert,
    insert_many,
    save_fields,
    save_fields_many,
)
from apps.units.models import GridCell, Unit, UnitStatus
from tests.support.factories import small_city

pytestmark = pytest.mark.django_db

UNIT_WITH_POINT = Prepared(lambda pk: Unit.objects.select_related("staging_point").filter(pk=pk))
LOCKED_UNIT = Prepared(lambda pk: Unit.objects.select_for_update().filter(pk=pk))
CELLS_AROUND = Prepared(
    lambda lat, lon: GridCell.objects.filter(
        min_lat__lte=lat, max_lat__gte=lat, min_lon__lte=lon, max_lon__gte=lon
    ).order_by("row", "col")
)


def _fields(obj: object) -> dict[str, object]:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}  # type: ignore[attr-defined]


def test_a_prepared_read_gives_the_orms_instances_with_their_related_rows_in_one_query() -> None:
    city = small_city()
    for unit in city.units:
        expected = Unit.objects.select_related("staging_point").get(pk=unit.pk)
        with CaptureQueriesContext(connection) as ctx:
            (got,) = UNIT_WITH_POINT(unit.pk)
            point = got.staging_point
        assert len(ctx.captured_queries) == 1
        assert _fields(got) == _fields(expected)
        assert _fields(point) == _fields(expected.staging_point)
        assert not got._state.adding and got._state.db == "default"
    assert UNIT_WITH_POINT(10**6) == []
    assert UNIT_WITH_POINT.first(10**6) is None
    assert UNIT_WITH_POINT.first(city.units[1].pk).pk == city.units[1].pk  # type: ignore[union-attr]


def test_arguments_bind_where_the_query_uses_them_even_twice() -> None:
    small_city()
    for lat, lon in ((22.765, 100.945), (22.795, 101.015), (22.78, 100.96), (10.0, 10.0)):
        expected = list(
            GridCell.objects.filter(
                min_lat__lte=lat, max_lat__gte=lat, min_lon__lte=lon, max_lon__gte=lon
            ).order_by("row", "col")
        )
        assert [c.pk for c in CELLS_AROUND(lat, lon)] == [c.pk for c in expected]


def test_one_raises_does_not_exist_and_a_build_must_use_its_arguments() -> None:
    small_city()
    with pytest.raises(Unit.DoesNotExist):
        UNIT_WITH_POINT.one(10**6)
    unused = Prepared(lambda pk: Unit.objects.all())
    with pytest.raises(ValueError):
        unused(1)


def test_an_id_beyond_any_integer_column_matches_nothing_as_in_the_orm() -> None:
    """A client can put any number in a URL: the ORM answers "no such row" for an id beyond
    bigint, and so do the prepared statements (SQLite would refuse to bind it)."""
    city = small_city()
    huge = 2**100
    assert list(Unit.objects.filter(pk=huge)) == []
    fresh = Prepared(lambda pk: Unit.objects.filter(pk=pk))  # never compiled before
    with pytest.raises(Unit.DoesNotExist):
        fresh.one(huge)
    assert UNIT_WITH_POINT(huge) == [] and UNIT_WITH_POINT.first(-huge) is None
    free = PreparedUpdate(lambda pk: Unit.objects.filter(pk=pk), "status")
    assert free(huge, status=UnitStatus.AVAILABLE) == 0
    assert free(city.units[0].pk, status=UnitStatus.AVAILABLE) == 1


def test_a_locking_read_outside_a_transaction_is_refused_where_the_database_locks() -> None:
    city = small_city()
    with transaction.atomic():
        assert LOCKED_UNIT.one(city.units[0].pk).pk == city.units[0].pk
    if not connection.features.has_select_for_update:
        return  # SQLite: the ORM itself does not refuse (nothing to lock)
    # pytest-django's transaction is open here; outside one, as in a view, the lock is refused.
    autocommit = connection.get_autocommit
    connection.get_autocommit = lambda: True  # type: ignore[method-assign]
    try:
        with pytest.raises(TransactionManagementError):
            LOCKED_UNIT(city.units[0].pk)
    finally:
        connection.get_autocommit = autocommit  # type: ignore[method-assign]


def test_save_fields_writes_only_the_fields_named_and_refuses_a_missing_row() -> None:
    city = small_city()
    unit = Unit.objects.get(pk=city.units[0].pk)
    stale = Unit.objects.get(pk=unit.pk)
    at = timezone.now() - timedelta(minutes=3)
    unit.status, unit.status_changed_at, unit.callsign = UnitStatus.OUT_OF_SERVICE, at, "改名"
    with CaptureQueriesContext(connection) as ctx:
        save_fields(unit, "status", "status_changed_at")
    assert len(ctx.captured_queries) == 1
    fresh = Unit.objects.get(pk=unit.pk)
    assert (fresh.status, fresh.status_changed_at) == (UnitStatus.OUT_OF_SERVICE, at)
    assert fresh.callsign == stale.callsign  # not named: not written
    ghost = Unit(pk=10**6, staging_point=unit.staging_point)
    with pytest.raises(DatabaseError):
        save_fields(ghost, "status")
    with pytest.raises(ValueError):
        save_fields(unit, "id")


def test_insert_writes_the_rows_as_create_does_and_reads_their_ids_back() -> None:
    city = small_city()
    point = city.points[0]
    made = [Unit(callsign=f"新{k}", plate=f"云J·9{k}", staging_point=point) for k in range(3)]
    with CaptureQueriesContext(connection) as ctx:
        insert(*made)
    assert len(ctx.captured_queries) == 1
    assert all(u.pk is not None and not u._state.adding for u in made)
    for unit in made:
        assert _fields(Unit.objects.get(pk=unit.pk)) == _fields(unit)
    one = Unit(callsign="新9", plate="云J·99", staging_point=point)
    insert(one)
    assert Unit.objects.get(pk=one.pk).callsign == "新9"
    with pytest.raises(ValueError):
        insert(Unit(callsign="a", staging_point=point), point)


def test_insert_many_writes_every_row_in_one_prepared_statement() -> None:
    city = small_city()
    point = city.points[0]
    rows = [Unit(callsign=f"批{k}", plate=f"云J·8{k}", staging_point=point) for k in range(50)]
    with CaptureQueriesContext(connection) as ctx:
        insert_many(rows)
    assert len(ctx.captured_queries) == 1
    assert set(
        Unit.objects.filter(callsign__startswith="批").values_list("callsign", flat=True)
    ) == {f"批{k}" for k in range(50)}


def test_save_fields_many_writes_each_rows_own_values_in_one_statement() -> None:
    city = small_city()
    units = list(Unit.objects.filter(pk__in=[u.pk for u in city.units]).order_by("pk"))
    at = timezone.now()
    for k, unit in enumerate(units):
        unit.lat, unit.lon, unit.position_at = 22.70 + k / 100, 100.90 + k / 100, at
        unit.callsign = f"不写{k}"
    with CaptureQueriesContext(connection) as ctx:
        save_fields_many(units, "lat", "lon", "position_at")
    assert len(ctx.captured_queries) == 1  # one executemany
    for k, unit in enumerate(units):
        fresh = Unit.objects.get(pk=unit.pk)
        assert (fresh.lat, fresh.lon, fresh.position_at) == (22.70 + k / 100, 100.90 + k / 100, at)
        assert fresh.callsign == city.units[k].callsign
    save_fields_many([], "lat")  # nothing to write


@pytest.mark.django_db(transaction=True)
def test_a_statement_is_compiled_once_for_every_thread_and_keeps_no_threads_connection() -> None:
    """Under daphne each request runs in a new thread with a connection object of its own: the
    statement compiled in the first is used by the next, and no thread's connection object is
    kept alive by the cache after its thread ended."""
    city = small_city()
    pk = city.units[0].pk
    prepared = Prepared(lambda pk: Unit.objects.select_related("staging_point").filter(pk=pk))
    seen: list[weakref.ref[object]] = []
    compiles = []
    real_compile = prepared._compile

    def counting(conn: object) -> object:
        compiles.append(conn)
        return real_compile(conn)

    prepared._compile = counting  # type: ignore[method-assign,assignment]
    got: list[int] = []

    def request() -> None:
        try:
            got.append(prepared.one(pk).staging_point.pk)
            seen.append(weakref.ref(connections["default"]))
        finally:
            connections.close_all()

    for _ in range(3):
        thread = threading.Thread(target=request)
        thread.start()
        thread.join(timeout=30)
    assert got == [city.units[0].staging_point_id] * 3
    assert len(compiles) == 1
    compiles.clear()
    gc.collect()
    # The first thread's connection compiled the statement: the cache keeps that one at most.
    assert sum(ref() is not None for ref in seen[1:]) == 0
