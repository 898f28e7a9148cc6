"""The patrol app's reports beyond the steps of an incident (issue 13), in Chromium at 360×640
against a live daphne: working as a backup and clearing, a note both ways, a backup request, the
duty status, an incident raised on patrol, and the emergency button pressed offline."""

from __future__ import annotations

from typing import Any

import pytest

from apps.common.models import Notice
from apps.common.notices import COMMAND
from apps.common.roles import Role
from apps.field.models import Emergency
from apps.field.services import unit_emergency_acknowledge
from apps.incidents import services
from apps.incidents.models import (
    AssignmentRole,
    AssignmentStatus,
    Event,
    Incident,
    IncidentAssignment,
    IncidentStatus,
    Origin,
)
from apps.units.models import Unit, UnitStatus
from tests.support.browser import (
    Scene,
    expect,
    log_in,
    off_loop,
    require_websockets,
    scene_incident,
    screenshot,
    to_en_route,
)
from tests.support.factories import UserFactory
from tests.support.procs import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def db(fn: Any) -> Any:
    """A read of the database from the test (in a worker thread, beside Playwright's loop)."""
    return off_loop(lambda: fn())


def test_a_backup_crew_acknowledges_arrives_and_clears_while_the_primary_keeps_the_incident(
    phone: Any, scene: Scene
) -> None:
    require_websockets()
    primary = scene.city.units[1]
    incident = scene_incident(scene)
    services.incident_dispatch(incident=incident, unit=primary, actor=scene.dispatcher)
    page = phone.new_page()
    log_in(page)
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")
    off_loop(services.incident_dispatch, incident=incident, unit=scene.unit, actor=scene.dispatcher)
    # The backup's alert, though the incident itself is further on than "dispatched".
    expect(page.locator("#alert")).to_be_visible()
    page.click("#accept")
    expect(page.locator("#inc-status")).to_have_attribute("data-status", "acknowledged")
    expect(page.locator("#incident")).to_contain_text("增援")
    page.click("[data-do=en_route]")
    page.click("[data-do=arrive]")
    expect(page.locator("#inc-status")).to_have_attribute("data-status", "on_scene")
    # A backup does not close the incident: it clears (收队).
    steps = page.locator("#actions [data-do]").evaluate_all("(b) => b.map((x) => x.dataset.do)")
    assert steps[0] == "release" and "resolve" not in steps and "transfer" not in steps
    screenshot(page, "app-backup-on-scene")
    page.click("[data-do=release]")
    page.fill("#dialog-form textarea[name=reason]", "现场已控制")
    page.click("#dialog-form button[type=submit]")
    expect(page.locator("#incident")).to_contain_text("当前无警情")

    def cleared() -> IncidentAssignment | None:
        row = IncidentAssignment.objects.get(incident=incident, unit=scene.unit)
        return row if row.status == AssignmentStatus.CLEARED else None

    backup = wait_for(lambda: db(cleared), timeout=30, what="the backup released")
    assert backup.role == AssignmentRole.BACKUP
    assert backup.arrived_at is not None and backup.cleared_at is not None
    fresh = db(lambda: Incident.objects.get(pk=incident.pk))
    assert (fresh.status, fresh.unit_id) == (IncidentStatus.DISPATCHED, primary.pk)
    unit = db(lambda: Unit.objects.get(pk=scene.unit.pk))
    assert unit.status == UnitStatus.PATROLLING and unit.current_incident_id is None


def test_notes_go_both_ways_and_a_backup_request_reaches_the_command_centre(
    phone: Any, scene: Scene
) -> None:
    require_websockets()
    incident = services.incident_arrive(incident=to_en_route(scene), actor=scene.crew)
    page = phone.new_page()
    log_in(page)
    expect(page.locator("#inc-status")).to_have_attribute("data-status", "on_scene")
    # The command centre's note reaches the phone's card.
    off_loop(services.incident_note, incident=incident, actor=scene.dispatcher, text="嫌疑人穿红衣")
    expect(page.locator("#notes")).to_contain_text("嫌疑人穿红衣")
    # The crew's note goes on the timeline; one of only spaces is not sent, and the crew is told.
    page.click("[data-do=note]")
    page.fill("#dialog-form textarea[name=text]", "   ")
    page.click("#dialog-form button[type=submit]")
    expect(page.locator("#toast")).to_contain_text("必填")
    expect(page.locator("#dialog")).to_be_visible()
    page.fill("#dialog-form textarea[name=text]", "双方情绪激动")
    page.click("#dialog-form button[type=submit]")
    expect(page.locator("#notes")).to_contain_text("双方情绪激动")
    # Backup: two units, with a reason.
    page.click("[data-do=backup]")
    page.select_option("#dialog-form select[name=count]", "2")
    page.fill("#dialog-form textarea[name=reason]", "对方人多，需要增援")
    page.click("#dialog-form button[type=submit]")

    def requested() -> Notice | None:
        return (
            Notice.objects.filter(audience=COMMAND, type="incident.backup_requested")
            .order_by("-seq")
            .first()
        )

    notice = wait_for(lambda: db(requested), timeout=30, what="the backup request")
    assert notice.payload["count"] == 2 and notice.payload["reason"] == "对方人多，需要增援"
    assert notice.payload["nearest"], "free units offered"
    assert scene.unit.pk not in [n["unit"] for n in notice.payload["nearest"]]
    kinds = db(lambda: list(Event.objects.filter(incident=incident).values_list("kind", flat=True)))
    assert kinds.count("note") == 2 and "backup_requested" in kinds


def test_duty_status_and_an_incident_raised_on_patrol(phone: Any, scene: Scene) -> None:
    page = phone.new_page()
    log_in(page)
    expect(page.locator("#incident")).to_contain_text("当前无警情")
    # Out of service needs a reason.
    page.click("[data-duty=out_of_service]")
    page.fill("#dialog-form textarea[name=reason]", "加油")
    page.click("#dialog-form button[type=submit]")

    def unit_status(status: str) -> bool:
        return db(lambda: Unit.objects.get(pk=scene.unit.pk).status) == status

    wait_for(lambda: unit_status(UnitStatus.OUT_OF_SERVICE), timeout=30, what="out of service")
    page.click("[data-duty=patrolling]")
    wait_for(lambda: unit_status(UnitStatus.PATROLLING), timeout=30, what="patrolling again")
    # Stopped in the street: the crew raises the incident, already on scene, where it stands.
    expect(page.locator("#gps")).not_to_have_text("无定位")
    page.click("[data-do=raise]")
    page.select_option("#dialog-form select[name=category]", "assistance")
    page.fill("#dialog-form input[name=address]", "思茅区月光路口")
    page.fill("#dialog-form textarea[name=description]", "老人走失求助")
    page.click("#dialog-form button[type=submit]")
    expect(page.locator("#inc-status")).to_have_attribute("data-status", "on_scene")
    raised = db(lambda: Incident.objects.get(origin=Origin.PATROL))
    assert (raised.unit_id, raised.category, raised.status) == (
        scene.unit.pk,
        "assistance",
        IncidentStatus.ON_SCENE,
    )
    assert raised.dispatched_at is None and raised.arrived_at is not None
    assert raised.grid_cell_id is not None  # located at the phone's position
    screenshot(page, "app-raised-on-patrol")


def test_the_emergency_button_pressed_offline_is_sent_on_reconnect_and_acknowledged(
    phone: Any, scene: Scene
) -> None:
    require_websockets()
    commander = UserFactory(username="chief", roles=[Role.COMMANDER])
    page = phone.new_page()
    log_in(page)
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")
    expect(page.locator("#gps")).not_to_have_text("无定位")  # the press carries the fix
    phone.set_offline(True)
    expect(page.locator("#conn")).to_have_attribute("data-state", "offline")
    sos = page.locator("#sos")
    sos.hover()
    page.mouse.down()
    # Held until the app takes it (a long press), then let go.
    expect(page.locator("#sos-state")).to_be_visible()
    page.mouse.up()
    expect(page.locator("#sos-state")).to_have_attribute("data-state", "sent")
    expect(page.locator("#queue-btn")).to_contain_text("(1)")
    assert db(lambda: Emergency.objects.count()) == 0
    phone.set_offline(False)
    emergency = wait_for(
        lambda: db(lambda: Emergency.objects.first()), timeout=30, what="the emergency"
    )
    assert emergency.unit_id == scene.unit.pk
    assert emergency.lat == pytest.approx(22.781) and emergency.lon == pytest.approx(100.951)
    frame = db(
        lambda: Notice.objects.filter(audience=COMMAND, type="unit.emergency").order_by("-seq")[0]
    )
    assert frame.payload["callsign"] == scene.unit.callsign
    off_loop(unit_emergency_acknowledge, emergency=emergency, actor=commander)
    expect(page.locator("#sos-state")).to_have_attribute("data-state", "acknowledged")
    screenshot(page, "app-emergency-acknowledged")


def test_a_short_press_raises_no_emergency(phone: Any, scene: Scene) -> None:
    page = phone.new_page()
    log_in(page)
    sos = page.locator("#sos")
    sos.hover()
    page.mouse.down()
    page.mouse.up()
    # The press ended before the hold: a later action goes through alone.
    page.click("[data-duty=patrolling]")
    wait_for(
        lambda: db(lambda: Unit.objects.get(pk=scene.unit.pk).status) == UnitStatus.PATROLLING,
        timeout=30,
        what="the duty status",
    )
    expect(page.locator("#sos-state")).to_be_hidden()
    assert db(lambda: Emergency.objects.count()) == 0


def test_a_photo_taken_offline_is_sent_on_reconnect_without_its_gps(
    phone: Any, scene: Scene, tmp_path: Any
) -> None:
    import io

    from PIL import Image

    from apps.field.models import Attachment

    incident = services.incident_arrive(incident=to_en_route(scene), actor=scene.crew)
    image = Image.new("RGB", (800, 600), (10, 120, 40))
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (22.0, 46.0, 48.0), 3: "E", 4: (100.0, 57.0, 3.0)})
    photo = tmp_path / "scene.jpg"
    image.save(photo, "JPEG", exif=exif)
    page = phone.new_page()
    log_in(page)
    expect(page.locator("#inc-status")).to_have_attribute("data-status", "on_scene")
    phone.set_offline(True)
    expect(page.locator("#conn")).to_have_attribute("data-state", "offline")
    # The camera button opens the phone's camera (a file input); the photo goes to the outbox.
    page.set_input_files("#camera", str(photo))
    expect(page.locator("#queue-btn")).to_contain_text("(1)")
    assert db(lambda: Attachment.objects.count()) == 0
    phone.set_offline(False)
    stored = wait_for(lambda: db(lambda: Attachment.objects.first()), timeout=30, what="the photo")
    assert (stored.incident_id, stored.unit_id) == (incident.pk, scene.unit.pk)
    assert (stored.width, stored.height) == (800, 600)
    kept = db(lambda: stored.file.storage.open(stored.file.name).read())
    assert not Image.open(io.BytesIO(kept)).getexif()
    expect(page.locator("#notes")).to_contain_text("现场照片")
    expect(page.locator("#queue-btn")).to_contain_text("(0)")
