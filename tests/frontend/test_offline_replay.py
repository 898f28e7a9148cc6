"""An offline replay whose first attempt did reach the server (Idempotency-Key end to end)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from tests.support.browser import (
    Live,
    Scene,
    expect,
    log_in,
    screenshot,
    status_changes,
    to_en_route,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUEUED = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("cad-patrol");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const all = open.result.transaction("queue").objectStore("queue").getAll();
    all.onsuccess = () => resolve(all.result);
  };
})"""


def test_a_replay_whose_first_attempt_reached_the_server_is_applied_once(
    phone: Any, live_daphne: Live, scene: Scene
) -> None:
    """The phone taps "arrived" in a dead zone; its first attempt reaches the server but the
    answer never comes back (played here by the test sending the queued request itself). When the
    network returns the app replays the action with the same Idempotency-Key: the server answers
    from its record, so there is no "refused" message and one arrival on the timeline."""
    incident = to_en_route(scene)
    page = phone.new_page()
    log_in(page)
    expect(page.locator("#inc-status")).to_have_attribute("data-status", "en_route")
    answers: list[tuple[int, str | None]] = []
    page.on(
        "response",
        lambda r: (
            "/arrive/" in r.url and answers.append((r.status, r.headers.get("idempotent-replayed")))
        ),
    )
    phone.set_offline(True)
    page.click("[data-do=arrive]")
    expect(page.locator("#queue-btn")).to_contain_text("(1)")
    [item] = page.evaluate(QUEUED)
    token = page.evaluate("JSON.parse(localStorage.getItem('cad.token'))")
    first = urllib.request.Request(
        live_daphne.url + item["path"],
        data=json.dumps(item["body"]).encode(),
        method="POST",
        headers={
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": item["key"],
        },
    )
    with urllib.request.urlopen(first, timeout=10) as response:
        assert response.status == 200
    phone.set_offline(False)
    expect(page.locator("#queue-btn")).to_contain_text("(0)")
    expect(page.locator("[data-do=resolve]")).to_be_visible()
    assert answers == [(200, "true")]  # the replay, answered from the server's record
    expect(page.locator("#toast")).to_be_hidden()  # nothing was refused
    assert status_changes(incident.pk).count("on_scene") == 1
    screenshot(page, "app-on-scene")
