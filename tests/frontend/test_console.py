"""The call-taker's console (接警台) in Chromium against a live daphne (see conftest.py): from the
telephony link's report of a ringing call to the alert on the patrol phone, by keyboard, within a
stated budget of keys and clicks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from apps.calls.models import Call
from apps.common.roles import Role
from apps.field.services import incident_backup_request
from apps.incidents import services
from apps.incidents.models import AssignmentRole, Event, Incident, IncidentAssignment
from apps.places.models import PlaceKind
from apps.places.services import PlaceData, places_upsert
from tests.support.browser import (
    Live,
    Scene,
    close_settled,
    expect,
    log_in,
    off_loop,
    open_command_map,
    require_websockets,
    screenshot,
    to_en_route,
)
from tests.support.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What taking a call may cost the call-taker, from the ring to a dispatched unit: F2, the few
# characters of the address, Enter on the suggestion, the category key, Ctrl+Enter. Characters
# typed count one key each (an IME commits a word at once; this is the stricter count).
KEY_BUDGET = 10
CLICK_BUDGET = 0


@dataclass
class Inputs:
    """The call-taker's keys and clicks, counted as they are made."""

    page: Any
    keys: int = 0
    clicks: int = 0

    def press(self, key: str) -> None:
        self.keys += 1
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.keys += len(text)
        self.page.keyboard.type(text)

    def click(self, selector: str) -> None:
        self.clicks += 1
        self.page.click(selector)


def gazetteer() -> None:
    """A few places of the small city (near staging point p0 at 22.78, 100.95)."""
    places_upsert(
        places=[
            PlaceData(
                name="振兴大道与月光路交叉口",
                kind=PlaceKind.INTERSECTION,
                lat=22.7812,
                lon=100.9521,
                address="思茅区",
                code="x1",
            ),
            PlaceData(name="振兴大道", kind=PlaceKind.ROAD, lat=22.779, lon=100.96, code="r1"),
            PlaceData(name="月光路", kind=PlaceKind.ROAD, lat=22.785, lon=100.952, code="r2"),
            PlaceData(
                name="振兴小学",
                kind=PlaceKind.POI,
                lat=22.79,
                lon=101.0,
                address="思茅区",
                code="s1",
            ),
        ]
    )


@pytest.fixture
def desk(browser: Any, live_daphne: Live, transactional_db: Any) -> Iterator[Any]:
    """A desktop-sized browser context for the command map (closed, and the live server's work
    for it settled, before the database is flushed)."""
    context = browser.new_context(
        base_url=live_daphne.url,
        viewport={"width": 1400, "height": 900},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(20_000)
    yield context
    close_settled(context)


def desk_page(desk: Any, live: Live, user: Any) -> Any:
    """The command map, logged in, its live link up."""
    page = open_command_map(desk, live, user)
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")
    return page


def report_call(api: Any, **body: Any) -> dict[str, Any]:
    """The telephony link's service account reports a ringing call."""
    token = api.post("/api/auth/token/", data={"username": "telephony", "password": "pw"}).json()
    answer = api.post(
        "/api/calls/",
        headers={"Authorization": f"Token {token['token']}"},
        data={"received_at": timezone.now().isoformat(), "line": "110-1", **body},
    )
    assert answer.status == 201, answer.text()
    result: dict[str, Any] = answer.json()
    return result


def test_a_ringing_call_is_taken_and_the_nearest_unit_dispatched_by_keyboard(
    desk: Any, phone: Any, scene: Scene, live_daphne: Live
) -> None:
    require_websockets()
    gazetteer()
    UserFactory(username="telephony", roles=[Role.TELEPHONY])
    crew_page = phone.new_page()
    log_in(crew_page)
    expect(crew_page.locator("#conn")).to_have_attribute("data-state", "online")
    page = desk_page(desk, live_daphne, scene.dispatcher)

    call = report_call(
        page.context.request,
        caller_phone="13912345678",
        location={"lat": 22.7806, "lon": 100.9512, "accuracy_m": 60},
    )
    ringing = page.locator(f"#ringing li[data-call='{call['id']}']")
    expect(ringing).to_contain_text("13912345678")
    assert page.evaluate("window.cadCommand.desk.calls.size") == 1

    inputs = Inputs(page)
    inputs.press("F2")  # take the oldest ringing call
    expect(page.locator("#console")).to_be_visible()
    expect(page.locator("#f-phone")).to_have_value("13912345678")
    # The carrier's location pre-places the pin: the grid cell and the ranked units show at once.
    expect(page.locator("#f-pin")).to_contain_text("R1C0")
    expect(page.locator("#f-ranked li.best")).to_contain_text("U0")
    expect(page.locator("#f-address")).to_be_focused()

    inputs.type("振兴月光")  # part of both road names, in any order
    first = page.locator("#f-suggest li").first
    expect(first).to_contain_text("振兴大道与月光路交叉口")
    inputs.press("Enter")  # picks the highlighted suggestion and moves the pin there
    expect(page.locator("#f-address")).to_have_value("思茅区振兴大道与月光路交叉口")
    expect(page.locator("#f-category")).to_be_focused()
    inputs.press("2")  # public order
    expect(page.locator("#f-category [data-category='public_order']")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator("#f-ranked li.best")).to_contain_text("U0")
    screenshot(page, "console-form")
    inputs.press("Control+Enter")  # dispatch the highlighted unit

    # The crew's phone is alerted with the address the call-taker picked.
    expect(crew_page.locator("#alert")).to_be_visible()
    expect(crew_page.locator("#alert-address")).to_have_text("思茅区振兴大道与月光路交叉口")
    expect(page.locator("#console")).to_be_hidden()
    expect(page.locator(f"#ringing li[data-call='{call['id']}']")).to_have_count(0)
    screenshot(page, "console-dispatched")
    screenshot(crew_page, "console-alert-on-phone")

    assert inputs.keys <= KEY_BUDGET, f"{inputs.keys} keys"
    assert inputs.clicks <= CLICK_BUDGET, f"{inputs.clicks} clicks"
    incident = Incident.objects.get()
    taken = Call.objects.get(pk=call["id"])
    assert (incident.status, incident.unit_id) == ("dispatched", scene.unit.pk)
    assert (incident.category, incident.caller_phone) == ("public_order", "13912345678")
    assert abs(incident.lat - 22.7812) < 1e-6 and abs(incident.lon - 100.9521) < 1e-6
    assert (taken.status, taken.incident_id) == ("incident", incident.pk)
    # The incident was received when the call was, not when the form was sent.
    assert incident.received_at == taken.received_at


def test_a_further_call_is_linked_to_the_open_incident_near_the_pin(
    desk: Any, scene: Scene, live_daphne: Live
) -> None:
    require_websockets()
    UserFactory(username="telephony", roles=[Role.TELEPHONY])
    open_incident = services.incident_create(
        actor=scene.dispatcher,
        lat=22.7806,
        lon=100.9512,
        category="dispute",
        priority=2,
        address="思茅区振兴大道1号",
    )
    page = desk_page(desk, live_daphne, scene.dispatcher)
    call = report_call(
        page.context.request,
        caller_phone="13700000001",
        location={"lat": 22.7808, "lon": 100.9514, "accuracy_m": 30},
    )
    expect(page.locator(f"#ringing li[data-call='{call['id']}']")).to_be_visible()
    page.click(f"[data-take='{call['id']}']")
    link = page.locator(f"#f-nearby [data-link='{open_incident.pk}']")
    expect(link).to_be_visible()
    page.fill("#f-description", "邻居再次来电")
    link.click()
    expect(page.locator("#console")).to_be_hidden()
    expect(page.locator("#detail")).to_contain_text(open_incident.number)
    expect(page.locator("#detail .timeline [data-kind='call_linked']")).to_be_visible()
    assert Incident.objects.count() == 1
    linked = Call.objects.get(pk=call["id"])
    assert (linked.status, linked.incident_id) == ("linked", open_incident.pk)
    event = Event.objects.get(incident=open_incident, kind="call_linked")
    assert event.payload["call"] == linked.pk and "邻居再次来电" in event.reason


def take_a_located_call(page: Any, address: str, *, best: str) -> dict[str, Any]:
    """A call rings with the carrier's location, is taken, and is filled in enough to be sent
    (an address, a category); `best` is the unit the form ranks first."""
    call = report_call(
        page.context.request,
        caller_phone="13912345678",
        location={"lat": 22.7806, "lon": 100.9512, "accuracy_m": 60},
    )
    page.click(f"[data-take='{call['id']}']")
    expect(page.locator("#f-ranked li.best")).to_contain_text(best)
    page.fill("#f-address", address)
    page.click("#f-category [data-category='dispute']")
    return call


def test_a_call_refused_for_a_field_goes_through_once_the_field_is_corrected(
    desk: Any, scene: Scene, live_daphne: Live
) -> None:
    """The server keeps its answer to a request key, refusals included (a replay sees what the
    first request got): the corrected call is sent with a new key, not answered with the old
    refusal again."""
    require_websockets()
    UserFactory(username="telephony", roles=[Role.TELEPHONY])
    page = desk_page(desk, live_daphne, scene.dispatcher)
    call = take_a_located_call(page, "思茅区振兴大道1号", best="U0")
    page.fill("#f-phone", "abc-not-a-phone")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#f-msg")).to_contain_text("报警电话")
    assert Incident.objects.count() == 0
    page.fill("#f-phone", "13600004444")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#console")).to_be_hidden()
    incident = Incident.objects.get()
    assert (incident.caller_phone, incident.status) == ("13600004444", "dispatched")
    assert Call.objects.get(pk=call["id"]).incident_id == incident.pk


def test_a_backup_sent_from_the_map_while_a_call_is_typed_leaves_the_call_alone(
    desk: Any, scene: Scene, live_daphne: Live
) -> None:
    """The form's 派警 buttons and a backup request's are told apart: answering a crew's request
    while a call is half typed sends the backup only, and the call stays in the form."""
    require_websockets()
    UserFactory(username="telephony", roles=[Role.TELEPHONY])
    incident = services.incident_arrive(incident=to_en_route(scene), actor=scene.crew)
    off_loop(
        incident_backup_request, incident=incident, actor=scene.crew, count=1, reason="需要增援"
    )
    page = desk_page(desk, live_daphne, scene.dispatcher)
    backup = scene.city.units[1]
    offer = page.locator(f"#requests [data-request='{incident.pk}'] [data-send='{backup.pk}']")
    expect(offer).to_be_visible()
    page.keyboard.press("F2")  # no call rings: an empty form, with nothing to close
    expect(page.locator("#console")).to_be_visible()
    expect(page.locator("#f-close-reason")).to_be_hidden()
    page.click("#f-cancel")
    call = take_a_located_call(page, "思茅区月光路", best="U1")  # it could be sent now
    offer.click()
    expect(page.locator("#requests li")).to_have_count(0)
    expect(page.locator("#console")).to_be_visible()
    expect(page.locator("#f-address")).to_have_value("思茅区月光路")
    assert list(Incident.objects.values_list("pk", flat=True)) == [incident.pk]
    assert Call.objects.get(pk=call["id"]).status == "ringing"
    sent = IncidentAssignment.objects.get(incident=incident, unit=backup)
    assert sent.role == AssignmentRole.BACKUP


def test_sound_is_off_until_a_click_and_a_ringing_call_flashes_the_map(
    desk: Any, scene: Scene, live_daphne: Live
) -> None:
    require_websockets()
    UserFactory(username="telephony", roles=[Role.TELEPHONY])
    page = desk_page(desk, live_daphne, scene.dispatcher)
    sound = page.locator("#sound")
    # Autoplay: without a click the browser keeps audio off, and the page says so.
    expect(sound).to_have_attribute("data-state", "off")
    report_call(page.context.request, caller_phone="13700000002")
    expect(page.locator("body")).to_have_class(re.compile(r"\bflash-ring\b"))
    assert page.evaluate("window.cadCommand.alarms.ringing") == 1
    sound.click()
    expect(sound).to_have_attribute("data-state", "on")


def test_the_address_field_waits_for_the_input_method_to_commit(
    desk: Any, scene: Scene, live_daphne: Live
) -> None:
    """While a Chinese input method composes (pinyin letters, not yet characters), the console
    neither searches nor takes keys as shortcuts; the committed characters are searched."""
    require_websockets()
    gazetteer()
    page = desk_page(desk, live_daphne, scene.dispatcher)
    page.keyboard.press("F2")
    expect(page.locator("#console")).to_be_visible()
    page.focus("#f-address")
    searches: list[str] = []
    page.on("request", lambda r: "/api/places/?" in r.url and searches.append(r.url))
    ime = page.context.new_cdp_session(page)
    ime.send(
        "Input.imeSetComposition", {"text": "zhenxing", "selectionStart": 8, "selectionEnd": 8}
    )
    expect(page.locator("#f-address")).to_have_value("zhenxing")
    # Composing: the input events of the pinyin letters set off no search.
    assert page.evaluate("window.cadCommand.desk.searchesScheduled") == 0
    assert searches == []
    ime.send("Input.insertText", {"text": "振兴"})
    expect(page.locator("#f-address")).to_have_value("振兴")
    expect(page.locator("#f-suggest li").first).to_contain_text("振兴")
    assert searches and all("zhenxing" not in s for s in searches)
