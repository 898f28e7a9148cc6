"""The browser's view of the incident lifecycle (frontend/static/common/lifecycle.js), derived
from the page config under node, agrees with the server's one transition table."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from apps.incidents.models import OPEN_STATUSES, IncidentStatus
from apps.incidents.transitions import (
    CLOSED_STATUSES,
    TRANSITIONS,
    UNIT_STATUS_OF,
    Actor,
    actions_from,
    transitions_config,
)

HERE = Path(__file__).resolve().parent


def test_js_lifecycle_derives_the_servers_transitions_from_the_page_config() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    result = subprocess.run(
        [node, str(HERE / "lifecycle.mjs")],
        input=json.dumps(transitions_config()),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    js = json.loads(result.stdout)
    assert set(js["open"]) == {str(s) for s in OPEN_STATUSES}
    assert js["closed"] == list(CLOSED_STATUSES)
    for status in IncidentStatus.values:
        for actor in Actor:
            expected = [t.action for t in actions_from(status, actor=actor)]
            assert js["from"][status][actor.value] == expected, (status, actor)
        assert js["allowed"][status] == [t.action for t in actions_from(status)]
        assert js["unit"][status] == UNIT_STATUS_OF.get(status)
    assert js["urls"] == {t.action: f"/api/incidents/7/{t.path}/" for t in TRANSITIONS}
