"""The grid's admin pages with their Leaflet map widgets, in Chromium against a live daphne (the
helpers of tests/support/browser.py): each map is drawn once and the page logs no script error
("Map container is already initialized" was the staging point's)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from apps.common.roles import Role
from tests.support.browser import CHROMIUM, Live, LiveServers, close_settled, expect
from tests.support.browser import chromium as launch_chromium
from tests.support.factories import StagingPointFactory, StationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def live(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    with django_db_blocker.unblock():
        vendor = connection.vendor
    if vendor != "postgresql":
        pytest.skip("browser tests need PostgreSQL: daphne runs in another process")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (make sysdeps-test installs Debian's)")
    # No tile source: the widgets draw on a plain ground, and no failed tile load is logged.
    servers = LiveServers(tmp=Path(tmp_path_factory.mktemp("admin-maps")), map_env={})
    try:
        _, port = servers.start_daphne(probe="/admin/login/")
        yield Live(url=f"http://127.0.0.1:{port}", ws_url=f"ws://127.0.0.1:{port}")
    finally:
        servers.stop_all()


@pytest.fixture(scope="module")
def chromium(live: Live) -> Iterator[Any]:
    with launch_chromium() as browser:
        yield browser


def desk(chromium: Any, live: Live, role: str) -> Any:
    """A desktop context logged in with `role`: a commander edits the grid, a dispatcher views it
    (read-only maps)."""
    from django.test import Client

    context = chromium.new_context(
        base_url=live.url,
        viewport={"width": 1400, "height": 900},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(20_000)
    client = Client()
    client.force_login(UserFactory(roles=[role], is_staff=True))
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live.url}]
    )
    return context


def open_logging_errors(context: Any, path: str) -> tuple[Any, list[str]]:
    """Open `path`, collecting the page's uncaught script errors and console errors."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None,
    )
    page.goto(path)
    page.wait_for_load_state("load")
    return page, errors


def settle(page: Any) -> None:
    """Past the window's load handlers (where django-leaflet builds its maps) and a frame."""
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done(null)))")


@pytest.mark.parametrize(
    ("role", "map_id"),
    [(Role.COMMANDER, "id_location-map"), (Role.DISPATCHER, "id_location_map-map")],
)
def test_the_staging_point_page_draws_its_map_once_without_script_errors(
    chromium: Any, live: Live, transactional_db: Any, role: str, map_id: str
) -> None:
    point = StagingPointFactory(lat=22.78, lon=100.97)
    context = desk(chromium, live, role)
    try:
        page, errors = open_logging_errors(context, f"/admin/units/stagingpoint/{point.pk}/change/")
        # One map container, set up by Leaflet (its panes), with the point's marker.
        expect(page.locator(f"[id={map_id}]")).to_have_count(1)
        expect(page.locator(f"#{map_id} .leaflet-map-pane")).to_have_count(1)
        expect(page.locator(f"#{map_id} .leaflet-marker-icon")).to_have_count(1)
        settle(page)
        assert errors == []
    finally:
        close_settled(context)


def test_the_view_only_station_page_draws_its_jurisdiction_once(
    chromium: Any, live: Live, transactional_db: Any
) -> None:
    station = StationFactory()
    context = desk(chromium, live, Role.DISPATCHER)
    try:
        page, errors = open_logging_errors(context, f"/admin/units/station/{station.pk}/change/")
        expect(page.locator("[id=id_jurisdiction_map-map]")).to_have_count(1)
        expect(page.locator("#id_jurisdiction_map-map .leaflet-map-pane")).to_have_count(1)
        settle(page)
        assert errors == []
    finally:
        close_settled(context)
