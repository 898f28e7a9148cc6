"""python manage.py simulate: synthetic calls through the real dispatch services, reproducible."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import call_command

from apps.incidents.models import Incident
from apps.planning.simulation import simulate
from tests.support.factories import small_city

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
