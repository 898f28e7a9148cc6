"""Gap-free counters in one statement: insert the row at 1, or add 1 to it, and read it back.

`INSERT … ON CONFLICT (key) DO UPDATE SET n = n + 1 RETURNING n` runs on PostgreSQL and on
SQLite (3.35 and newer). It locks the counter row until the caller's transaction ends, as the
SELECT … FOR UPDATE, UPDATE and the savepoint around a create race did, in one round trip
instead of four or five: the incident-number and the command-audience counters are the hottest
rows of the dispatch path (bench/latency.py, py-spy of the API processes).
"""

from __future__ import annotations

from typing import Any

from django.db import connection, models


def counter_next(
    model: type[models.Model], *, key: dict[str, Any], field: str, step: int = 1
) -> int:
    """Add `step` to `field` of the row of `model` with the unique `key`; the new value.

    `key` must be the model's unique key (a unique field or a UniqueConstraint's fields); the
    row is created with `field` = `step` when it does not exist.
    """
    meta = model._meta
    qn = connection.ops.quote_name

    def concrete(name: str) -> models.Field[Any, Any]:
        column = meta.get_field(name)
        assert isinstance(column, models.Field) and column.column, f"{name} is not a column"
        return column

    key_fields = [concrete(name) for name in key]
    counter = qn(concrete(field).column)
    table = qn(meta.db_table)
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
