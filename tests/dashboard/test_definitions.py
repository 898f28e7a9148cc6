"""What the dashboard's counts mean beside its shares, and street presence from when a unit exists.

The target shares read every call's timestamps; the escalations and arrival alarms are records
of the live timers (apps/incidents/deadlines.py), which imported history never had. The page
shows the late counts of the shares' own definition and says why the live records are fewer.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.incidents import services
from apps.incidents.deadlines import deadline_fire
from apps.incidents.models import Deadline, DeadlineOutcome
from apps.stats.importer import import_incidents
from tests.support.factories import World, at, new_incident, new_world

pytestmark = pytest.mark.django_db

URL = "/command/stats/"
# Cell R1C0 of the small city, near unit U0: not a priority zone (5-minute arrival target).
CALM = {"lat": 22.79, "lon": 100.951}
LIVE_DAY = "2026-11-20"
IMPORTED_DAY = "2026-11-19"
# Three calls of the day before, from a 110 platform's export (no unit column): acknowledged
# after 120, 90 and 30 s; arrived after 600, 200 and 100 s.
HISTORY = (
    "number,received_at,category,lat,lon,dispatched_at,acknowledged_at,arrived_at,closed_at,"
    "outcome\n"
    "H1,2026-11-19 09:00:00,纠纷,22.79,100.951,2026-11-19 09:01:00,2026-11-19 09:03:00,"
    "2026-11-19 09:11:00,2026-11-19 09:30:00,resolved_on_scene\n"
    "H2,2026-11-19 10:00:00,纠纷,22.79,100.951,2026-11-19 10:01:00,2026-11-19 10:02:30,"
    "2026-11-19 10:04:20,2026-11-19 10:30:00,resolved_on_scene\n"
    "H3,2026-11-19 11:00:00,纠纷,22.79,100.951,2026-11-19 11:01:00,2026-11-19 11:01:30,"
    "2026-11-19 11:02:40,2026-11-19 11:30:00,resolved_on_scene\n"
)


def _live_call(world: World, start: datetime, *, ack_s: int, arrive_s: int) -> list[str]:
    """A call dispatched to U0 at ``start`` through the services, acknowledged and arrived after
    ``ack_s`` and ``arrive_s``; its timers fired when due, as the sweeper does. Their outcomes."""
    outcomes: list[str] = []
    with time_machine.travel(start, tick=False) as clock:
        incident = services.incident_dispatch(
            incident=new_incident(world, **CALM), unit=world.unit, actor=world.dispatcher
        )

        def until(seconds: int) -> None:
            moment = start + timedelta(seconds=seconds)
            due = Deadline.objects.filter(
                incident=incident, fired_at__isnull=True, due_at__lte=moment
            )
            for deadline in due.order_by("due_at"):
                clock.move_to(deadline.due_at)
                outcomes.append(str(deadline_fire(deadline_id=deadline.pk)))
            clock.move_to(moment)

        until(ack_s)
        incident = services.incident_acknowledge(incident=incident, actor=world.auxiliary)
        incident = services.incident_en_route(incident=incident, actor=world.auxiliary)
        until(arrive_s)
        incident = services.incident_arrive(incident=incident, actor=world.auxiliary)
        until(arrive_s + 600)
        services.incident_resolve(incident=incident, summary="调解完毕", actor=world.officer)
    return outcomes


@pytest.fixture
def mixed_period() -> World:
    """The live calls of 20 November: one late to acknowledge and to arrive (both timers missed:
    an escalation and an arrival alarm), one in time. The imported calls of 19 November."""
    with time_machine.travel(at(1, 8, month=11), tick=False):
        world = new_world()
    late = _live_call(world, at(20, 10, month=11), ack_s=100, arrive_s=400)
    assert sorted(late) == [DeadlineOutcome.MISSED, DeadlineOutcome.MISSED]
    in_time = _live_call(world, at(20, 14, month=11), ack_s=30, arrive_s=200)
    assert sorted(in_time) == [DeadlineOutcome.MET, DeadlineOutcome.MET]
    report = import_incidents(io.StringIO(HISTORY))
    assert report.imported == 3
    return world


def _json(client: Client, start: str, end: str) -> dict[str, Any]:
    response = client.get(URL, {"format": "json", "start": start, "end": end})
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def _row(table: dict[str, Any], key: str, value: str) -> dict[str, Any]:
    keys = table["keys"]
    rows = [dict(zip(keys, row, strict=True)) for row in table["rows"]]
    [row] = [row for row in rows if row[key] == value]
    return row


def test_late_counts_share_the_shares_definition_and_live_records_stay_apart(
    commander: Client, mixed_period: World
) -> None:
    body = _json(commander, IMPORTED_DAY, LIVE_DAY)
    summary = body["summary"]
    response = summary["response"]
    assert (summary["total"], body["imported"]) == (5, 3)
    # From the timestamps: acknowledged late H1, H2 and the late live call; arrived late H1 and
    # the late live call.
    assert (response["acknowledge_due"], response["acknowledge_within_target"]) == (5, 2)
    assert (response["arrival_due"], response["arrival_within_target"]) == (5, 3)
    # From the live timers: the late live call only.
    assert (summary["escalations"], summary["breaches"]) == (1, 1)
    point = _row(body["tables"]["staging_points"], "code", "p0")
    assert (point["ack_share"], point["ack_late"], point["escalations"]) == (0.4, 3, 1)
    assert (point["arrival_share"], point["arrival_late"], point["breaches"]) == (0.6, 2, 1)
    unit = _row(body["tables"]["units"], "callsign", "U0")
    assert (unit["ack_late"], unit["arrival_late"], unit["escalations"], unit["breaches"]) == (
        1,
        1,
        1,
        1,
    )


def test_the_page_says_why_live_records_are_fewer_when_history_was_imported(
    commander: Client, mixed_period: World
) -> None:
    html = commander.get(
        URL, {"format": "fragment", "start": IMPORTED_DAY, "end": LIVE_DAY}
    ).content.decode()
    assert "未按时 3 起（共 5 起）" in html  # beside the acknowledge share
    assert "未按时 2 起（共 5 起）" in html  # beside the arrival share
    assert "系统升级（实时计时）" in html and "到达超时告警（实时计时）" in html
    assert 'id="note-imported"' in html
    assert "本期 5 起警情中有 3 起为导入的历史警情" in html
    assert "只统计实时接警的 2 起" in html
    # The live day alone: the counts agree, nothing to explain.
    live_only = commander.get(
        URL, {"format": "fragment", "start": LIVE_DAY, "end": LIVE_DAY}
    ).content.decode()
    assert "未按时 1 起（共 2 起）" in live_only
    assert 'id="note-imported"' not in live_only
    assert 'id="note-targets"' in live_only


def test_a_unit_created_minutes_ago_has_minutes_of_street_presence(commander: Client) -> None:
    now = at(30, 12, month=11)
    with time_machine.travel(now - timedelta(minutes=10), tick=False):
        world = new_world()
    # U0 is dispatched 4 minutes before now: its first status record.
    with time_machine.travel(now - timedelta(minutes=4), tick=False):
        services.incident_dispatch(
            incident=new_incident(world, **CALM), unit=world.unit, actor=world.dispatcher
        )
    with time_machine.travel(now, tick=False):
        body = commander.get(URL, {"format": "json"}).json()  # the last 30 days
    assert (body["start"], body["end"]) == ("2026-11-01", "2026-11-30")
    hours = (
        "hours_patrolling",
        "hours_at_post",
        "hours_travelling",
        "hours_on_scene",
        "hours_out_of_service",
    )
    table = body["tables"]["units"]
    for callsign in ("U0", "U1", "U2", "U3"):
        row = _row(table, "callsign", callsign)
        # Ten minutes since the unit was created, none before it nor after now.
        assert sum(row[h] for h in hours) == pytest.approx(10 / 60, abs=0.01), callsign
    u0 = _row(table, "callsign", "U0")
    assert (u0["hours_at_post"], u0["hours_travelling"]) == (round(6 / 60, 2), round(4 / 60, 2))
    assert _row(table, "callsign", "U1")["hours_at_post"] == round(10 / 60, 2)


def test_the_page_answers_before_computing_and_says_what_it_computes(commander: Client) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = commander.get(URL, {"start": "2026-10-01", "end": "2026-11-30"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "正在计算 2026-10-01 至 2026-11-30 的统计…" in html
    assert 'data-src="?start=2026-10-01&amp;end=2026-11-30&amp;format=fragment"' in html
    assert 'id="dashboard-figures"' not in html
    # Nothing read from the incidents: the figures come with the second request.
    assert not [q for q in queries.captured_queries if "incidents_incident" in q["sql"]]
