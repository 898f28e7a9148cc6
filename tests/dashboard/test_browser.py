"""The dashboard in Debian's Chromium (Playwright): charts drawn, heat layer and staging points on
the map, the live move-up panel filled, no script error; what it is computing shown until the
figures arrive, and a message when they cannot; axes whose labels never overlap and whose count
ticks are whole and evenly spaced, on a desk and on a phone that never scrolls sideways. Tiles
come from a closed local port."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.test import Client

from apps.common.roles import Role
from tests.support.browser import ARTIFACTS, chromium, close_settled
from tests.support.dashboard_day import DAY, build
from tests.support.factories import UserFactory

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
DESK = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]


@contextmanager
def browser_context(viewport: dict[str, int] = DESK) -> Iterator[Any]:
    """A Chromium context. Open it only after the test's own database work: Playwright's sync
    API runs the test in a greenlet with its own context variables, where the ORM would open a
    second connection that pytest-django never closes (the live server's threads are fine)."""
    pytest.importorskip("playwright.sync_api")
    with chromium() as browser:
        context = browser.new_context(viewport=viewport, locale="zh-CN")
        context.set_default_timeout(20_000)
        try:
            yield context
        finally:
            close_settled(context)
            # close_settled's query ran in Playwright's greenlet, on a connection of its own.
            connections.close_all()


def expect(locator: Any) -> Any:
    return pytest.importorskip("playwright.sync_api").expect(locator)


def _session(settings: Any) -> str:
    client = Client()
    client.force_login(UserFactory(roles=[Role.COMMANDER]))
    return str(client.cookies[settings.SESSION_COOKIE_NAME].value)


def _page(context: Any, live_server: Any, session: str, settings: Any) -> tuple[Any, list[str]]:
    host = live_server.url.split("//", 1)[1].split(":")[0]
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "domain": host, "path": "/"}]
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


def _scroll_width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_the_dashboard_draws_its_charts_map_and_move_up_panel(
    live_server: Any, settings: Any
) -> None:
    settings.MAP_TILE_URL = "http://127.0.0.1:9/{z}/{x}/{y}.png"
    build()
    session = _session(settings)
    with browser_context() as context:
        page, errors = _page(context, live_server, session, settings)
        page.goto(f"{live_server.url}/command/stats/?start={DAY}&end={DAY}")
        # The page's CSP forbids evaluating strings, so wait with locators, not wait_for_function.
        expect(page.locator("#moveup-body")).to_contain_text("%")
        assert errors == []
        # Stacked bars: five categories on the one day.
        assert page.locator("#chart-volume svg rect").count() == 5
        assert page.locator("#chart-hist-ack svg rect").count() > 0
        assert page.locator("#chart-compliance svg path").count() == 2
        assert page.locator("#chart-categories svg rect").count() > 0
        # Heat cells (rectangles) and the four staging points (circles) as Leaflet vector layers.
        assert page.locator("#map path.leaflet-interactive").count() >= 4 + 2
        # Leaflet's zoom buttons speak the page's language (Chinese by default).
        expect(page.locator("#map .leaflet-control-zoom-in")).to_have_attribute("title", "放大")
        expect(page.locator("#map .leaflet-control-zoom-out")).to_have_attribute("title", "缩小")
        assert page.locator("#cards b.rate").first.inner_text().endswith("%")


def test_the_page_shows_what_it_computes_until_the_figures_arrive(
    live_server: Any, settings: Any
) -> None:
    build()
    session = _session(settings)
    with browser_context(PHONE) as context:
        page, errors = _page(context, live_server, session, settings)
        held: list[Any] = []
        page.route(lambda url: "format=fragment" in url, lambda route: held.append(route))
        with page.expect_request(lambda r: "format=fragment" in r.url):
            page.goto(f"{live_server.url}/command/stats/?start=2026-10-01&end=2026-11-30")
        loading = page.locator("#loading")
        expect(loading).to_be_visible()
        expect(loading).to_have_text("正在计算 2026-10-01 至 2026-11-30 的统计…")
        expect(page.locator("#dashboard")).to_have_attribute("aria-busy", "true")
        assert page.locator("#cards").count() == 0
        assert _scroll_width(page) <= PHONE["width"]
        # The route event reaches this thread before the answer to the last call: it is held.
        assert len(held) == 1
        held[0].continue_()
        expect(page.locator("#cards")).to_be_visible()
        expect(loading).to_have_count(0)
        expect(page.locator("#dashboard")).not_to_have_attribute("aria-busy", "true")
        assert errors == []


def test_a_failed_load_says_so_and_can_be_retried(live_server: Any, settings: Any) -> None:
    build()
    session = _session(settings)
    with browser_context() as context:
        page, errors = _page(context, live_server, session, settings)
        page.route(
            lambda url: "format=fragment" in url,
            lambda route: route.fulfill(status=500, body="boom"),
        )
        page.goto(f"{live_server.url}/command/stats/?start={DAY}&end={DAY}")
        failure = page.locator("#load-error")
        expect(failure).to_be_visible()
        expect(failure).to_have_attribute("role", "alert")
        expect(failure).to_contain_text("统计计算失败（服务器返回 500）")
        expect(page.locator("#loading")).to_have_count(0)
        page.unroute_all()
        page.route(lambda url: "format=fragment" in url, lambda route: route.abort())
        failure.get_by_role("button").click()
        expect(failure).to_contain_text("服务器无响应")
        page.unroute_all()
        failure.get_by_role("button").click()
        expect(page.locator("#cards")).to_be_visible()
        expect(failure).to_have_count(0)
        assert errors == []


def _boxes(page: Any, selector: str) -> list[dict[str, float]]:
    locator = page.locator(selector)
    return [locator.nth(i).bounding_box() for i in range(locator.count())]


def _check_axes(page: Any, days: int) -> None:
    for chart in ("#chart-volume", "#chart-compliance"):
        boxes = sorted(_boxes(page, f"{chart} text.x-label"), key=lambda b: b["x"])
        assert len(boxes) >= min(days, 4), (chart, days)
        for left, right in itertools.pairwise(boxes):
            assert left["x"] + left["width"] <= right["x"], (chart, days, left, right)
    for chart in ("#chart-volume", "#chart-hist-ack", "#chart-hist-arrival"):
        ticks = page.locator(f"{chart} text.y-tick")
        values = [float(ticks.nth(i).get_attribute("data-value")) for i in range(ticks.count())]
        texts = [ticks.nth(i).text_content() for i in range(ticks.count())]
        assert texts == [str(int(v)) for v in values], (chart, texts)
        steps = {b - a for a, b in itertools.pairwise(values)}
        assert values[0] == 0 and len(steps) == 1 and steps.pop() >= 1, (chart, values)
    # Six calls on the busiest day: the count axis reaches at least six.
    top = page.locator("#chart-volume text.y-tick").last.get_attribute("data-value")
    assert float(top) >= 6


@pytest.mark.parametrize(("name", "viewport"), [("desk", DESK), ("phone", PHONE)])
def test_axis_labels_never_overlap_and_count_ticks_are_whole(
    live_server: Any, settings: Any, name: str, viewport: dict[str, int]
) -> None:
    build()
    session = _session(settings)
    end = date.fromisoformat(DAY)
    with browser_context(viewport) as context:
        page, errors = _page(context, live_server, session, settings)
        for days in (7, 31, 61, 366):
            start = end - timedelta(days=days - 1)
            page.goto(f"{live_server.url}/command/stats/?start={start}&end={end}")
            expect(page.locator("#cards")).to_be_visible()
            _check_axes(page, days)
            if viewport is PHONE:
                # The page fits the phone; wide tables scroll in their own box.
                assert _scroll_width(page) <= PHONE["width"], days
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}-{days}d.png"), full_page=True)
        assert errors == []
