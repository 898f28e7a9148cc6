"""Gap-free counters in one statement: insert the row at 1, or add 1 to it, and read it back.

`INSERT … ON CONFLICT (key) DO UPDATE SET n = n + 1 RETURNING n` runs on PostgreSQL and on
SQLite (3.35 and newer). It locks the counter row until the caller's transaction ends, as the
SELECT … FOR UPDATE, UPDATE and the savepoint around a create race did, in one round trip
instead of four or five: the incident-number and the command-audience counters are the hottest
rows of the dispatch path (bench/latency.py, py-spy of the API processes). `counters_next`
advances several rows of one table in one statement (the notice cursors of every audience a
transaction told something).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import connection, models


def _column(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    column = model._meta.get_field(name)
    assert isinstance(column, models.Field) and column.column, f"{name} is not a column"
    return column


def _advance(
    model: type[models.Model], key: list[str], field: str, rows: list[list[Any]]
) -> list[tuple[Any, ...]]:
    """The one statement: each row (its `key` values, then its step) inserted at its step or
    added to; returns (key values…, new value) for each row, in no particular order."""
    qn = connection.ops.quote_name
    key_fields = [_column(model, name) for name in key]
    counter = qn(_column(model, field).column)
    table = qn(model._meta.db_table)
    columns = ", ".join(qn(f.column) for f in key_fields)
    values = ", ".join(["(" + ", ".join(["%s"] * (len(key) + 1)) + ")"] * len(rows))
    sql = (
        f"INSERT INTO {table} ({columns}, {counter}) VALUES {values} "
        f"ON CONFLICT ({columns}) DO UPDATE SET {counter} = {table}.{counter} + "
        f"excluded.{counter} RETURNING {columns}, {counter}"
    )
    params: list[Any] = []
    for *keys, step in rows:
        params += [
            f.get_db_prep_value(k, connection) for f, k in zip(key_fields, keys, strict=True)
        ]
        params.append(step)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def counter_next(
    model: type[models.Model], *, key: dict[str, Any], field: str, step: int = 1
) -> int:
    """Add `step` to `field` of the row of `model` with the unique `key`; the new value.

    `key` must be the model's unique key (a unique field or a UniqueConstraint's fields); the
    row is created with `field` = `step` when it does not exist.
    """
    (row,) = _advance(model, list(key), field, [[*key.values(), step]])
    return int(row[-1])


def counters_next(
    model: type[models.Model], *, key: str, field: str, steps: Mapping[str, int]
) -> dict[str, int]:
    """Add to `field` of several rows of `model`, each named by its value of the unique text
    column `key` (`steps`: key value → step); the new value of each, by key value. Rows are
    created at their step when missing.

    One statement. The rows are locked in the order of `steps` (PostgreSQL takes a multi-row
    INSERT's conflicts in the order of its VALUES): the caller gives its lock order."""
    if not steps:
        return {}
    rows = _advance(model, [key], field, [[k, step] for k, step in steps.items()])
    got = {str(k): int(n) for k, n in rows}
    assert got.keys() == steps.keys(), f"asked for {sorted(steps)}, got {sorted(got)}"
    return got
