"""Fault injection against real processes: a daphne killed with units connected, Redis restarted
with dispatches in flight (and made while it is down), the Celery worker killed with deadlines
pending. The processes share the test database and a private Redis (tests/support/procs.py).
"""

from __future__ import annotations

import signal
from pathlib import Path

from apps.common.models import NoticeCursor
from apps.common.notices import unit_audience
from apps.common.roles import Role
from apps.common.services import token_issue
from apps.incidents.models import Alert, Deadline, DeadlineKind, Event, Incident
from apps.personnel.models import Assignment, Person
from tests.support.api import Api
from tests.support.factories import UserFactory, crew_member, small_city
from tests.support.marks import FAULTS_MARKS
from tests.support.procs import stack, wait_for
from tests.support.ws import UnitClient

pytestmark = FAULTS_MARKS


def _crews() -> tuple[str, dict[int, str]]:
    """A dispatcher's token and a crew token for each of the small city's four units."""
    city = small_city()
    dispatcher = UserFactory(roles=[Role.DISPATCHER])
    tokens = {unit.pk: token_issue(user=crew_member(unit))[1] for unit in city.units}
    return token_issue(user=dispatcher)[1], tokens


def _dispatch(api: Api, unit_pk: int) -> int:
    incident = api.new_incident()
    api.post(f"/api/incidents/{incident['id']}/dispatch/", {"unit": unit_pk})
    return int(incident["id"])


def _sequenced(client: UnitClient) -> list[int]:
    """The sequence numbers of the live and caught-up notices a client received, in order."""
    return [
        f["seq"]
        for f in client.frames
        if "seq" in f and f.get("type") != "snapshot" and not f.get("resent")
    ]


def _head(unit_pk: int) -> int:
    return NoticeCursor.objects.get(audience=unit_audience(unit_pk)).last_seq


def test_units_on_a_killed_daphne_reconnect_to_the_other_and_miss_nothing(tmp_path: Path) -> None:
    dispatcher_token, tokens = _crews()
    with stack(tmp_path, ALERT_RESEND_S=2) as s:
        _, port_a = s.start_daphne("daphne-a")
        daphne_b, port_b = s.start_daphne("daphne-b")
        api = Api(port_b, dispatcher_token)
        # Every unit on daphne A (first in its list), with B as the fallback.
        clients = {pk: UnitClient(ports=[port_a, port_b], token=tok) for pk, tok in tokens.items()}
        for c in clients.values():
            c.open()
        before = {pk: _dispatch(api, pk) for pk in clients}
        for pk, c in clients.items():
            c.wait_alert(before[pk])
            api.post(f"/api/incidents/{before[pk]}/cancel/", {"reason": "演练"})
        s.procs[[p.name for p in s.procs].index("daphne-a")].kill(signal.SIGKILL)
        # While the units are cut off: a dispatch that is cancelled again (its alert withdrawn:
        # the catch-up brings its place in the sequence and the cancellation, never the alert)
        # and a dispatch that stands (alert and re-send).
        cancelled, standing = {}, {}
        for pk in clients:
            cancelled[pk] = _dispatch(api, pk)
            api.post(f"/api/incidents/{cancelled[pk]}/cancel/", {"reason": "演练"})
            standing[pk] = _dispatch(api, pk)
        for pk, c in clients.items():
            c.wait_alert(standing[pk], timeout=60)
            wait_for(
                lambda c=c, pk=pk: c.last_seq >= _head(pk) or (c.pump(0.3) and False),
                timeout=60,
                what=f"unit {pk} caught up",
            )
            assert c.reconnects >= 1
            seqs = _sequenced(c)
            # Every notice of the unit's stream, each once, in order: nothing missed.
            assert seqs == list(range(1, _head(pk) + 1)), seqs
            assert cancelled[pk] not in {a["incident"]["id"] for a in c.alerts.values()}
            told = {
                (f["type"], f.get("incident_id"))
                for f in c.frames
                if f.get("type") in ("dispatch.expired", "dispatch.withdrawn")
            }
            assert told >= {
                ("dispatch.expired", cancelled[pk]),
                ("dispatch.withdrawn", cancelled[pk]),
            }, told
        assert daphne_b.popen.poll() is None
        for c in clients.values():
            c.close()


def test_alerts_dispatched_while_redis_is_down_are_all_delivered_after_it_is_back(
    tmp_path: Path,
) -> None:
    dispatcher_token, tokens = _crews()
    with stack(tmp_path, ALERT_RESEND_S=2) as s:
        _, port = s.start_daphne()
        api = Api(port, dispatcher_token)
        clients = {pk: UnitClient(ports=[port], token=tok) for pk, tok in tokens.items()}
        for c in clients.values():
            c.open()
        dispatched: dict[int, int] = {}

        def round_(expect_now: bool) -> None:
            ids = {pk: _dispatch(api, pk) for pk in clients}
            dispatched.update({i: pk for pk, i in ids.items()})
            if expect_now:
                for pk, c in clients.items():
                    c.wait_alert(ids[pk])
                    api.post(f"/api/incidents/{ids[pk]}/cancel/", {"reason": "演练"})

        round_(expect_now=True)
        assert s.redis is not None
        s.redis.kill(signal.SIGKILL)
        # Redis is down: the dispatches still commit (the alerts are in the outbox).
        down = {pk: _dispatch(api, pk) for pk in clients}
        dispatched.update({i: pk for pk, i in down.items()})
        assert Alert.objects.filter(incident_id__in=down.values()).count() == len(clients)
        for c in clients.values():
            c.pump(0.5)  # the sockets notice the outage
        s.start_redis()
        for pk, c in clients.items():
            c.wait_alert(down[pk], timeout=90)
            api.post(f"/api/incidents/{down[pk]}/cancel/", {"reason": "演练"})
        round_(expect_now=True)
        for incident_id, pk in dispatched.items():
            assert any(a["incident"]["id"] == incident_id for a in clients[pk].alerts.values())
        for c in clients.values():
            c.close()


def test_every_deadline_fires_exactly_once_with_redis_restarted_and_the_worker_killed(
    tmp_path: Path,
) -> None:
    """Redis dies under the worker and comes back, then the worker is killed: the web process's
    sweeper fires every deadline anyway, each exactly once; the texts go out when a worker is
    back (issue 14)."""
    dispatcher_token, tokens = _crews()
    Person.objects.update(phone="13900001111")
    # Escalations text the crew on the current shift: posted to every shift, a shift change
    # during the test changes nothing.
    Assignment.objects.update(shift=None)
    env = {"TARGET_ACKNOWLEDGE_S": 4, "DEADLINE_SWEEP_S": 1, "ESCALATION_REDISPATCH": 0}
    with stack(tmp_path, **env) as s:
        _, port = s.start_daphne()
        worker = s.start_worker()
        s.start_beat()
        api = Api(port, dispatcher_token)
        incidents = [_dispatch(api, pk) for pk in tokens]
        deadlines = list(
            Deadline.objects.filter(incident_id__in=incidents, kind=DeadlineKind.ACKNOWLEDGE)
        )
        assert len(deadlines) == len(incidents)
        wait_for(
            lambda: worker.tail(2000).count("deadline_fire_task") >= len(incidents),
            timeout=30,
            what="the countdown tasks in the worker",
        )
        assert s.redis is not None
        s.redis.kill(signal.SIGKILL)
        s.start_redis()
        worker.kill(signal.SIGKILL)
        wait_for(
            lambda: (
                Incident.objects.filter(pk__in=incidents, escalated_at__isnull=False).count()
                == len(incidents)
            ),
            timeout=60,
            what="every escalation with no worker running",
        )
        assert Deadline.objects.filter(pk__in=[d.pk for d in deadlines], fired_at=None).count() == 0
        worker2 = s.start_worker("worker-2")
        sweeps = worker2.tail(5000).count("deadlines_sweep_task")
        wait_for(
            lambda: worker2.tail(5000).count("deadlines_sweep_task") >= sweeps + 6,
            timeout=60,
            what="more sweeps",
        )
        for incident_id in incidents:
            assert Event.objects.filter(incident_id=incident_id, kind="escalated").count() == 1
        assert Deadline.objects.filter(pk__in=[d.pk for d in deadlines], fired_at=None).count() == 0
        wait_for(
            lambda: (
                (tmp_path / "sms.jsonl").exists()
                and (tmp_path / "sms.jsonl").read_text(encoding="utf-8").count("\n")
                >= len(incidents)
            ),
            timeout=30,
            what="the escalation SMS",
        )
        numbers = Incident.objects.filter(pk__in=incidents).values_list("number", flat=True)
        sms = (tmp_path / "sms.jsonl").read_text(encoding="utf-8")
        for number in numbers:
            assert sms.count(number) == 1, (number, sms)
