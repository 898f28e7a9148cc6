"""The dispatch is on the alert's path: its statements are counted (a regression shows here, its
time in bench/latency.py)."""

from __future__ import annotations

from typing import Any

import pytest

from apps.common.models import Notice
from apps.common.notices import COMMAND, unit_audience
from apps.incidents import services
from tests.support.factories import World, new_incident

pytestmark = pytest.mark.django_db


def test_a_dispatch_makes_a_fixed_number_of_statements(
    world: World, django_assert_max_num_queries: Any
) -> None:
    incident = new_incident(world)
    # Lock the incident (with its grid cell) and the unit; the incident, its event; the working
    # assignments, once; the alert's notice (counter, row) and the alert; the assignment; the
    # unit, its event; the deadlines; the command centre's two notices (one counter statement,
    # one INSERT); and the savepoint around it all in a test.
    with django_assert_max_num_queries(18):
        services.incident_dispatch(incident=incident, unit=world.unit, actor=world.dispatcher)


def test_a_backup_dispatch_makes_a_fixed_number_of_statements(
    world: World, django_assert_max_num_queries: Any
) -> None:
    incident = new_incident(world)
    services.incident_dispatch(incident=incident, unit=world.unit, actor=world.dispatcher)
    backup = world.city.units[1]
    # As a primary's, with the backup's own event instead of the incident's status, and the
    # notice for the crew already on it.
    with django_assert_max_num_queries(20):
        services.incident_dispatch(incident=incident, unit=backup, actor=world.dispatcher)


def test_the_command_centre_is_told_the_units_status_then_the_incidents_in_one_write(
    world: World,
) -> None:
    incident = new_incident(world)
    before = Notice.objects.filter(audience=COMMAND).count()
    services.incident_dispatch(incident=incident, unit=world.unit, actor=world.dispatcher)
    notices = list(Notice.objects.filter(audience=COMMAND).order_by("seq"))[before:]
    assert [n.type for n in notices] == ["unit.updated", "incident.updated"]
    assert notices[1].seq == notices[0].seq + 1
    assert notices[1].payload["incident"]["assignments"][0]["unit"] == world.unit.pk
    # The alert's own brief lists the units already on the incident (none), as before.
    alert = Notice.objects.get(audience=unit_audience(world.unit.pk), type="dispatch.alert")
    assert alert.payload["incident"]["assignments"] == []
