"""Personal data: caller phones masked in lists and action answers, in full in the detail for
those who need it (and every full view logged); ID-card numbers for HR only, exports included;
phone and ID-card numbers never in a log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from apps.common.models import AccessLog
from apps.common.security import PersonalDataFilter, mask_personal_data, mask_phone
from apps.incidents import services
from tests.support.api import api
from tests.support.factories import PersonFactory, World, advance, new_incident

pytestmark = pytest.mark.django_db

FULL = "13800000000"
MASKED = "138****0000"


def caller_views(incident: Any) -> int:
    return AccessLog.objects.filter(
        action=AccessLog.Action.CALLER_RECORD_VIEWED, target=f"incidents.incident:{incident.pk}"
    ).count()


def detail_phone(world: World, user: Any, incident: Any) -> str:
    response = api(user).get(f"/api/incidents/{incident.pk}/")
    assert response.status_code == 200
    phone: str = response.json()["caller_phone"]
    return phone


def test_phone_masking_keeps_the_ends() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0879-2123456") == "087*****3456"
    assert mask_phone("110") == "***"
    assert mask_phone("") == ""


@pytest.mark.parametrize("who", ["commander", "dispatcher", "auxiliary", "station_user"])
def test_incident_lists_mask_the_caller_phone_for_every_role(world: World, who: str) -> None:
    advance(world, new_incident(world), "dispatched")
    rows = api(getattr(world, who)).get("/api/incidents/").json()["results"]
    assert rows and {row["caller_phone"] for row in rows} == {MASKED}
    assert not AccessLog.objects.exists()


def test_answers_to_actions_mask_the_caller_phone(world: World) -> None:
    incident = advance(world, new_incident(world), "dispatched")
    answer = api(world.auxiliary).post(f"/api/incidents/{incident.pk}/acknowledge/")
    assert answer.status_code == 200 and answer.json()["caller_phone"] == MASKED
    intake = api(world.dispatcher).post(
        "/api/incidents/",
        {
            "category": "dispute",
            "priority": 2,
            "location": {"lat": 22.775, "lon": 100.951},
            "address": "振兴大道1号",
            "caller_phone": "13912345678",
        },
        format="json",
    )
    assert intake.status_code == 201 and intake.json()["caller_phone"] == "139****5678"


def test_the_command_centre_sees_the_full_phone_in_the_detail_and_it_is_logged(
    world: World,
) -> None:
    incident = new_incident(world)
    assert detail_phone(world, world.dispatcher, incident) == FULL
    assert detail_phone(world, world.commander, incident) == FULL
    entries = AccessLog.objects.order_by("at")
    assert [e.user for e in entries] == [world.dispatcher, world.commander]
    assert entries[0].via == f"/api/incidents/{incident.pk}/"


def _in_shift(shift: int) -> Any:
    """Move the clock into the given shift (Asia/Shanghai hours of SHIFT_START_HOURS) today."""
    start = settings.SHIFT_START_HOURS[shift - 1]
    local = timezone.localtime(timezone.now(), ZoneInfo("Asia/Shanghai"))
    return time_machine.travel(local.replace(hour=(start + 2) % 24, minute=0), tick=False)


@pytest.fixture
def in_shift_1() -> Iterator[None]:
    """World's auxiliary is posted to shift 1: the tests run inside it."""
    with _in_shift(1):
        yield


def test_an_answer_with_the_full_phone_is_never_cached(world: World, in_shift_1: Any) -> None:
    incident = advance(world, new_incident(world), "dispatched")
    for user in (world.dispatcher, world.auxiliary):
        response = api(user).get(f"/api/incidents/{incident.pk}/")
        assert response.json()["caller_phone"] == FULL
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]


def test_the_crew_sees_the_full_phone_of_its_current_incident_only(
    world: World, in_shift_1: Any
) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    assert detail_phone(world, world.auxiliary, incident) == FULL
    assert caller_views(incident) == 1
    services.incident_resolve(incident=incident, summary="调解完毕", actor=world.officer)
    # Done with it: the crew still sees the incident, not the caller's number.
    assert detail_phone(world, world.auxiliary, incident) == MASKED
    assert caller_views(incident) == 1


def test_an_auxiliary_off_shift_does_not_see_the_callers_number(world: World) -> None:
    with _in_shift(1):
        incident = advance(world, new_incident(world), "on_scene")
        assert detail_phone(world, world.auxiliary, incident) == FULL
        assert detail_phone(world, world.officer, incident) == FULL
    with _in_shift(2):
        # The shift-1 auxiliary is at home; the unit's officer (all shifts) still calls back.
        assert detail_phone(world, world.auxiliary, incident) == MASKED
        assert detail_phone(world, world.officer, incident) == FULL


def test_a_station_sees_the_full_phone_once_the_incident_is_transferred_to_it(
    world: World,
) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    assert detail_phone(world, world.station_user, incident) == MASKED  # in its area only
    services.incident_transfer(incident=incident, reason="需立案侦查", actor=world.officer)
    assert detail_phone(world, world.station_user, incident) == FULL
    assert caller_views(incident) == 1


def test_opening_an_incident_in_the_admin_is_logged(world: World) -> None:
    incident = new_incident(world)
    world.commander.is_staff = True
    world.commander.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(world.commander)
    response = client.get(f"/admin/incidents/incident/{incident.pk}/change/")
    assert response.status_code == 200 and FULL in response.content.decode()
    assert caller_views(incident) == 1


def test_id_card_numbers_are_exported_by_hr_only(world: World) -> None:
    PersonFactory(id_card_number="53080219900101123X")
    for user, allowed in ((world.hr, True), (world.commander, False)):
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        client = Client()
        client.force_login(user)
        response = client.get("/admin/personnel/person/export/")
        assert (response.status_code == 200) is allowed, (user, response.status_code)
        listing = client.get("/admin/personnel/person/").content.decode()
        assert ("53080219900101123X" in listing) is allowed


def test_log_records_never_carry_phone_or_id_card_numbers() -> None:
    record = logging.LogRecord(
        "cad",
        logging.WARNING,
        __file__,
        1,
        "caller %s, id %s, incident 110-20260101-0001, at 1767225600123",
        (FULL, "53080219900101123X"),
        None,
    )
    assert PersonalDataFilter().filter(record)
    message = record.getMessage()
    assert FULL not in message and "53080219900101123X" not in message
    assert MASKED in message and "530802********123X" in message
    # Other long numbers are left alone.
    assert "110-20260101-0001" in message and "1767225600123" in message


def test_the_masking_filter_is_installed_on_the_log_handlers() -> None:
    handlers = logging.getLogger().handlers
    assert any(isinstance(f, PersonalDataFilter) for h in handlers for f in h.filters)


def test_exception_texts_are_masked_too() -> None:
    try:
        raise ValueError(f"bad phone {FULL}")
    except ValueError:
        import sys

        record = logging.LogRecord("cad", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    PersonalDataFilter().filter(record)
    assert record.exc_text is not None and FULL not in record.exc_text
    assert mask_personal_data(f"call {FULL}") == f"call {MASKED}"
