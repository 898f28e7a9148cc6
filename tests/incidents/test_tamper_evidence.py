"""Tamper evidence that holds against an owner of the database without the key (issue 14).

Each attack is done as such an owner would: raw SQL with the triggers switched off
(session_replication_role = replica), hashes recomputed where that helps the attacker. Each
must be detected by `manage.py verify_timeline`.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from apps.audit.checkpoints import checkpoint_write
from apps.incidents import services
from apps.incidents.models import Event, Incident
from apps.incidents.timeline import GENESIS
from tests.support.factories import World, advance, new_incident

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="triggers: PostgreSQL"),
]


@pytest.fixture
def city(world: World, settings: Any, tmp_path: Path) -> list[Incident]:
    settings.TIMELINE_CHECKPOINT_FILE = str(tmp_path / "checkpoints.jsonl")
    incidents = [
        advance(world, new_incident(world), "resolved_on_scene"),
        advance(world, new_incident(world), "cancelled"),
    ]
    checkpoint_write()
    assert verify() == [], "a clean timeline verifies"
    return incidents


def verify() -> list[str]:
    out = io.StringIO()
    try:
        call_command("verify_timeline", stdout=out)
    except CommandError:
        return [line for line in out.getvalue().splitlines() if not line.startswith("WARNING")]
    assert out.getvalue().startswith("OK"), out.getvalue()
    return []


@pytest.fixture
def owner() -> Iterator[Any]:
    """A cursor of a database owner who switched the triggers off for the session."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        yield cursor
        cursor.execute("SET LOCAL session_replication_role = origin")


def _last_event(incident: Incident) -> Event:
    return Event.objects.filter(stream="incident", stream_id=incident.pk).order_by("-seq")[0]


def _plain_hash(row: dict[str, Any]) -> str:
    """What an attacker can compute: the unkeyed SHA-256 of the canonical content."""
    content = {
        "stream": row["stream"],
        "stream_id": row["stream_id"],
        "seq": row["seq"],
        "incident": row["incident_id"],
        "unit": row["unit_id"],
        "actor": row["actor_id"],
        "at": row["at"].isoformat(timespec="microseconds"),
        "kind": row["kind"],
        "from": row["from_state"],
        "to": row["to_state"],
        "reason": row["reason"],
        "payload": row["payload"],
        "prev": row["prev_hash"],
    }
    raw = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def test_deleting_the_last_event_of_a_stream_is_detected(city: list[Incident], owner: Any) -> None:
    owner.execute("DELETE FROM incidents_event WHERE id = %s", [_last_event(city[0]).pk])
    problems = verify()
    assert any("checkpointed but missing" in p for p in problems), problems


def test_an_appended_forged_event_is_detected(city: list[Incident], owner: Any) -> None:
    last = _last_event(city[0])
    row = {
        "stream": "incident",
        "stream_id": city[0].pk,
        "seq": last.seq + 1,
        "incident_id": city[0].pk,
        "unit_id": None,
        "actor_id": None,
        "at": last.at,
        "kind": "note",
        "from_state": "",
        "to_state": "",
        "reason": "forged",
        "payload": {},
        "prev_hash": last.hash,
    }
    owner.execute(
        "INSERT INTO incidents_event (stream, stream_id, seq, incident_id, unit_id, actor_id, at,"
        " kind, from_state, to_state, reason, payload, prev_hash, hash, key_id)"
        " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,'{}',%s,%s,'')",
        [*(row[k] for k in list(row)[:11]), row["prev_hash"], _plain_hash(row)],
    )
    problems = verify()
    assert any("unkeyed event after the keyed cutover" in p for p in problems), problems


def test_an_event_signed_with_a_guessed_key_is_detected(city: list[Incident], owner: Any) -> None:
    last = _last_event(city[1])
    owner.execute(
        "UPDATE incidents_event SET reason = 'rewritten', hash = %s WHERE id = %s",
        [hashlib.sha256(b"guess").hexdigest(), last.pk],
    )
    problems = verify()
    assert any("does not match its hash" in p for p in problems), problems


def test_rewriting_an_event_and_rehashing_everything_after_it_is_detected(
    city: list[Incident], owner: Any
) -> None:
    events = list(
        Event.objects.filter(stream="incident", stream_id=city[0].pk).order_by("seq").values()
    )
    prev = events[0]["prev_hash"] if events else GENESIS
    for row in events:
        if row["seq"] == 2:
            row["reason"] = "rewritten"
        row["prev_hash"] = prev
        row["key_id"] = ""
        row["hash"] = _plain_hash(row)
        prev = row["hash"]
        owner.execute(
            "UPDATE incidents_event SET reason=%s, prev_hash=%s, hash=%s, key_id='' WHERE id=%s",
            [row["reason"], row["prev_hash"], row["hash"], row["id"]],
        )
    problems = verify()
    assert any(f"incident:{city[0].pk}" in p for p in problems), problems


def test_changing_the_incident_row_itself_is_detected(city: list[Incident], owner: Any) -> None:
    owner.execute(
        "UPDATE incidents_incident SET status = 'transfer_received' WHERE id = %s", [city[0].pk]
    )
    problems = verify()
    assert any(p.startswith(f"ROW {city[0].number}") for p in problems), problems


def test_an_incident_row_added_behind_the_systems_back_is_detected(
    city: list[Incident], owner: Any
) -> None:
    owner.execute(
        "INSERT INTO incidents_incident (number, category, priority, status, caller_name,"
        " caller_phone, address, description, lat, lon, received_at, summary, transfer_reason,"
        " cancel_reason, imported) VALUES ('110-20990101-9999', 'other', 3, 'received', '', '',"
        " 'x', '', 22.78, 100.95, now(), '', '', '', false)"
    )
    assert any("not written by the system" in p for p in verify())


@pytest.mark.django_db(transaction=True)
def test_truncate_is_refused(city: list[Incident]) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL cad.allow_truncate = off")
        cursor.execute("TRUNCATE incidents_event CASCADE")
    assert Event.objects.exists()


def test_emptying_the_timeline_with_the_triggers_off_is_detected(
    city: list[Incident], owner: Any
) -> None:
    owner.execute("DELETE FROM incidents_event")
    problems = verify()
    assert any("fewer than at the last checkpoint" in p for p in problems), problems
    # Every incident now lacks its events, too.
    assert sum("not written by the system" in p for p in problems) == len(city)


def test_a_checkpoint_line_cannot_be_edited(city: list[Incident], settings: Any) -> None:
    path = Path(settings.TIMELINE_CHECKPOINT_FILE)
    line = json.loads(path.read_text().splitlines()[0])
    line["events"] = 0
    path.write_text(json.dumps(line) + "\n")
    assert any("signature does not verify" in p for p in verify())


def test_new_work_after_a_checkpoint_verifies(city: list[Incident], world: World) -> None:
    incident = new_incident(world)
    services.incident_dispatch(incident=incident, unit=world.unit, actor=world.dispatcher)
    checkpoint_write()
    services.incident_cancel(incident=incident, reason="重复报警", actor=world.dispatcher)
    assert verify() == []
