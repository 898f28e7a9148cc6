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


def counter_next(
    model: type[models.Model], *, key: dict[str, Any], field: str, step: int = 1
) -> int:
    """Add `step` to `field` of the row of `model` with the unique `key`; the new value.

    `key` must be the model's unique key (a unique field or a UniqueConstraint's fields); the
    row is created with `field` = `step` when it does not exist.
    """
    qn = connection.ops.quote_name
    key_fields = [_column(model, name) for name in key]
    counter = qn(_column(model, field).column)
    table = qn(model._meta.db_table)
    columns = ", ".join(qn(f.column) for f in key_fields)
    placeholders = ", ".join(["%s"] * (len(key) + 1))
    sql = (
        f"INSERT INTO {table} ({columns}, {counter}) VALUES ({placeholders}) "
        f"ON CONFLICT ({columns}) DO UPDATE SET {counter} = {table}.{counter} + %s "
        f"RETURNING {counter}"
    )
    params = [
        f.get_db_prep_value(v, connection) for f, v in zip(key_fields, key.values(), strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, step, step])
        row = cursor.fetchone()
    return int(row[0])


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
    qn = connection.ops.quote_name
    key_column = qn(_column(model, key).column)
    counter = qn(_column(model, field).column)
    table = qn(model._meta.db_table)
    values = ", ".join(["(%s, %s)"] * len(steps))
    sql = (
        f"INSERT INTO {table} ({key_column}, {counter}) VALUES {values} "
        f"ON CONFLICT ({key_column}) DO UPDATE SET {counter} = {table}.{counter} + "
        f"excluded.{counter} RETURNING {key_column}, {counter}"
    )
    params = [v for pair in steps.items() for v in pair]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        got = {str(k): int(n) for k, n in cursor.fetchall()}
    assert got.keys() == steps.keys(), f"asked for {sorted(steps)}, got {sorted(got)}"
    return got
