"""The dashboard in Debian's Chromium (Playwright): charts drawn, heat layer and staging points on
the map, the live move-up panel filled, no script error. Tiles come from a closed local port."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from apps.common.roles import Role
from tests.support.dashboard_day import DAY, build
from tests.support.factories import UserFactory

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]


@contextmanager
def browser_context() -> Iterator[Any]:
    """A Chromium context. Open it only after the test's own database work: Playwright's sync
    API runs the test in a greenlet with its own context variables, where the ORM would open a
    second connection that pytest-django never closes (the live server's threads are fine)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            yield context
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def test_the_dashboard_draws_its_charts_map_and_move_up_panel(
    live_server: Any, settings: Any
) -> None:
    settings.MAP_TILE_URL = "http://127.0.0.1:9/{z}/{x}/{y}.png"
    build()
    client = Client()
    client.force_login(UserFactory(roles=[Role.COMMANDER]))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    host = live_server.url.split("//", 1)[1].split(":")[0]
    with browser_context() as browser_page:
        browser_page.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "domain": host, "path": "/"}]
        )
        page = browser_page.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{live_server.url}/command/stats/?start={DAY}&end={DAY}")
        # The page's CSP forbids evaluating strings, so wait with locators, not wait_for_function.
        expect = pytest.importorskip("playwright.sync_api").expect
        expect(page.locator("#moveup-body")).to_contain_text("%")
        assert errors == []
        # Stacked bars: five categories on the one day.
        assert page.locator("#chart-volume svg rect").count() == 5
        assert page.locator("#chart-hist-ack svg rect").count() > 0
        assert page.locator("#chart-compliance svg path").count() == 2
        assert page.locator("#chart-categories svg rect").count() > 0
        # Heat cells (rectangles) and the four staging points (circles) as Leaflet vector layers.
        assert page.locator("#map path.leaflet-interactive").count() >= 4 + 2
        assert page.locator("#cards b.rate").first.inner_text().endswith("%")
