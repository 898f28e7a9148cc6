"""The timeline is append-only and tamper-evident."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from apps.incidents.models import Event, StreamKind
from tests.support.factories import World, advance, new_incident

pytestmark = pytest.mark.django_db

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only"
)


def _run() -> str:
    out = io.StringIO()
    call_command("verify_timeline", stdout=out)
    return out.getvalue()


def _tamper(sql: str, params: list[object]) -> None:
    """Edit a row behind the ORM's back, switching the PostgreSQL trigger off for the edit.

    ALTER TABLE … DISABLE TRIGGER is refused inside this test's transaction (it holds pending
    deferred-FK trigger events), so the edit runs with session_replication_role = replica,
    which skips ordinary triggers for the rest of the transaction only.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


def test_verify_timeline_reports_ok_for_an_untouched_timeline(world: World) -> None:
    advance(world, new_incident(world), "resolved_on_scene")
    assert _run().startswith("OK")


def test_verify_timeline_reports_the_first_edited_event(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    target = Event.objects.get(stream=StreamKind.INCIDENT, stream_id=incident.pk, seq=2)
    _tamper("UPDATE incidents_event SET reason = %s WHERE id = %s", ["篡改", target.pk])
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_timeline", stdout=out)
    report = out.getvalue()
    assert f"incident:{incident.pk} at seq 2 (event id {target.pk})" in report
    assert "edited" in report
    assert report.count("BROKEN") == 1


def test_verify_timeline_reports_a_deleted_event_as_a_gap(world: World) -> None:
    incident = advance(world, new_incident(world), "en_route")
    target = Event.objects.get(stream=StreamKind.INCIDENT, stream_id=incident.pk, seq=2)
    _tamper("DELETE FROM incidents_event WHERE id = %s", [target.pk])
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_timeline", stdout=out)
    assert "sequence gap: expected 2, found 3" in out.getvalue()


@on_postgres
@pytest.mark.parametrize(
    "sql", ["UPDATE incidents_event SET reason = 'x'", "DELETE FROM incidents_event"]
)
def test_database_refuses_update_and_delete_of_events(world: World, sql: str) -> None:
    advance(world, new_incident(world), "dispatched")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert Event.objects.filter(reason="x").count() == 0


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_verify_timeline_catches_an_edit_made_with_the_trigger_disabled(world: World) -> None:
    # Committed rows, so the table has no pending trigger events and ALTER TABLE is allowed:
    # the way an intruder with owner rights would edit the timeline.
    incident = advance(world, new_incident(world), "acknowledged")
    target = Event.objects.get(stream=StreamKind.INCIDENT, stream_id=incident.pk, seq=3)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE incidents_event DISABLE TRIGGER incidents_event_append_only")
        try:
            cursor.execute("UPDATE incidents_event SET actor_id = NULL WHERE id = %s", [target.pk])
        finally:
            cursor.execute("ALTER TABLE incidents_event ENABLE TRIGGER incidents_event_append_only")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_timeline", stdout=out)
    assert f"incident:{incident.pk} at seq 3" in out.getvalue()
