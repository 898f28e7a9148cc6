"""The sweeper runs in every web process as well as from beat, one at a time (issue 14): a round
is left to whoever holds the lock, and the deadline still fires exactly once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from apps.incidents import services
from apps.incidents.models import Event
from apps.realtime.sweeper import SWEEP_LOCK_KEY, deadlines_sweep_exclusive
from cad_project import embedded
from tests.support.factories import World, new_incident

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks: PostgreSQL"),
]


def _other_session() -> Any:
    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"],
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        autocommit=True,
    )


def test_a_round_is_left_to_the_process_holding_the_lock(world: World, settings: Any) -> None:
    settings.ESCALATION_REDISPATCH = False
    incident = services.incident_dispatch(
        incident=new_incident(world), unit=world.unit, actor=world.dispatcher
    )
    later = timezone.now() + timedelta(seconds=61)
    with _other_session() as other:
        other.execute("SELECT pg_advisory_lock(%s)", [SWEEP_LOCK_KEY])
        with time_machine.travel(later):
            assert deadlines_sweep_exclusive() is None
        incident.refresh_from_db()
        assert incident.escalated_at is None, "the other process sweeps this round"
        other.execute("SELECT pg_advisory_unlock(%s)", [SWEEP_LOCK_KEY])
    with time_machine.travel(later):
        assert deadlines_sweep_exclusive() == 1
        assert deadlines_sweep_exclusive() == 0
    incident.refresh_from_db()
    assert incident.escalated_at is not None
    assert Event.objects.filter(incident=incident, kind="escalated").count() == 1
    # The lock was released: another session can take it at once.
    with _other_session() as other:
        assert other.execute("SELECT pg_try_advisory_lock(%s)", [SWEEP_LOCK_KEY]).fetchone()[0]


def test_every_web_process_runs_the_sweeper_even_with_redis(settings: Any) -> None:
    async def inner(scope: Any, receive: Any, send: Any) -> None:
        return None

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.DEADLINE_SWEEP_IN_WEB = True
    assert isinstance(embedded.wrap(inner), embedded.EmbeddedTimers)
    settings.DEADLINE_SWEEP_IN_WEB = False
    assert embedded.wrap(inner) is inner
