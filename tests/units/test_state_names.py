"""One name per state, in Chinese, on every screen: the command map and the admin take the state
tables' labels (apps/incidents/models.py) from the zh-Hans catalogue, the patrol app has its own
dictionary (frontend/static/app/i18n.js). 已接警 is the call taken, 已签收 the crew's
acknowledgement of the dispatch; a station receives (接收) a transfer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from apps.incidents.models import EVENT_KIND_LABELS, AssignmentStatus, IncidentStatus
from apps.incidents.transitions import BY_ACTION
from apps.units.models import UnitStatus

APP_DICTIONARY = Path(settings.BASE_DIR) / "frontend" / "static" / "app" / "i18n.js"


@pytest.fixture(autouse=True)
def chinese() -> object:
    with translation.override("zh-hans"):
        yield


def phone_words() -> dict[str, str]:
    """The patrol app's zh-hans dictionary (key → text)."""
    source = APP_DICTIONARY.read_text(encoding="utf-8")
    block = source[source.index('"zh-hans": {') : source.index("\n  en: {")]
    return dict(re.findall(r'(\w+): "([^"]*)"', block))


def test_each_incident_state_has_its_own_name() -> None:
    names = [str(label) for label in IncidentStatus.labels]
    assert len(set(names)) == len(names), names
    assert str(IncidentStatus.RECEIVED.label) == "已接警"
    assert str(IncidentStatus.ACKNOWLEDGED.label) == "已签收"
    assert str(IncidentStatus.TRANSFER_PENDING.label) == "待派出所接收"
    assert str(IncidentStatus.TRANSFER_RECEIVED.label) == "已移交派出所"


def test_call_received_and_crew_acknowledged_mean_one_state_each() -> None:
    labels = {
        (table.__name__, str(label))
        for table in (IncidentStatus, AssignmentStatus, UnitStatus)
        for label in table.labels
    }
    assert {t for t, label in labels if "接警" in label} == {"IncidentStatus"}
    assert [label for _t, label in labels if "接警" in label] == ["已接警"]
    assert {label for _t, label in labels if "签收" in label} == {"已签收"}


def test_the_patrol_app_names_each_state_as_the_command_map_does() -> None:
    words = phone_words()
    for status in IncidentStatus:
        assert words[f"is_{status.value}"] == str(status.label), status
    # The crew's button and target speak of 签收, never of 接警 (the call taker's word).
    assert words["a_acknowledge"] == words["accept"] == "签收"
    assert "签收" in words["t1"]
    assert [key for key, text in words.items() if "接警" in text] == ["is_received"]


def test_the_timeline_and_the_transfer_steps_use_the_same_words() -> None:
    events = {kind: str(label) for kind, label in EVENT_KIND_LABELS.items()}
    assert len(set(events.values())) == len(events), events
    # Event names, not the statistics' counts of the same English words (…数).
    assert events["resolved"] == str(IncidentStatus.RESOLVED_ON_SCENE.label) == "现场处结"
    assert events["cancelled"] == "撤销警情"
    assert not any(text.endswith("数") for text in events.values())
    # A station receives a transfer; 签收 stays the crew's.
    assert events["transfer_received"] == "派出所已接收"
    assert str(BY_ACTION["receive_transfer"].label) == "接收移交"
    assert str(BY_ACTION["resolve"].label) == "现场处结"
