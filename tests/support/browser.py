"""The browser tests' helpers: Debian's Chromium driven through Playwright (no browser download)
against a live daphne on the test database, a phone-sized context, and the patrol app's scene.

The fixtures that use them (`live_daphne`, `browser`, `phone`, `scene`) are in
tests/frontend/conftest.py. Screenshots and daphne's log go to artifacts/ (gitignored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from apps.common.roles import Role
from apps.incidents import services
from apps.incidents.models import Event, Incident
from apps.units.models import Unit
from tests.support.factories import SmallCity, UserFactory, crew_member, small_city
from tests.support.procs import ROOT, Servers, database_url

ARTIFACTS = ROOT / "artifacts"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
PHONE = {"width": 360, "height": 640}
# Somewhere near staging point p0 of factories.small_city (WGS-84).
START = {"latitude": 22.781, "longitude": 100.951, "accuracy": 15}
# Tiles come from a closed local port: the app must stay usable without them, and no test waits
# on the internet.
DEAD_TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png"


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright's sync API. That API keeps an event loop running in
    this thread; Django's ORM refuses to run beside a running loop unless told it is safe (it is:
    the loop is Playwright's, the ORM calls are ordinary blocking ones from the test)."""
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def websockets_available() -> bool:
    """Whether the /ws/unit/ and /ws/command/ consumers (issue 4) are routed."""
    from cad_project.routing import websocket_urlpatterns

    routes = " ".join(str(getattr(p, "pattern", p)) for p in websocket_urlpatterns)
    return "ws/unit" in routes and "ws/command" in routes


def require_websockets() -> None:
    if not websockets_available():
        pytest.skip(
            "needs the /ws/unit/ and /ws/command/ consumers of issue 4, not routed on main yet"
        )


@dataclass
class Live:
    url: str
    ws_url: str


@dataclass
class LiveServers(Servers):
    """daphne for the browser tests: the test settings with DEBUG on, the test database (written
    by the tests with `transactional_db`, so committed), map tiles from a dead port unless
    `map_env` says otherwise (e.g. MAP_TILES_FILE, or no tile source at all)."""

    map_env: dict[str, str] = field(default_factory=lambda: {"MAP_TILE_URL": DEAD_TILES})

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("MAP_TILE_URL", "MAP_TILES_FILE")}
        return {
            **env,
            "DJANGO_SETTINGS_MODULE": "cad_project.settings.test",
            "DEBUG": "1",
            "DATABASE_URL": database_url(),
            "PYTHONUNBUFFERED": "1",
            **self.map_env,
        }


def new_phone(browser: Any, live: Live, **options: Any) -> Any:
    """A phone-sized browser context with emulated geolocation, on the live server."""
    context = browser.new_context(
        base_url=live.url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        geolocation=START,
        permissions=["geolocation"],
        **{"locale": "zh-CN", "timezone_id": "Asia/Shanghai", **options},
    )
    context.set_default_timeout(20_000)
    return context


def close_settled(context: Any) -> None:
    """Close a browser context, then wait until no other session on the test database is inside a
    query or a transaction. A page left open keeps daphne working for it (the alert resender
    writes while an alert stands); the flush that ends a `transactional_db` test truncates every
    table and deadlocks with such a write. So a fixture that opens a context requests
    `transactional_db` too (its teardown then runs before the flush) and closes it with this."""
    from django.db import connection

    from tests.support.procs import wait_for

    context.close()
    if connection.vendor != "postgresql":
        return
    busy_sql = (
        "SELECT pid, state, left(query, 120) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')"
    )

    def quiet() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(busy_sql)
            return not cursor.fetchall()

    # Quiet twice in a row: a websocket's disconnect may reach daphne just after the close.
    wait_for(lambda: quiet() and quiet(), timeout=30, what="the live server's database work")


def off_loop(fn: Any, /, **kwargs: Any) -> Any:
    """Run a service in a worker thread: its after-commit pushes (async_to_sync) cannot run in
    this thread, where Playwright's event loop is running."""
    from django.db import connection

    def call() -> Any:
        try:
            return fn(**kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as pw_expect

    return pw_expect(locator)


def open_command_map(context: Any, live: Live, user: Any) -> Any:
    """The command map (/command/) in `context`, logged in as `user` with the admin's session."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live.url}]
    )
    page = context.new_page()
    page.goto("/command/")
    return page


def log_in(page: Any, username: str = "crew", password: str = "pw") -> None:
    page.goto("/app/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#main")).to_be_visible()


# --- the patrol app's scene: a crew on unit U0 and a dispatcher -------------------------------


@dataclass
class Scene:
    city: SmallCity
    crew: User
    dispatcher: User

    @property
    def unit(self) -> Unit:
        return self.city.units[0]


def new_scene() -> Scene:
    city = small_city()
    return Scene(
        city=city,
        crew=crew_member(city.units[0], username="crew", shift=1),
        dispatcher=UserFactory(username="dispatcher", roles=[Role.DISPATCHER]),
    )


def scene_incident(
    scene: Scene, address: str = "思茅区振兴大道1号", description: str = "邻里纠纷"
) -> Incident:
    """An incident near unit U0, taken in by the scene's dispatcher."""
    return services.incident_create(
        actor=scene.dispatcher,
        lat=22.775,
        lon=100.951,
        category="dispute",
        priority=2,
        address=address,
        description=description,
        caller_name="张三",
        caller_phone="13800000000",
    )


def to_en_route(scene: Scene) -> Incident:
    incident = scene_incident(scene)
    incident = services.incident_dispatch(
        incident=incident, unit=scene.unit, actor=scene.dispatcher
    )
    incident = services.incident_acknowledge(incident=incident, actor=scene.crew)
    return services.incident_en_route(incident=incident, actor=scene.crew)


def status_changes(incident_id: int) -> list[str]:
    """The incident's status changes on the server's timeline, in order (intake excluded)."""
    rows = (
        Event.objects.filter(incident_id=incident_id, stream="incident")
        .order_by("seq")
        .values_list("from_state", "to_state")
    )
    return [to for frm, to in rows if to and to != frm and to != "received"]
