"""The per-unit table counts every unit sent, backups included; the response figures stay the
primary's."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from apps.incidents import services
from tests.support.factories import World, advance, new_incident

pytestmark = pytest.mark.django_db


def test_the_per_unit_table_counts_the_times_a_unit_was_sent_as_backup(
    commander: Client, frozen: None, world: World
) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    backup = world.city.units[1]
    services.incident_dispatch(incident=incident, unit=backup, actor=world.dispatcher)
    day = timezone.localdate().isoformat()
    table = commander.get("/command/stats/", {"format": "json", "start": day, "end": day}).json()[
        "tables"
    ]["units"]
    keys = [c["key"] if isinstance(c, dict) else c for c in table.get("keys", table["columns"])]
    rows = {row[0]: row for row in table["rows"]}
    assert "backups" in keys and "total" in keys, keys
    column = keys.index("backups")
    assert rows[backup.callsign][column] == 1
    assert rows[world.unit.callsign][column] == 0
    # U1 answered no call as the primary: its calls are U0's, not counted twice.
    assert rows[backup.callsign][keys.index("total")] == 0
    assert rows[world.unit.callsign][keys.index("total")] == 1
