"""A police intranet has no internet: every page works with every non-local request blocked —
no request leaves, none fails, no console error. Once with the project's own tiles (an MBTiles
file), once with no tile source at all (the base map drawn from the gazetteer)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from apps.common.roles import Role
from apps.places.models import PlaceKind
from apps.places.services import PlaceData, places_upsert
from tests.support.browser import (
    ARTIFACTS,
    Live,
    LiveServers,
    Scene,
    expect,
    log_in,
    new_phone,
    open_command_map,
    screenshot,
)
from tests.support.factories import UserFactory
from tests.support.tiles import mbtiles, png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOCAL = {"127.0.0.1", "localhost"}


@pytest.fixture(params=["mbtiles", "vector"])
def intranet(request: Any, live_daphne: Live, tmp_path: Path) -> Iterator[tuple[str, Live]]:
    """daphne with the project's own tiles, or with no tile source."""
    if request.param == "mbtiles":
        file = mbtiles(tmp_path / "simao.mbtiles", {(13, 6393, 3560): png(), (0, 0, 0): png()})
        env = {"MAP_TILES_FILE": str(file)}
    else:
        env = {}
    servers = LiveServers(tmp=ARTIFACTS, map_env=env)
    try:
        _, port = servers.start_daphne(f"daphne-{request.param}", probe="/app/manifest.webmanifest")
        yield request.param, Live(url=f"http://127.0.0.1:{port}", ws_url=f"ws://127.0.0.1:{port}")
    finally:
        servers.stop_all()


class Watch:
    """Every request that would leave the machine (blocked), every failed request, every console
    error and uncaught exception of the pages of a context."""

    def __init__(self, context: Any) -> None:
        self.blocked: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        context.route("**/*", self._route)
        context.on("page", self.page)

    def _route(self, route: Any) -> None:
        if urlsplit(route.request.url).hostname in LOCAL:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _failed(self, request: Any) -> None:
        # Leaflet cancels the tiles it no longer needs when the map moves (ERR_ABORTED): that is
        # the map at work, not a failure.
        cancelled = request.failure == "net::ERR_ABORTED" and "/tiles/" in request.url
        if not cancelled:
            self.failed.append(f"{request.url}: {request.failure}")

    def page(self, page: Any) -> None:
        page.on("requestfailed", self._failed)
        page.on(
            "console", lambda m: m.type == "error" and self.errors.append(f"{page.url}: {m.text}")
        )
        page.on("pageerror", lambda e: self.errors.append(f"{page.url}: {e}"))

    def clean(self) -> None:
        assert (self.blocked, self.failed, self.errors) == ([], [], [])


def test_every_page_works_with_the_internet_cut_off(
    browser: Any, scene: Scene, intranet: tuple[str, Live]
) -> None:
    mode, live = intranet
    places_upsert(
        places=[
            PlaceData(
                name="振兴大道",
                kind=PlaceKind.ROAD,
                lat=22.78,
                lon=100.96,
                line={"type": "LineString", "coordinates": [[100.94, 22.78], [100.98, 22.78]]},
                code="r1",
            ),
            PlaceData(
                name="思茅区人民医院", kind=PlaceKind.POI, lat=22.781, lon=100.955, code="h1"
            ),
        ]
    )
    commander = UserFactory(username="commander", roles=[Role.COMMANDER], is_staff=True)

    phone = new_phone(browser, live)
    desk = browser.new_context(base_url=live.url, viewport={"width": 1400, "height": 900})
    desk.set_default_timeout(20_000)
    try:
        watch_phone, watch_desk = Watch(phone), Watch(desk)
        app = phone.new_page()
        log_in(app)
        expect(app.locator("#conn")).to_have_attribute("data-state", "online")
        if mode == "mbtiles":
            expect(app.locator("img.leaflet-tile-loaded").first).to_be_attached()
        else:
            # The road of the gazetteer is drawn as the base (casing and fill).
            expect(app.locator("path.base-road")).to_have_count(1)
            expect(app.locator("#tiles-failed")).to_be_hidden()
        screenshot(app, f"offline-app-{mode}")

        page = open_command_map(desk, live, commander)
        expect(page.locator("#conn")).to_have_attribute("data-state", "online")
        expect(page.locator("#units li")).to_have_count(4)
        if mode == "vector":
            expect(page.locator("path.base-road")).to_have_count(1)
        page.wait_for_load_state("networkidle")
        screenshot(page, f"offline-command-{mode}")
        for url, ready in (
            ("/command/stats/", "#cards"),
            ("/admin/", "#content"),
            ("/api/docs/", ".swagger-ui .info"),
        ):
            page.goto(url)
            expect(page.locator(ready).first).to_be_visible()
            page.wait_for_load_state("networkidle")
        screenshot(page, f"offline-api-docs-{mode}")
        watch_phone.clean()
        watch_desk.clean()
    finally:
        phone.close()
        desk.close()
