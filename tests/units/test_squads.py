"""The elite squad (尖刀队): its groups are units of their own kind, crewed by the people posted
to them, ranked apart from the patrol units and sent deliberately (as the primary or a backup)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.incidents import services
from apps.incidents.models import AssignmentRole, IncidentAssignment
from apps.realtime.escalation import escalation_phones
from apps.units.models import Unit, UnitKind
from apps.units.selectors import is_crew, unit_for_user, unit_recommendations
from tests.support.factories import World, advance, crew_member, new_incident

pytestmark = pytest.mark.django_db


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def squad(world: World) -> Unit:
    """Group 1 of the squad, based at staging point p0 (the same as patrol unit U0)."""
    return Unit.objects.create(
        callsign="尖刀1组",
        plate="云J·1201警",
        kind=UnitKind.SQUAD,
        staging_point=world.unit.staging_point,
    )


def test_a_call_is_answered_by_the_nearest_patrol_unit_not_by_a_squad(
    world: World, squad: Unit
) -> None:
    ranked = unit_recommendations(lat=22.78, lon=100.95)
    assert squad.pk not in [r.unit.pk for r in ranked]
    assert ranked[0].unit == world.unit
    squads = unit_recommendations(lat=22.78, lon=100.95, kind=UnitKind.SQUAD)
    assert [r.unit for r in squads] == [squad]


def test_the_ranking_api_gives_the_squads_apart(world: World, squad: Unit) -> None:
    incident = new_incident(world)
    patrol = api(world.dispatcher).get(f"/api/incidents/{incident.pk}/recommendations/").json()
    assert {r["kind"] for r in patrol} == {"patrol"}
    squads = api(world.dispatcher).get(f"/api/incidents/{incident.pk}/recommendations/?kind=squad")
    assert [(r["callsign"], r["kind"]) for r in squads.json()] == [("尖刀1组", "squad")]
    point = api(world.dispatcher).get(
        "/api/incidents/recommendations/?lat=22.78&lon=100.95&kind=squad"
    )
    assert [r["unit"] for r in point.json()] == [squad.pk]
    bad = api(world.dispatcher).get(f"/api/incidents/{incident.pk}/recommendations/?kind=tank")
    assert bad.status_code == 400 and "kind" in bad.json()
    board = api(world.dispatcher).get("/api/units/").json()
    assert {u["callsign"]: u["kind"] for u in board}["尖刀1组"] == "squad"


def test_a_squad_member_crews_the_squad_and_not_the_patrol_unit_of_its_base(
    world: World, squad: Unit
) -> None:
    member = crew_member(squad, username="jiandao")
    assert unit_for_user(member) == squad
    assert is_crew(member, squad) and not is_crew(member, world.unit)
    # And the patrol crew of the base does not crew the squad.
    assert not is_crew(world.auxiliary, squad)
    assert unit_for_user(world.auxiliary) == world.unit


def test_a_squad_sent_as_backup_acknowledges_and_arrives_from_its_phone(
    world: World, squad: Unit
) -> None:
    member = crew_member(squad, username="jiandao")
    incident = advance(world, new_incident(world), "on_scene")
    sent = api(world.dispatcher).post(
        f"/api/incidents/{incident.pk}/dispatch/", {"unit": squad.pk}, format="json"
    )
    assert sent.status_code == 200, sent.content
    for step in ("acknowledge", "en-route", "arrive"):
        answer = api(member).post(f"/api/incidents/{incident.pk}/{step}/", {}, format="json")
        assert answer.status_code == 200, answer.content
    row = IncidentAssignment.objects.get(incident=incident, unit=squad)
    assert (row.role, row.status) == (AssignmentRole.BACKUP, "on_scene")
    # The auxiliary of patrol unit U0 cannot step for the squad.
    refused = api(world.auxiliary).post(
        f"/api/incidents/{incident.pk}/units/{squad.pk}/acknowledge/", {}, format="json"
    )
    assert refused.status_code == 403


def test_a_silent_squad_texts_its_own_members_not_the_patrol_crew_of_its_base(
    world: World, squad: Unit
) -> None:
    member = crew_member(squad, username="jiandao")
    member.person.phone = "13900000011"  # type: ignore[attr-defined]
    member.person.save(update_fields=["phone"])  # type: ignore[attr-defined]
    patrol_person = world.auxiliary.person  # type: ignore[attr-defined]
    patrol_person.phone = "13900000022"
    patrol_person.save(update_fields=["phone"])
    # During shift 1 (both are posted to it), whatever the hour the suite runs at.
    on_shift = (timezone.localtime() + timedelta(days=1)).replace(
        hour=settings.SHIFT_START_HOURS[0], minute=30
    )
    phones = escalation_phones(unit_id=squad.pk, now=on_shift)
    assert "13900000011" in phones and "13900000022" not in phones
    assert "13900000022" in escalation_phones(unit_id=world.unit.pk, now=on_shift)


def test_a_squad_may_be_the_primary_unit(world: World, squad: Unit) -> None:
    incident = services.incident_dispatch(
        incident=new_incident(world), unit=squad, actor=world.dispatcher
    )
    assert incident.unit == squad
    assert IncidentAssignment.objects.get(incident=incident).role == AssignmentRole.PRIMARY
