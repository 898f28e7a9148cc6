"""End-to-end: real daphne processes, Celery worker and beat on real PostgreSQL and Redis.

The processes share the test database (PostgreSQL only: an in-memory SQLite test database cannot
be shared between processes) and a private Redis server started for each test, so that a test can
kill and restart it without touching anything else.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

from apps.common.roles import Role
from apps.common.services import token_issue
from apps.incidents.models import Alert, Deadline, DeadlineKind, Event, Incident
from apps.personnel.models import Assignment, Person
from tests.support.api import Api
from tests.support.factories import UserFactory, crew_member, small_city
from tests.support.marks import E2E_MARKS
from tests.support.procs import stack, wait_for
from tests.support.ws import UnitClient

pytestmark = E2E_MARKS


def _people() -> tuple[Any, str, str, Any]:
    city = small_city()
    dispatcher = UserFactory(roles=[Role.DISPATCHER])
    aux = crew_member(city.units[0])
    return city, token_issue(user=dispatcher)[1], token_issue(user=aux)[1], city.units[0]


def test_an_alert_dispatched_through_one_process_reaches_a_unit_on_another(tmp_path: Path) -> None:
    _city, dispatcher_token, unit_token, unit = _people()
    with stack(tmp_path) as s:
        _, port_a = s.start_daphne("daphne-a")
        _, port_b = s.start_daphne("daphne-b")
        s.start_worker()
        s.start_beat()
        client = UnitClient(ports=[port_b], token=unit_token)
        client.open()
        client.pump(1)
        api = Api(port_a, dispatcher_token)
        incident = api.new_incident()
        api.post(f"/api/incidents/{incident['id']}/dispatch/", {"unit": unit.pk})
        alert = client.wait_alert(incident["id"])
        assert alert["incident"]["number"] == incident["number"]
        wait_for(
            lambda: Alert.objects.filter(pk=alert["alert_id"], delivered_at__isnull=False).exists(),
            timeout=30,
            what="the delivery receipt",
        )
        client.close()


def test_a_unit_offline_at_dispatch_gets_the_alert_when_it_reconnects_20_s_later(
    tmp_path: Path,
) -> None:
    _city, dispatcher_token, unit_token, unit = _people()
    with stack(tmp_path) as s:
        _, port_a = s.start_daphne("daphne-a")
        _, port_b = s.start_daphne("daphne-b")
        client = UnitClient(ports=[port_b], token=unit_token)
        client.open()
        client.pump(1)
        client.close()
        api = Api(port_a, dispatcher_token)
        incident = api.new_incident()
        api.post(f"/api/incidents/{incident['id']}/dispatch/", {"unit": unit.pk})
        # The scenario itself: the phone is out of coverage for 20 seconds.
        time.sleep(20)
        client.open()
        alert = client.wait_alert(incident["id"])
        assert alert["incident"]["id"] == incident["id"]
        client.close()


def test_an_acknowledge_deadline_fires_exactly_once_after_the_worker_is_killed(
    tmp_path: Path,
) -> None:
    _city, dispatcher_token, _unit_token, unit = _people()
    Person.objects.filter(assignments__staging_point=unit.staging_point).update(phone="13900001111")
    # Escalations text the crew on the current shift: post them to every shift (no shift), so
    # that a shift change during the test changes nothing.
    Assignment.objects.filter(staging_point=unit.staging_point).update(shift=None)
    env = {
        "TARGET_ACKNOWLEDGE_S": 3,
        "DEADLINE_SWEEP_S": 1,
        "ESCALATION_REDISPATCH": 0,
    }
    with stack(tmp_path, **env) as s:
        _, port = s.start_daphne()
        worker = s.start_worker()
        s.start_beat()
        api = Api(port, dispatcher_token)
        incident = api.new_incident()
        api.post(f"/api/incidents/{incident['id']}/dispatch/", {"unit": unit.pk})
        deadline = Deadline.objects.get(incident_id=incident["id"], kind=DeadlineKind.ACKNOWLEDGE)
        # The worker holds the countdown task in memory; kill it before the deadline is due.
        wait_for(lambda: "deadline_fire_task" in worker.tail(400), timeout=30, what="fast path")
        worker.kill(signal.SIGKILL)
        # No worker runs the fast path or beat's sweeps now: the web process's sweeper fires it.
        wait_for(
            lambda: Incident.objects.get(pk=incident["id"]).escalated_at,
            timeout=60,
            what="the escalation with no worker running",
        )
        assert Deadline.objects.get(pk=deadline.pk).fired_at is not None
        s.start_worker("worker-2")
        # Let the new worker run more sweeps: the deadline is not fired again.
        worker2 = s.procs[-1]
        done_before = worker2.tail(5000).count("deadlines_sweep_task")
        wait_for(
            lambda: worker2.tail(5000).count("deadlines_sweep_task") >= done_before + 6,
            timeout=60,
            what="more sweeps",
        )
        events = Event.objects.filter(incident_id=incident["id"], kind="escalated")
        assert events.count() == 1
        assert Deadline.objects.get(pk=deadline.pk).fired_at is not None
        sms_file = tmp_path / "sms.jsonl"
        wait_for(sms_file.exists, timeout=30, what="the escalation SMS")
        sms = sms_file.read_text(encoding="utf-8")
        assert incident["number"] in sms and "13900001111" in sms


def test_restarting_redis_during_a_stream_of_dispatches_loses_no_alert(tmp_path: Path) -> None:
    city, dispatcher_token, _, _ = _people()
    clients = {}
    for unit in city.units[1:]:
        crew = crew_member(unit)
        clients[unit.pk] = token_issue(user=crew)[1]
    with stack(tmp_path, ALERT_RESEND_S=2) as s:
        _, port = s.start_daphne()
        api = Api(port, dispatcher_token)
        units = {pk: UnitClient(ports=[port], token=tok) for pk, tok in clients.items()}
        for c in units.values():
            c.open()
            c.pump(0.5)
        dispatched: dict[int, int] = {}
        for round_no in range(4):
            if round_no == 2:
                assert s.redis is not None
                s.redis.kill(signal.SIGKILL)
                s.start_redis()
            for unit_pk, client in units.items():
                incident = api.new_incident()
                api.post(f"/api/incidents/{incident['id']}/dispatch/", {"unit": unit_pk})
                dispatched[incident["id"]] = unit_pk
                client.wait_alert(incident["id"], timeout=90)
                api.post(f"/api/incidents/{incident['id']}/cancel/", {"reason": "演练"})
        for incident_id, unit_pk in dispatched.items():
            assert any(a["incident"]["id"] == incident_id for a in units[unit_pk].alerts.values())
        for c in units.values():
            c.close()
