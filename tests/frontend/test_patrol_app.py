"""The patrol app in Chromium at 360×640 against a live daphne (see conftest.py)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.incidents import services
from apps.incidents.models import Event, Incident
from frontend.api import health_key
from tests.support.browser import (
    CHROMIUM,
    PHONE,
    Live,
    Scene,
    close_settled,
    expect,
    log_in,
    new_phone,
    off_loop,
    require_websockets,
    scene_incident,
    screenshot,
    status_changes,
    to_en_route,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BUDGET_BYTES = 150 * 1024


CONTROLLED = """() => new Promise((resolve) => {
  if (navigator.serviceWorker.controller) resolve(true);
  else navigator.serviceWorker.addEventListener("controllerchange", () => resolve(true));
})"""


def wait_for_service_worker(page: Any) -> None:
    # A promise evaluated once, not a polled predicate: the page's CSP forbids eval.
    page.evaluate(CONTROLLED)


# --- shell, budget, installability ---------------------------------------------------------


def test_first_load_of_app_js_and_css_stays_within_150_kb(phone: Any, scene: Scene) -> None:
    page = phone.new_page()
    sizes: dict[str, int] = {}

    def count(response: Any) -> None:
        url = response.url
        kind = response.request.resource_type
        if kind in ("script", "stylesheet") and "/static/leaflet/" not in url:
            sizes[url] = len(response.body())

    page.on("response", count)
    log_in(page)
    page.wait_for_load_state("networkidle")
    assert any(u.endswith("/static/app/main.js") for u in sizes), sizes
    assert any(u.endswith("/static/app/app.css") for u in sizes), sizes
    assert any(u.endswith("/static/common/geo.js") for u in sizes), sizes  # module imports count
    assert sum(sizes.values()) <= BUDGET_BYTES, sizes


def test_manifest_and_service_worker_pass_chromium_installability_checks(
    browser: Any, live_daphne: Live, scene: Scene, tmp_path: Any
) -> None:
    # A persistent profile: Chromium never offers installation in an incognito-like context.
    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=str(CHROMIUM),
        args=["--no-sandbox"],
        base_url=live_daphne.url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = context.new_page()
        page.goto("/app/")
        wait_for_service_worker(page)
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest.get("errors") == [], manifest.get("errors")
        installability = cdp.send("Page.getInstallabilityErrors")
        assert installability["installabilityErrors"] == []
        screenshot(page, "app-login")
    finally:
        context.close()


def test_reload_while_offline_opens_the_app_shell_from_the_service_worker(
    phone: Any, scene: Scene
) -> None:
    page = phone.new_page()
    log_in(page)
    wait_for_service_worker(page)
    phone.set_offline(True)
    page.reload()
    expect(page.locator("#main")).to_be_visible()
    expect(page.locator("#callsign")).to_have_text("U0")
    expect(page.locator("#conn")).to_have_attribute("data-state", "offline")
    screenshot(page, "app-offline")
    phone.set_offline(False)


def test_the_app_stays_usable_when_map_tiles_cannot_load_and_sends_its_heartbeat(
    phone: Any, scene: Scene
) -> None:
    page = phone.new_page()
    with page.expect_response(
        lambda r: (
            r.url.endswith(f"/api/units/{scene.unit.pk}/health/") and r.request.method == "POST"
        )
    ) as beat:
        log_in(page)
    assert beat.value.status == 200
    health = cache.get(health_key(scene.unit.pk))
    assert health["user"] == "crew" and health["queue_length"] == 0
    assert health["app_version"] == page.evaluate(
        "JSON.parse(document.getElementById('cad-config').textContent).version"
    )
    expect(page.locator("#tiles-failed")).to_be_visible()
    expect(page.locator("#gps")).not_to_have_text("无定位")  # the emulated fix arrived
    expect(page.locator("[data-action=shift-list]")).to_be_enabled()
    screenshot(page, "app-idle")


# --- actions ---------------------------------------------------------------------------------


def test_arrive_tapped_offline_is_queued_and_recorded_exactly_once_online(
    phone: Any, scene: Scene
) -> None:
    incident = to_en_route(scene)
    page = phone.new_page()
    log_in(page)
    expect(page.locator("#inc-status")).to_have_attribute("data-status", "en_route")
    phone.set_offline(True)
    page.click("[data-do=arrive]")
    expect(page.locator("#conn")).to_have_attribute("data-state", "offline")
    expect(page.locator("#conn")).to_contain_text("1")
    expect(page.locator("#inc-status")).to_have_attribute("data-status", "on_scene")
    page.click("[data-action=queue-list]")
    expect(page.locator("#list-items li")).to_have_count(1)
    screenshot(page, "app-queued")
    page.click("[data-action=close-list]")
    back_online = timezone.now()
    phone.set_offline(False)
    expect(page.locator("#queue-btn")).to_contain_text("(0)")
    expect(page.locator("[data-do=resolve]")).to_be_visible()
    incident.refresh_from_db()
    assert incident.status == "on_scene"
    assert status_changes(incident.pk).count("on_scene") == 1
    # The arrival is when it was tapped, offline, not when the queued request got through.
    assert incident.arrived_at is not None and incident.arrived_at < back_online
    arrive = Event.objects.get(incident=incident, stream="incident", kind="arrive")
    assert datetime.fromisoformat(arrive.payload["received_at"]) > back_online
    page.click("[data-action=shift-list]")
    expect(page.locator("#list-items")).to_contain_text(incident.number)
    screenshot(page, "app-my-shift")


def test_a_phone_set_to_another_zone_shows_times_in_shanghai(
    browser: Any, scene: Scene, live_daphne: Live
) -> None:
    """A crew phone whose clock is set to UTC in English shows when its incidents came in as
    the command centre does: Shanghai time, on a 24-hour clock."""
    incident = to_en_route(scene)
    context = new_phone(browser, live_daphne, timezone_id="UTC", locale="en-US")
    try:
        page = context.new_page()
        log_in(page)
        page.click("[data-action=shift-list]")
        shanghai = incident.received_at.astimezone(ZoneInfo("Asia/Shanghai"))
        expect(page.locator("#list-items")).to_contain_text(shanghai.strftime("%H:%M:%S"))
    finally:
        close_settled(context)


def test_a_long_description_leaves_the_accept_button_on_the_alert_screen(
    phone: Any, scene: Scene, live_daphne: Live
) -> None:
    """The caller told a lot: the description scrolls in its own box, and 签收, the distance and
    the targets stay on the phone's screen without scrolling the red alert."""
    require_websockets()
    page = phone.new_page()
    log_in(page)
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")
    incident = scene_incident(scene, description="报警人称双方多次发生争执，" * 40)  # 520 chars
    off_loop(services.incident_dispatch, incident=incident, unit=scene.unit, actor=scene.dispatcher)
    expect(page.locator("#alert")).to_be_visible()
    height = page.viewport_size["height"]
    for shown in ("#accept", "#alert-distance", "#alert-targets"):
        box = page.locator(shown).bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, shown
    desc = page.locator("#alert-desc")
    expect(desc).to_contain_text("报警人称双方多次发生争执")
    assert page.evaluate("document.getElementById('alert').scrollHeight") <= height
    screenshot(page, "app-alert-long-description")
    page.click("#accept")
    expect(page.locator("#alert")).to_be_hidden()


def test_alert_accept_en_route_arrive_resolve_matches_the_server_timeline(
    phone: Any, scene: Scene, live_daphne: Live
) -> None:
    require_websockets()
    page = phone.new_page()
    log_in(page)
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")
    api = phone.request
    token = api.post("/api/auth/token/", data={"username": "dispatcher", "password": "pw"}).json()[
        "token"
    ]
    headers = {"Authorization": f"Token {token}"}
    created = api.post(
        "/api/incidents/",
        headers=headers,
        data={
            "category": "public_order",
            "priority": 1,
            "location": {"lat": 22.775, "lon": 100.951},
            "address": "思茅区振兴大道1号",
            "description": "打架",
            "caller_name": "李四",
            "caller_phone": "13900000000",
        },
    ).json()
    dispatched = api.post(
        f"/api/incidents/{created['id']}/dispatch/", headers=headers, data={"unit": scene.unit.pk}
    )
    assert dispatched.ok, dispatched.text()
    alert = page.locator("#alert")
    expect(alert).to_be_visible()
    expect(page.locator("#alert-address")).to_have_text("思茅区振兴大道1号")
    screenshot(page, "app-alert")
    page.click("#accept")
    expect(alert).to_be_hidden()
    for action, status in (("en_route", "en_route"), ("arrive", "on_scene")):
        page.click(f"[data-do={action}]")
        expect(page.locator("#inc-status")).to_have_attribute("data-status", status)
    expect(page.locator("#queue-btn")).to_contain_text("(0)")
    screenshot(page, "app-on-scene")
    page.click("[data-do=resolve]")
    page.fill("#dialog-form textarea[name=summary]", "双方已调解")
    page.click("#dialog-form button[type=submit]")
    expect(page.locator("#incident")).to_contain_text("当前无警情")
    expect(page.locator("#queue-btn")).to_contain_text("(0)")
    assert status_changes(created["id"]) == [
        "dispatched",
        "acknowledged",
        "en_route",
        "on_scene",
        "resolved_on_scene",
    ]
    incident = Incident.objects.get(pk=created["id"])
    assert incident.summary == "双方已调解"


def test_a_new_version_waits_until_the_crew_taps_update_then_reloads(
    phone: Any, scene: Scene
) -> None:
    page = phone.new_page()
    log_in(page)
    wait_for_service_worker(page)
    old_caches = page.evaluate("caches.keys()")
    # A new deployment, as the browser sees it: a different worker script for the same scope.
    page.evaluate("navigator.serviceWorker.register('/app/sw.js?build=next', {scope: '/app/'})")
    banner = page.locator("#update")
    expect(banner).to_be_visible(timeout=20_000)
    # The new worker waits; the old one keeps serving the page and its cache is intact.
    assert page.evaluate("navigator.serviceWorker.getRegistration().then((r) => !!r.waiting)")
    assert "build=next" not in page.evaluate("navigator.serviceWorker.controller.scriptURL")
    assert set(old_caches) <= set(page.evaluate("caches.keys()"))
    screenshot(page, "app-update-available")
    with page.expect_event("load"):
        banner.click()
    expect(page.locator("#main")).to_be_visible()
    page.evaluate(CONTROLLED)
    assert "build=next" in page.evaluate("navigator.serviceWorker.controller.scriptURL")


def test_english_switch_and_high_contrast_theme_persist_across_reloads(
    phone: Any, scene: Scene
) -> None:
    page = phone.new_page()
    log_in(page)
    expect(page.locator("[data-action=shift-list]")).to_have_text("本班警情")
    page.click("#menu-btn")
    page.click("#menu [data-action=lang]")
    page.click("#menu [data-action=contrast]")
    expect(page.locator("[data-action=shift-list]")).to_have_text("This shift")
    page.reload()
    expect(page.locator("[data-action=shift-list]")).to_have_text("This shift")
    assert page.evaluate("document.body.classList.contains('hc')")
    assert page.evaluate("document.documentElement.lang") == "en"
    screenshot(page, "app-english-high-contrast")


def test_a_double_tap_on_a_step_reports_it_once_without_a_false_refusal(
    phone: Any, scene: Scene, live_daphne: Live
) -> None:
    require_websockets()
    incident = scene_incident(scene)
    services.incident_dispatch(incident=incident, unit=scene.unit, actor=scene.dispatcher)
    services.incident_acknowledge(incident=incident, actor=scene.crew)
    page = phone.new_page()
    log_in(page)
    expect(page.locator("#inc-status")).to_have_attribute("data-status", "acknowledged")
    page.dblclick("[data-do=en_route]")
    expect(page.locator("#inc-status")).to_have_attribute("data-status", "en_route")
    expect(page.locator("#queue-btn")).to_contain_text("(0)")
    page.click("[data-do=arrive]")  # the next step goes through as usual
    expect(page.locator("#inc-status")).to_have_attribute("data-status", "on_scene")
    expect(page.locator("#queue-btn")).to_contain_text("(0)")
    expect(page.locator("#toast")).not_to_contain_text("操作被拒绝")
    assert status_changes(incident.pk) == ["dispatched", "acknowledged", "en_route", "on_scene"]


def test_transfer_preselects_the_jurisdiction_station_and_requires_a_reason(
    phone: Any, scene: Scene
) -> None:
    incident = services.incident_arrive(incident=to_en_route(scene), actor=scene.crew)
    assert incident.station is not None
    page = phone.new_page()
    log_in(page)
    expect(page.locator("#inc-status")).to_have_attribute("data-status", "on_scene")
    # The steps from on scene, then the reports that are always there (续报, 拍照, 请求增援).
    assert page.locator("#actions [data-do]").evaluate_all("(b) => b.map((x) => x.dataset.do)") == [
        "resolve",
        "transfer",
        "note",
        "photo",
        "backup",
    ]
    page.click("[data-do=transfer]")
    station = page.locator("#dialog-form select[name=station]")
    expect(station).to_have_value(str(incident.station.pk))
    page.click("#dialog-form button[type=submit]")
    expect(page.locator("#dialog")).to_be_visible()  # no reason, no transfer
    screenshot(page, "app-transfer")
    page.fill("#dialog-form textarea[name=reason]", "需立案侦查")
    page.click("#dialog-form button[type=submit]")
    expect(page.locator("#incident")).to_contain_text("当前无警情")
    incident.refresh_from_db()
    assert incident.status == "transfer_pending"
    assert incident.transfer_station_id == incident.station_id
    assert incident.transfer_reason == "需立案侦查"


def test_an_alert_sent_while_the_phone_was_offline_arrives_after_reconnect(
    phone: Any, scene: Scene
) -> None:
    require_websockets()
    page = phone.new_page()
    hellos: list[dict[str, Any]] = []

    def watch(ws: Any) -> None:
        ws.on(
            "framesent",
            lambda payload: '"hello"' in str(payload) and hellos.append(json.loads(payload)),
        )

    page.on("websocket", watch)
    log_in(page)
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")
    incident = scene_incident(scene)
    off_loop(services.incident_dispatch, incident=incident, unit=scene.unit, actor=scene.dispatcher)
    expect(page.locator("#alert")).to_be_visible()
    page.click("#accept")
    expect(page.locator("#queue-btn")).to_contain_text("(0)")
    phone.set_offline(True)
    expect(page.locator("#conn")).to_have_attribute("data-state", "offline")
    second = scene_incident(scene, address="思茅区月光路2号")
    off_loop(services.incident_unassign, incident=incident, reason="改派", actor=scene.dispatcher)
    off_loop(services.incident_dispatch, incident=second, unit=scene.unit, actor=scene.dispatcher)
    phone.set_offline(False)
    expect(page.locator("#alert")).to_be_visible()
    expect(page.locator("#alert-address")).to_have_text("思茅区月光路2号")
    assert len(hellos) >= 2 and hellos[-1]["last_seq"] > 0  # caught up from where it was


def test_an_incident_taken_off_the_unit_takes_the_alert_card_down(phone: Any, scene: Scene) -> None:
    require_websockets()
    page = phone.new_page()
    log_in(page)
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")
    incident = off_loop(
        services.incident_dispatch,
        incident=scene_incident(scene),
        unit=scene.unit,
        actor=scene.dispatcher,
    )
    expect(page.locator("#alert")).to_be_visible()
    # Nobody answers; the command centre sends another unit (by hand, or the escalation).
    off_loop(services.incident_unassign, incident=incident, reason="改派", actor=scene.dispatcher)
    expect(page.locator("#alert")).to_be_hidden()
    expect(page.locator("#incident")).to_contain_text("当前无警情")
    expect(page.locator("#toast")).to_contain_text(f"{incident.number} 已由指挥中心撤回本组：改派")
    screenshot(page, "app-withdrawn")
    # A cancelled incident says so, and why.
    other = off_loop(
        services.incident_dispatch,
        incident=scene_incident(scene, address="思茅区月光路2号"),
        unit=scene.unit,
        actor=scene.dispatcher,
    )
    expect(page.locator("#alert")).to_be_visible()
    off_loop(
        services.incident_cancel, incident=other, reason="报警人称误报", actor=scene.dispatcher
    )
    expect(page.locator("#alert")).to_be_hidden()
    expect(page.locator("#toast")).to_contain_text(f"{other.number} 已由指挥中心撤销：报警人称误报")
