"""The simulation's own database: a private in-memory SQLite holding a copy of the city.

A what-if must not run in the live database. Inside its one long transaction it would hold the
units' rows locked for as long as it runs (minutes): every live dispatch and every position fix
of a phone would wait on them. And its tens of thousands of statements would each pay a round
trip to the database server.

``sandbox()`` reads what a simulation needs from the database in use — the stations, staging
points, grid cells, units and role groups, and optionally the incidents of a window before the
simulated period (the demand the move-up advice weighs) — then creates every table in an
in-memory SQLite database, copies those rows into it with their ids, and makes it the default
database of this thread for the block. The services, the ranking and the deadlines then run
unchanged against the copy; nothing reaches the real database, and the copy is gone when the
block ends.

The copy starts from a quiet city: every unit free (the live incidents a unit may be on are not
copied) and no notices, events or statistics. A link from a copied row to a table not copied
(an incident's call-taker, say) is left empty.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX, SQLiteCursorWrapper
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabase
from django.db.models import Model

from apps.incidents.models import Incident
from apps.units.models import UNIT_FREE_STATUSES, GridCell, StagingPoint, Station, Unit, UnitStatus


@functools.lru_cache(maxsize=2048)
def _qmark(query: str) -> str:
    return str(FORMAT_QMARK_REGEX.sub("?", query)).replace("%%", "%")


class _Cursor(SQLiteCursorWrapper):
    """Rewrites each statement's placeholders for sqlite3 once, not on every run: a simulation
    runs a few hundred distinct statements some three hundred thousand times."""

    def convert_query(self, query: str, *, param_names: list[str] | None = None) -> str:
        if param_names is None:
            return _qmark(query)
        convert: Any = super().convert_query  # type: ignore[misc]
        return str(convert(query, param_names=param_names))


class _PrivateDatabase(SQLiteDatabase):
    """The in-memory copy's connection. It keeps no query log, even with DEBUG on (the demo's
    setting): nobody reads a simulation's hundred thousand statements, and logging them was a
    sixth of its time."""

    queries_logged = False

    def create_cursor(self, name: str | None = None) -> Any:
        return self.connection.cursor(factory=_Cursor)


# What is copied, each after the tables it points to.
CITY: tuple[type[Model], ...] = (Group, Station, StagingPoint, GridCell, Unit)


def _detach(rows: Sequence[Model], copied: set[type[Model]]) -> None:
    """Empty every link of ``rows`` to a table that is not copied (such links are nullable:
    anything else would be a table missing from CITY, which the copy then refuses loudly)."""
    if not rows:
        return
    meta = type(rows[0])._meta
    for field in meta.concrete_fields:
        if field.is_relation and field.related_model not in copied:
            if not field.null:
                raise LookupError(f"{meta.label}.{field.name} needs {field.related_model}")
            for row in rows:
                setattr(row, field.attname, None)


def _quiet(units: Sequence[Unit]) -> None:
    """Every unit free: what it is doing in the live system now is not the simulation's."""
    for unit in units:
        unit.current_incident_id = None
        if unit.status not in UNIT_FREE_STATUSES:
            unit.status = UnitStatus.PATROLLING


@contextmanager
def sandbox(*, history: tuple[datetime, datetime] | None = None) -> Iterator[None]:
    """Run the block against a private in-memory copy of the city (see the module docstring).

    ``history``: (from, to) — the incidents received in that window are copied too."""
    rows: dict[type[Model], list[Model]] = {
        model: list(model._default_manager.order_by("pk")) for model in CITY
    }
    incidents: list[Model] = []
    if history is not None:
        incidents = list(
            Incident.objects.filter(received_at__gte=history[0], received_at__lt=history[1])
        )
    copied = set(CITY) | ({Incident} if incidents else set())
    _quiet(rows[Unit])  # type: ignore[arg-type]
    for model_rows in (*rows.values(), incidents):
        _detach(model_rows, copied)

    settings_dict = connections.configure_settings(
        {DEFAULT_DB_ALIAS: {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    )[DEFAULT_DB_ALIAS]
    private = _PrivateDatabase(settings_dict, alias=DEFAULT_DB_ALIAS)
    live = connections[DEFAULT_DB_ALIAS]
    handler: Any = connections
    # The handler keeps one connection per alias and thread; the block's is the private one.
    setattr(handler._connections, DEFAULT_DB_ALIAS, private)
    try:
        with private.schema_editor() as editor:
            for model in apps.get_models():
                if model._meta.managed and not model._meta.proxy:
                    editor.create_model(model)
        copies: list[tuple[type[Model], list[Model]]] = [*rows.items(), (Incident, incidents)]
        for model, model_rows in copies:
            for row in model_rows:
                row._state.adding = True
                row._state.db = None
            model._default_manager.bulk_create(model_rows, batch_size=500)
        yield
    finally:
        setattr(handler._connections, DEFAULT_DB_ALIAS, live)
        # (Django's close() keeps an in-memory database open: this one is dropped.)
        if private.connection is not None:
            private.connection.close()
