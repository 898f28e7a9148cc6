"""Several units on an incident, the crews' backup requests and the emergency button, as the
command map shows them (issue 13), in Chromium against a live daphne (see conftest.py).

The crews' side is driven through the services (off_loop: their pushes cannot run in the thread
where Playwright's loop runs); the patrol app's own tests are in test_patrol_reports.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from apps.common.roles import Role
from apps.field.models import Emergency
from apps.field.services import incident_backup_request, unit_emergency_raise
from apps.incidents import services
from apps.incidents.deadlines import deadline_fire
from apps.incidents.models import (
    AssignmentRole,
    AssignmentStatus,
    Deadline,
    Incident,
    IncidentAssignment,
)
from apps.units.models import Unit, UnitStatus
from tests.support.browser import (
    Live,
    Scene,
    close_settled,
    expect,
    off_loop,
    open_command_map,
    require_websockets,
    scene_incident,
    screenshot,
    to_en_route,
)
from tests.support.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What the pages show in Chinese, from the zh-Hans catalogue (the pages' default language).


@pytest.fixture
def desks(browser: Any, live_daphne: Live, transactional_db: Any) -> Iterator[Callable[[], Any]]:
    """Desktop-sized browser contexts for the command map, as many as a test opens (each closed,
    and the live server's work for it settled, before the database is flushed)."""
    contexts: list[Any] = []

    def open_context() -> Any:
        context = browser.new_context(
            base_url=live_daphne.url,
            viewport={"width": 1400, "height": 900},
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        close_settled(context)


def desk_page(context: Any, live: Live, user: Any) -> Any:
    """The command map, logged in, its live link up."""
    page = open_command_map(context, live, user)
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")
    return page


def db(fn: Callable[[], Any]) -> Any:
    """A read of the database from the test (in a worker thread, beside Playwright's loop)."""
    return off_loop(lambda: fn())


def alarm_sounded(page: Any, kind: str, times: int) -> None:
    """Wait until the page's alarm of `kind` has sounded `times` times (up to 10 s). Waited for
    in the page: wait_for_function evaluates a string, which the page's CSP forbids."""
    sounded = page.evaluate(
        """([kind, times]) => new Promise((resolve) => {
          const until = Date.now() + 10000;
          const check = () => {
            const n = window.cadCommand.alarms[kind];
            if (n >= times || Date.now() > until) resolve(n);
            else setTimeout(check, 100);
          };
          check();
        })""",
        [kind, times],
    )
    assert sounded >= times, f"{kind} sounded {sounded} times"


def on_scene(scene: Scene) -> Incident:
    """An incident near unit U0, its crew on scene."""
    return services.incident_arrive(incident=to_en_route(scene), actor=scene.crew)


def test_an_emergency_sounds_on_every_command_map_until_a_commander_takes_charge(
    desks: Callable[[], Any], scene: Scene, live_daphne: Live
) -> None:
    require_websockets()
    commander = UserFactory(username="chief", roles=[Role.COMMANDER])
    chief = desk_page(desks(), live_daphne, commander)
    dispatcher = desk_page(desks(), live_daphne, scene.dispatcher)
    emergency = off_loop(
        unit_emergency_raise,
        unit=scene.unit,
        actor=scene.crew,
        lat=22.7812,
        lon=100.9521,
        accuracy_m=12,
    )
    nearest = scene.city.units[1]
    for page in (chief, dispatcher):
        banner = page.locator(f"#emergencies [data-emergency='{emergency.pk}']")
        expect(banner).to_contain_text("U0")
        expect(page.locator("#emergencies")).to_be_visible()
        # The nearest free units, best first; not the unit in danger.
        expect(banner.locator(".offer").first).to_contain_text(nearest.callsign)
        expect(banner.locator(".offer", has_text="U0 ·")).to_have_count(0)
        # Where it was pressed, on the map.
        expect(page.locator(".sos-label")).to_contain_text("U0")
        assert page.evaluate("(id) => window.cadCommand.sosLayers.has(id)", emergency.pk)
        # It sounds, and sounds again: not a beep a busy desk may miss.
        alarm_sounded(page, "emergency", 2)
    screenshot(chief, "command-emergency")

    # A reload keeps it (the snapshot's open emergencies), its nearest units asked for again.
    dispatcher.reload()
    banner = dispatcher.locator(f"#emergencies [data-emergency='{emergency.pk}']")
    expect(banner).to_contain_text("U0")
    expect(banner.locator(".offer").first).to_contain_text(nearest.callsign)

    # A dispatcher cannot take charge of it: no button, the banner says it waits for a commander.
    expect(banner.locator("[data-ack]")).to_have_count(0)
    expect(banner.locator(".ack-wait")).to_be_visible()
    assert db(lambda: Emergency.objects.get(pk=emergency.pk).acknowledged_at) is None

    chief.click(f"#emergencies [data-ack='{emergency.pk}']")
    for page in (chief, dispatcher):
        expect(page.locator("#emergencies")).to_be_hidden()
        expect(page.locator(".sos-label")).to_have_count(0)
        expect(page.locator("#flash-msg")).to_contain_text("chief")
        assert page.evaluate("window.cadCommand.sosLayers.size") == 0
    acknowledged = db(lambda: Emergency.objects.get(pk=emergency.pk))
    assert acknowledged.acknowledged_by_id == commander.pk


def test_a_backup_request_offers_the_nearest_units_and_one_click_sends_one(
    desks: Callable[[], Any], scene: Scene, live_daphne: Live
) -> None:
    require_websockets()
    incident = on_scene(scene)
    page = desk_page(desks(), live_daphne, scene.dispatcher)
    other = desk_page(desks(), live_daphne, UserFactory(username="desk2", roles=[Role.DISPATCHER]))
    off_loop(
        incident_backup_request,
        incident=incident,
        actor=scene.crew,
        count=1,
        reason="对方人多，需要增援",
    )
    request = page.locator(f"#requests [data-request='{incident.pk}']")
    expect(request).to_contain_text("对方人多，需要增援")
    expect(request).to_contain_text(incident.number)
    expect(page.locator("#requests-head")).to_be_visible()
    assert page.evaluate("window.cadCommand.alarms.backup") == 1
    expect(page.locator("body")).to_have_class(re.compile(r"\bflash-alarm\b"))
    # Ranked by travel time: U1 (the next staging point east) first; U0 works the incident.
    backup = scene.city.units[1]
    offers = request.locator("[data-send]")
    expect(offers.first).to_have_attribute("data-send", str(backup.pk))
    expect(request.locator(f"[data-send='{scene.unit.pk}']")).to_have_count(0)
    screenshot(page, "command-backup-request")

    expect(other.locator(f"#requests [data-request='{incident.pk}']")).to_be_visible()

    offers.first.click()
    # Answered (one unit asked for, one sent): the request goes, on every map; the incident shows
    # both units.
    expect(page.locator("#requests li")).to_have_count(0)
    expect(other.locator("#requests li")).to_have_count(0)
    crew = page.locator("#detail .crew li:not(.cleared)")
    expect(crew).to_have_count(2)
    expect(crew.nth(0)).to_have_attribute("data-role", "primary")
    expect(crew.nth(0)).to_contain_text("U0")
    expect(crew.nth(1)).to_have_attribute("data-role", "backup")
    expect(crew.nth(1)).to_contain_text(backup.callsign)
    expect(page.locator(f"#incidents li[data-incident='{incident.pk}']")).to_contain_text("U0 + U1")
    screenshot(page, "command-backup-sent")
    sent = db(lambda: IncidentAssignment.objects.get(incident=incident, unit=backup))
    assert (sent.role, sent.status) == (AssignmentRole.BACKUP, AssignmentStatus.DISPATCHED)
    fresh = db(lambda: Incident.objects.get(pk=incident.pk))
    assert (fresh.status, fresh.unit_id) == ("on_scene", scene.unit.pk)


def test_a_backup_request_waiting_for_units_is_still_there_after_a_reload(
    desks: Callable[[], Any], scene: Scene, live_daphne: Live
) -> None:
    """A dispatcher who reloads the command map (or opens it later) still sees a crew's request
    for backup until as many units went as it asked for."""
    require_websockets()
    incident = on_scene(scene)
    off_loop(
        incident_backup_request,
        incident=incident,
        actor=scene.crew,
        count=1,
        reason="对方持械，需要增援",
    )
    page = desk_page(desks(), live_daphne, scene.dispatcher)
    request = page.locator(f"#requests [data-request='{incident.pk}']")
    expect(request).to_contain_text("对方持械，需要增援")
    expect(page.locator("#requests-head")).to_be_visible()
    backup = scene.city.units[1]
    expect(request.locator("[data-send]").first).to_have_attribute("data-send", str(backup.pk))
    # Closed here: gone from this map until it is loaded again; still waiting, it comes back.
    request.locator("[data-dismiss]").click()
    expect(page.locator("#requests li")).to_have_count(0)
    page.reload()
    expect(request).to_contain_text("对方持械，需要增援")
    request.locator(f"[data-send='{backup.pk}']").click()
    expect(page.locator("#requests li")).to_have_count(0)
    page.reload()
    expect(page.locator(f"#incidents li[data-incident='{incident.pk}']")).to_contain_text("U0 + U1")
    expect(page.locator("#requests li")).to_have_count(0)
    expect(page.locator("#requests-head")).to_be_hidden()


def test_a_backup_is_sent_from_the_panel_and_released_from_it(
    desks: Callable[[], Any], scene: Scene, live_daphne: Live
) -> None:
    require_websockets()
    incident = on_scene(scene)
    backup = scene.city.units[1]
    page = desk_page(desks(), live_daphne, scene.dispatcher)
    errors: list[str] = []  # what the page's scripts threw (a rejected promise included)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.click(f"#incidents li[data-incident='{incident.pk}']")
    expect(page.locator("#detail .crew li")).to_have_count(1)
    # The primary is not released from here: it resolves, transfers or is taken off.
    expect(page.locator("#detail [data-release]")).to_have_count(0)

    # 增援: the free units ranked, the unit on the incident not among them.
    page.click("#detail [data-more]")
    expect(page.locator("#detail [data-dispatch]")).to_have_count(3)
    expect(page.locator(f"#detail [data-dispatch='{scene.unit.pk}']")).to_have_count(0)
    page.click(f"#detail [data-dispatch='{backup.pk}']")
    row = page.locator(f"#detail .crew li[data-crew='{backup.pk}']")
    expect(row).to_have_attribute("data-role", "backup")
    expect(row).to_have_attribute("data-status", "dispatched")
    expect(page.locator("#detail [data-more]")).to_be_visible()  # the list closed again

    # The backup's steps reach the panel live (here the command centre, for its crew on the radio).
    off_loop(
        services.incident_acknowledge,
        incident=incident,
        actor=scene.dispatcher,
        unit_id=backup.pk,
    )
    expect(row).to_have_attribute("data-status", "acknowledged")

    # 收队, with a reason; a frame that renders the panel meanwhile keeps what is being typed.
    row.locator("[data-release]").click()
    expect(page.locator("#act-form")).to_be_visible()
    page.fill("#act-text", "现场已控制")
    off_loop(services.incident_note, incident=incident, actor=scene.dispatcher, text="嫌疑人已离开")
    expect(page.locator("#detail .timeline [data-kind='note']")).to_contain_text("嫌疑人已离开")
    expect(page.locator("#act-text")).to_have_value("现场已控制")
    page.click("#act-form button[type=submit]")

    expect(row).to_have_attribute("data-status", "cleared")
    expect(row).to_have_class(re.compile(r"\bcleared\b"))
    expect(row.locator("[data-release]")).to_have_count(0)
    expect(page.locator("#detail .crew li:not(.cleared)")).to_have_count(1)
    expect(page.locator("#act-form")).to_be_hidden()
    expect(page.locator(f"#incidents li[data-incident='{incident.pk}']")).not_to_contain_text(
        backup.callsign
    )
    screenshot(page, "command-backup-released")
    released = db(lambda: IncidentAssignment.objects.get(incident=incident, unit=backup))
    assert (released.status, released.clear_reason) == (AssignmentStatus.CLEARED, "现场已控制")
    unit = db(lambda: Unit.objects.get(pk=backup.pk))
    assert unit.current_incident_id is None and unit.status in (
        UnitStatus.AVAILABLE,
        UnitStatus.PATROLLING,
    )
    fresh = db(lambda: Incident.objects.get(pk=incident.pk))
    assert (fresh.status, fresh.unit_id) == ("on_scene", scene.unit.pk)
    assert errors == []


def test_a_priority_1_incident_diverts_a_unit_from_a_priority_3_one_after_confirmation(
    desks: Callable[[], Any], scene: Scene, live_daphne: Live
) -> None:
    require_websockets()
    minor = services.incident_create(
        actor=scene.dispatcher,
        lat=22.775,
        lon=100.951,
        category="other",
        priority=3,
        address="思茅区月光路3号",
    )
    services.incident_dispatch(incident=minor, unit=scene.unit, actor=scene.dispatcher)
    urgent = services.incident_create(
        actor=scene.dispatcher,
        lat=22.776,
        lon=100.952,
        category="criminal",
        priority=1,
        address="思茅区振兴大道8号",
    )
    page = desk_page(desks(), live_daphne, scene.dispatcher)
    # Priority 1 first on the board, marked urgent.
    expect(page.locator("#incidents li").first).to_have_attribute("data-priority", "1")
    page.click(f"#incidents li[data-incident='{urgent.pk}']")
    divert = page.locator(f"#detail [data-divert='{scene.unit.pk}']")
    expect(divert).to_be_visible()
    expect(page.locator("#detail")).to_contain_text(minor.number)
    divert.click()
    # The dispatcher confirms with a reason.
    page.fill("#act-text", "持刀伤人，就近改派")
    page.click("#act-form button[type=submit]")
    expect(page.locator(f"#incidents li[data-incident='{urgent.pk}']")).to_contain_text(
        scene.unit.callsign
    )
    fresh = db(lambda: Incident.objects.get(pk=urgent.pk))
    assert (fresh.status, fresh.unit_id) == ("dispatched", scene.unit.pk)
    back = db(lambda: Incident.objects.get(pk=minor.pk))
    assert (back.status, back.unit_id) == ("received", None)
    screenshot(page, "command-divert")


def test_the_crews_photos_show_in_the_incident_panel(
    desks: Callable[[], Any], scene: Scene, live_daphne: Live
) -> None:
    import io

    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from apps.field.services import attachment_add

    incident = on_scene(scene)
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 90, 200)).save(out, "JPEG")
    photo = attachment_add(
        incident=incident,
        actor=scene.crew,
        upload=SimpleUploadedFile("scene.jpg", out.getvalue(), content_type="image/jpeg"),
        caption="现场",
    )
    page = desk_page(desks(), live_daphne, scene.dispatcher)
    page.click(f"#incidents li[data-incident='{incident.pk}']")
    thumb = page.locator(f"#detail .photos [data-photo='{photo.pk}'] img")
    expect(thumb).to_be_visible()
    # The thumbnail really loaded (through the API's access check, with the session).
    expect(thumb).to_have_js_property("complete", True)
    assert thumb.evaluate("(img) => img.naturalWidth") == settings.ATTACHMENT_THUMBNAIL_PX


def test_help_for_a_crew_on_no_incident_is_one_incident_and_one_click_away(
    desks: Callable[[], Any], scene: Scene, live_daphne: Live
) -> None:
    require_websockets()
    emergency = off_loop(
        unit_emergency_raise, unit=scene.unit, actor=scene.crew, lat=22.7812, lon=100.9521
    )
    page = desk_page(desks(), live_daphne, scene.dispatcher)
    banner = page.locator(f"#emergencies [data-emergency='{emergency.pk}']")
    expect(banner).to_be_visible()
    # No incident to send help to: the nearest units are listed, not yet dispatchable.
    expect(banner.locator("[data-send]")).to_have_count(0)
    banner.locator("[data-sos-incident]").click()
    nearest = scene.city.units[1]
    send = banner.locator(f"[data-send='{nearest.pk}']")
    expect(send).to_be_visible()
    send.click()
    # Sent: offered no more, its status shown instead.
    expect(send).to_have_count(0)
    expect(banner.locator(".offer", has_text=nearest.callsign)).to_contain_text("已派警")
    opened = db(lambda: Emergency.objects.select_related("incident").get(pk=emergency.pk).incident)
    assert opened is not None and opened.priority == 1
    fresh = db(lambda: Incident.objects.get(pk=opened.pk))
    assert (fresh.status, fresh.unit_id) == ("dispatched", nearest.pk)


def miss_acknowledge(incident: Incident, unit: Unit) -> None:
    """The unit's 1-minute acknowledge deadline fires unmet (judged a second after it was due)."""
    deadline = Deadline.objects.get(incident=incident, unit=unit, kind="acknowledge")
    off_loop(deadline_fire, deadline_id=deadline.pk, now=deadline.due_at + timedelta(seconds=1))


def test_only_the_primarys_missed_target_marks_an_incident_and_a_late_report_clears_it(
    desks: Callable[[], Any], scene: Scene, live_daphne: Live
) -> None:
    """The map shows the incident's marks as the server keeps them: a backup's missed acknowledge
    sounds the alarm without marking the incident (its primary acknowledged); the primary's marks
    it; the crew's report that it did acknowledge in time, arriving late, unmarks it."""
    require_websockets()
    incident = on_scene(scene)
    backup, other_unit = scene.city.units[1], scene.city.units[2]
    services.incident_dispatch(incident=incident, unit=backup, actor=scene.dispatcher)
    other = scene_incident(scene, address="思茅区月光路2号")
    services.incident_dispatch(incident=other, unit=other_unit, actor=scene.dispatcher)
    page = desk_page(desks(), live_daphne, scene.dispatcher)
    escalated = re.compile(r"\bescalated\b")

    def row(i: Incident) -> Any:
        return page.locator(f"#incidents li[data-incident='{i.pk}']")

    expect(row(other)).to_be_visible()
    miss_acknowledge(incident, backup)
    alarm_sounded(page, "escalated", 1)
    expect(row(incident)).not_to_have_class(escalated)
    miss_acknowledge(other, other_unit)
    alarm_sounded(page, "escalated", 2)
    expect(row(other)).to_have_class(escalated)
    expect(row(incident)).not_to_have_class(escalated)
    # The crew acknowledged before the deadline (as its phone reports once back online).
    off_loop(services.incident_acknowledge, incident=other, actor=scene.dispatcher)
    expect(row(other)).not_to_have_class(escalated)
    page.reload()
    expect(row(other)).to_be_visible()
    expect(row(other)).not_to_have_class(escalated)
    assert Incident.objects.get(pk=other.pk).escalated_at is None
