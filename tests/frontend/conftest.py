"""Browser tests of the patrol app and the command map: a real daphne process on the test database
(PostgreSQL) driven by Debian's Chromium through Playwright (helpers in tests/support/browser.py).

`live_daphne` starts daphne in its own process group on a free port with the test settings, pointed
at the database pytest-django created, and polls until it answers; teardown stops the group. Data
is written from the test process with `transactional_db` (committed, so daphne sees it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from tests.support.browser import (
    ARTIFACTS,
    CHROMIUM,
    Live,
    LiveServers,
    Scene,
    chromium,
    close_settled,
    new_phone,
    new_scene,
)


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
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "daphne.log").unlink(missing_ok=True)  # this run's log only
    servers = LiveServers(tmp=ARTIFACTS)
    try:
        _, port = servers.start_daphne(probe="/app/manifest.webmanifest")
        yield Live(url=f"http://127.0.0.1:{port}", ws_url=f"ws://127.0.0.1:{port}")
    finally:
        servers.stop_all()


@pytest.fixture(scope="package")
def browser(live_daphne: Live) -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def phone(browser: Any, live_daphne: Live, transactional_db: Any) -> Iterator[Any]:
    """A phone-sized context; closed, and the live server's work for it settled, before the
    database is flushed (see close_settled)."""
    context = new_phone(browser, live_daphne)
    yield context
    close_settled(context)


@pytest.fixture
def scene(transactional_db: Any) -> Scene:
    return new_scene()
