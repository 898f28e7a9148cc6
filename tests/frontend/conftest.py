"""Browser tests of the patrol app and the command map: a real daphne process on the test database
(PostgreSQL) driven by Debian's Chromium through Playwright (no browser download).

`live_daphne` starts daphne in its own process group on a free port with the test settings, pointed
at the database pytest-django created, and polls until it answers; teardown kills the group. Data is
written from the test process with `transactional_db` (committed, so daphne sees it).

Screenshots go to artifacts/ (gitignored).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
PHONE = {"width": 360, "height": 640}
# Somewhere near staging point p0 of tests.factories.small_city (WGS-84).
START = {"latitude": 22.781, "longitude": 100.951, "accuracy": 15}
# Tiles come from a closed local port: the app must stay usable without them, and no test waits
# on the internet.
DEAD_TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _database_url() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


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


# Package scope: the server and Playwright (whose event loop runs in this thread while it is
# active) are torn down when the browser tests end, before any other package's tests run.
@pytest.fixture(scope="package")
def live_daphne(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Live]:
    with django_db_blocker.unblock():
        vendor = connection.vendor
    if vendor != "postgresql":
        pytest.skip("browser tests need PostgreSQL: daphne runs in another process")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (make sysdeps-test installs Debian's)")
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cad_project.settings.test",
        "DEBUG": "1",
        "DATABASE_URL": _database_url(),
        "MAP_TILE_URL": DEAD_TILES,
        "PYTHONUNBUFFERED": "1",
    }
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "daphne.log", "w")  # noqa: SIM115 (closed at teardown)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "cad_project.asgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"daphne exited with {proc.returncode}; see artifacts/daphne.log"
                )
            try:
                with urllib.request.urlopen(base + "/app/manifest.webmanifest", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("daphne did not answer within 60 s") from None
                time.sleep(0.2)  # polling for readiness, not waiting for an outcome
        yield Live(url=base, ws_url=f"ws://127.0.0.1:{port}")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="package")
def browser(live_daphne: Live) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; Django's ORM refuses to
    # run beside a running loop unless told it is safe (it is: the loop is Playwright's, the ORM
    # calls are ordinary blocking ones from the test).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def new_phone(browser: Any, live: Live, **options: Any) -> Any:
    """A phone-sized browser context with emulated geolocation, on the live server."""
    context = browser.new_context(
        base_url=live.url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        geolocation=START,
        permissions=["geolocation"],
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        **options,
    )
    context.set_default_timeout(20_000)
    return context


@pytest.fixture
def phone(browser: Any, live_daphne: Live) -> Iterator[Any]:
    context = new_phone(browser, live_daphne)
    yield context
    context.close()


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
