"""Fault injection in-process against PostgreSQL: a connection dropped in the middle of a request,
and fifty dispatchers racing for ten units."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import psycopg
import pytest
from django.db import close_old_connections, connection
from rest_framework.test import APIClient

from apps.common.errors import DomainError
from apps.common.roles import Role
from apps.incidents import services
from apps.incidents.models import Alert, Event, Incident, IncidentStatus, StreamKind
from apps.units.models import Unit, UnitStatus
from tests.support.factories import UnitFactory, UserFactory, small_city

pytestmark = [
    pytest.mark.faults,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: pg_terminate_backend and row locks across threads",
    ),
]


def _terminate(backend_pid: int) -> None:
    """Kill a backend from a second, independent connection (as a DBA or a failover would)."""
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"] or "postgres",
        dbname=db["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [backend_pid])


def _new_incident(actor: Any) -> Incident:
    return services.incident_create(
        category="dispute", priority=2, lat=22.781, lon=100.951, address="测试路1号", actor=actor
    )


def test_a_dispatch_whose_database_connection_drops_fails_cleanly_and_the_next_succeeds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    city = small_city()
    dispatcher = UserFactory(roles=[Role.DISPATCHER])
    incident = _new_incident(dispatcher)
    unit = city.units[0]
    events_before = Event.objects.filter(incident=incident).count()
    client = APIClient()
    client.force_authenticate(dispatcher)

    original = services.notify_dispatch_alert
    dropped = []

    def drop_then_publish(incident: Incident, **kwargs: Any) -> Any:
        # Inside the dispatch transaction: the incident row and its event are already written.
        with connection.cursor() as c:
            c.execute("SELECT pg_backend_pid()")
            _terminate(c.fetchone()[0])
        dropped.append(True)
        return original(incident, **kwargs)

    monkeypatch.setattr(services, "notify_dispatch_alert", drop_then_publish)
    url = f"/api/incidents/{incident.pk}/dispatch/"
    response = client.post(url, {"unit": unit.pk}, format="json")
    assert dropped
    assert response.status_code == 503, response.content
    assert int(response["Retry-After"]) > 0
    # The request boundary: Django discards the broken connection (request_finished), which
    # the test client does not signal.
    close_old_connections()
    incident.refresh_from_db()
    unit.refresh_from_db()
    assert incident.status == IncidentStatus.RECEIVED and incident.unit_id is None
    assert unit.status == UnitStatus.AVAILABLE and unit.current_incident_id is None
    assert not Alert.objects.filter(incident=incident).exists()
    assert Event.objects.filter(incident=incident).count() == events_before

    monkeypatch.setattr(services, "notify_dispatch_alert", original)
    response = client.post(url, {"unit": unit.pk}, format="json")
    assert response.status_code == 200, response.content
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.DISPATCHED and incident.unit_id == unit.pk
    assert Alert.objects.filter(incident=incident, unit=unit).count() == 1


def test_fifty_dispatchers_racing_for_ten_units_never_double_book_one() -> None:
    city = small_city()
    units = list(city.units) + [
        UnitFactory(callsign=f"R{i}", staging_point=city.points[i % 4]) for i in range(6)
    ]
    dispatcher = UserFactory(roles=[Role.DISPATCHER])
    incidents = [_new_incident(dispatcher) for _ in range(50)]
    barrier = threading.Barrier(50, timeout=60)
    outcomes: dict[int, str] = {}
    lock = threading.Lock()

    def dispatcher_thread(i: int) -> None:
        incident, unit = incidents[i], units[i % 10]
        try:
            barrier.wait()
            services.incident_dispatch(incident=incident, unit=unit, actor=dispatcher)
            outcome = "dispatched"
        except DomainError as exc:
            outcome = exc.code
        except Exception as exc:  # anything else is a defect: recorded and asserted below
            outcome = f"error: {exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes[i] = outcome

    threads = [threading.Thread(target=dispatcher_thread, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(outcomes) == 50
    assert not [o for o in outcomes.values() if o.startswith("error")], outcomes
    tally = Counter(outcomes.values())
    assert tally["dispatched"] == 10, tally  # each unit won by exactly one dispatcher
    for unit in Unit.objects.filter(pk__in=[u.pk for u in units]):
        booked = Incident.objects.filter(unit=unit).exclude(status=IncidentStatus.RECEIVED)
        assert booked.count() == 1
        assert unit.status == UnitStatus.DISPATCHED
        assert unit.current_incident_id == booked.get().pk
    # One history row per transition, on the incident's own stream (the unit's stream has its own).
    dispatched_events = Event.objects.filter(stream=StreamKind.INCIDENT, kind="dispatched")
    for incident in Incident.objects.filter(pk__in=[i.pk for i in incidents]):
        dispatched = outcomes[incidents.index(incident)] == "dispatched"
        if dispatched:
            assert incident.status == IncidentStatus.DISPATCHED and incident.unit_id is not None
            assert Alert.objects.filter(incident=incident).count() == 1
            assert dispatched_events.filter(incident=incident).count() == 1
        else:
            assert incident.status == IncidentStatus.RECEIVED and incident.unit_id is None
            assert not Alert.objects.filter(incident=incident).exists()
            assert not dispatched_events.filter(incident=incident).exists()
