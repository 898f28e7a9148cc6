"""python manage.py simulate: synthetic calls through the real dispatch services, reproducible."""

from __future__ import annotations

import io
import json
from dataclasses import asdict
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext

from apps.incidents.models import Incident
from apps.planning.coverage import Site, ZonedDemand, placement_options
from apps.planning.simulation import (
    Assumptions,
    compare,
    default_start,
    simulate,
    transfer_probability,
)
from apps.stats.selectors import local_today
from apps.units.models import StagingPoint, Unit
from tests.support.factories import advance, new_incident, new_world, small_city

pytestmark = pytest.mark.django_db


def test_the_same_seed_gives_the_same_figures_and_nothing_is_kept() -> None:
    small_city()
    first = simulate(days=2, calls=20, seed=7, start=date(2026, 3, 1))
    second = simulate(days=2, calls=20, seed=7, start=date(2026, 3, 1))
    assert first.summary == second.summary
    assert first.summary.total == 20
    # Every call ran the whole chain through the services: dispatched, arrived, closed.
    response = first.summary.response
    assert response.dispatch_to_arrival.n == 20 and first.summary.closed == 20
    assert response.arrival_to_close.median_s is not None
    assert Incident.objects.count() == 0
    other = simulate(days=2, calls=20, seed=8, start=date(2026, 3, 1))
    assert other.summary != first.summary


def test_the_simulation_runs_in_a_private_copy_and_only_reads_the_live_database() -> None:
    """Nothing of the live database is written or locked while a commander simulates (in one
    long transaction there, the units' rows would stay locked and live dispatch would wait)."""
    world = new_world()
    busy = advance(world, new_incident(world), "en_route")
    live = connections["default"]
    seen: list[tuple[str, str, int]] = []

    def look(n: int) -> bool:
        if n == 1:
            here = connections["default"]
            free = Unit.objects.filter(current_incident__isnull=True).count()
            seen.append((here.vendor, str(here.settings_dict["NAME"]), free))
        return False

    with CaptureQueriesContext(live) as ctx:
        result = simulate(days=1, calls=12, seed=5, start=date(2026, 3, 1), on_call=look)
    assert result.summary.total == 12 and result.summary.closed == 12
    # Inside: an in-memory SQLite copy in which every unit is free (the live incident's unit too).
    assert seen == [("sqlite", ":memory:", 4)]
    statements = [q["sql"].lstrip().upper() for q in ctx.captured_queries]
    assert statements and all(s.startswith("SELECT") for s in statements), statements
    assert not any("FOR UPDATE" in s for s in statements)
    assert connections["default"] is live
    # With move-up, the year before the period is copied too: the demand the advice weighs.
    copied: list[int] = []
    tomorrow = local_today() + timedelta(days=1)
    simulate(
        days=1,
        calls=3,
        seed=5,
        start=tomorrow,
        assumptions=Assumptions(move_up=True),
        on_call=lambda n: bool(copied.append(Incident.objects.filter(pk=busy.pk).count())),
    )
    assert copied[0] == 1
    busy.refresh_from_db()
    assert busy.status == "en_route" and Incident.objects.count() == 1
    assert Unit.objects.get(pk=busy.unit_id).current_incident_id == busy.pk


def test_keep_commits_the_simulated_incidents() -> None:
    small_city()
    simulate(days=1, calls=5, seed=1, start=date(2026, 3, 1), keep=True)
    assert Incident.objects.count() == 5
    assert not Incident.objects.exclude(status__in=["resolved_on_scene", "transfer_received"])


def test_the_command_prints_the_report_reproducibly() -> None:
    small_city()

    def run() -> str:
        out = io.StringIO()
        call_command(
            "simulate", "--days", "2", "--calls", "15", "--seed", "3", "--start", "2026-03-01",
            "--lang", "en", stdout=out,
        )  # fmt: skip
        return out.getvalue()

    text = run()
    assert text == run()
    assert "15 calls" in text and "Calls received: 15," in text


# --- the simulation a commander can decide with (issue: escalations run, units patrol, outcomes
# are results, placements are compared on the same calls) ---------------------------------------


def test_escalations_run_and_a_silent_unit_is_replaced_as_live() -> None:
    small_city()
    silent = Assumptions(acknowledge_on_time_share=0.0, acknowledge_late_s=(70, 90))
    result = simulate(days=1, calls=6, seed=2, start=date(2026, 3, 1), assumptions=silent)
    # Every first crew answered after the minute: the deadline fired, the escalation is counted
    # and the live follow-up sent the next unit.
    assert result.summary.escalations == 6
    assert result.redispatched >= 1
    kept = simulate(
        days=1,
        calls=6,
        seed=2,
        start=date(2026, 3, 1),
        assumptions=Assumptions(**{**asdict(silent), "redispatch": False}),
    )
    assert kept.summary.escalations == 6 and kept.redispatched == 0


def test_idle_units_patrol_their_grid_and_the_ranking_sees_where_they_are() -> None:
    city = small_city()
    simulate(days=1, calls=8, seed=4, start=date(2026, 3, 1), keep=True)
    fixes = {u.callsign: (u.lat, u.lon) for u in Unit.objects.exclude(position_at=None)}
    assert fixes, "free units report where they patrol"
    # A fix lies in the unit's own cells (patrolling) or on its way back from a scene, and is
    # not simply its staging point.
    points = {u.callsign: (u.staging_point.lat, u.staging_point.lon) for u in city.units}
    assert any(fixes[c] != points[c] for c in fixes)
    for lat, lon in fixes.values():
        assert 22.76 <= lat <= 22.80 and 100.94 <= lon <= 101.02
    waiting = simulate(
        days=1,
        calls=8,
        seed=4,
        start=date(2026, 3, 2),
        assumptions=Assumptions(patrol=False),
    )
    assert waiting.assumptions.patrol is False


def test_transfers_are_a_result_of_how_fast_units_arrive() -> None:
    assert transfer_probability("dispute", late_s=0) == pytest.approx(0.13)
    assert transfer_probability("dispute", late_s=600) > transfer_probability("dispute", late_s=60)
    assert transfer_probability("criminal", late_s=-100) == pytest.approx(0.90)
    small_city()

    def run(factor: tuple[float, float]) -> int:
        a = Assumptions(travel_factor=factor)
        return simulate(
            days=2, calls=60, seed=5, start=date(2026, 3, 1), assumptions=a
        ).summary.transferred

    # The same calls and crews; only the roads are slower.
    assert run((6.0, 8.0)) > run((0.5, 0.6))


def test_the_comparison_runs_today_the_proposal_and_move_up_on_the_same_calls() -> None:
    city = small_city()
    before = [(p.lat, p.lon) for p in city.points]
    cmp = compare(days=1, calls=15, seed=6, start=date(2026, 3, 1), ks=(2, 3, 4))
    assert cmp.today.calls == cmp.proposed.calls == cmp.move_up.calls == 15
    assert cmp.move_up.assumptions.move_up and not cmp.today.assumptions.move_up
    assert [o.k for o in cmp.options] == [2, 3, 4]
    shares = [o.in_time_share or 0 for o in cmp.options]
    assert shares == sorted(shares)  # more units never reach fewer calls
    # Nothing of the what-ifs stays: no incident, the staging points where they were.
    assert Incident.objects.count() == 0
    assert [(p.lat, p.lon) for p in StagingPoint.objects.order_by("code")] == before


def test_the_placement_weights_priority_zone_calls() -> None:
    zone = ZonedDemand(22.770, 100.950, 3, True)
    busy = ZonedDemand(22.790, 101.010, 4, False)
    sites = [Site(22.770, 100.950, "zone"), Site(22.790, 101.010, "busy")]
    weighted = placement_options([zone, busy], ks=[1], overhead_s=60, candidates=sites)
    assert [s.label for s in weighted[0].sites] == ["zone"]  # 3 × 2 > 4
    plain = placement_options([zone, busy], ks=[1], overhead_s=60, candidates=sites, zone_weight=1)
    assert [s.label for s in plain[0].sites] == ["busy"]


def test_keeping_refuses_a_period_holding_incidents_and_the_default_start_is_after_them() -> None:
    small_city()
    simulate(days=1, calls=3, seed=1, start=date(2026, 3, 1), keep=True)
    with pytest.raises(ValueError):
        simulate(days=1, calls=3, seed=1, start=date(2026, 3, 1), keep=True)
    assert default_start(7, date(2026, 3, 1)) == date(2026, 3, 2)
    # In the private copy the same period simulates, and the real incidents stay as they were.
    real = list(Incident.objects.order_by("pk").values_list("pk", "status", "closed_at"))
    assert simulate(days=1, calls=3, seed=1, start=date(2026, 3, 1)).summary.total == 3
    assert list(Incident.objects.order_by("pk").values_list("pk", "status", "closed_at")) == real


def test_the_command_compares_and_states_its_assumptions() -> None:
    small_city()
    out = io.StringIO()
    call_command(
        "simulate", "--days", "1", "--calls", "10", "--seed", "3", "--start", "2026-03-01",
        "--compare", "--lang", "en", "--quiet", stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    text = out.getvalue()
    assert "today's staging points" in text and "proposed staging points" in text
    assert "with move-up" in text and "Assumed:" in text
    assert "6 units" in text and "12 units" in text
    data = io.StringIO()
    call_command(
        "simulate", "--days", "1", "--calls", "10", "--seed", "3", "--start", "2026-03-01",
        "--json", "--quiet", stdout=data, stderr=io.StringIO(),
    )  # fmt: skip
    parsed = json.loads(data.getvalue())
    assert parsed["calls"] == 10 and "reach" in parsed and parsed["assumptions"]["patrol"]
