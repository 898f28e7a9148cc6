"""python manage.py coverage_report (incidents written as rows: factories.incident_row)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import translation

from tests.support.factories import at, incident_row, small_city

pytestmark = pytest.mark.django_db


@override_settings(DISPATCH_ROAD_DETOUR_FACTOR=1.35, DISPATCH_URBAN_SPEED_KMH=30)
def test_the_command_prints_coverage_and_a_proposal() -> None:
    small_city()
    incident_row(received_at=at(2, 10), status="received", lat=22.78, lon=100.95)
    incident_row(received_at=at(2, 11), status="received", lat=22.80, lon=100.99)
    out = io.StringIO()
    with translation.override("en"):
        call_command(
            "coverage_report", "--start", "2026-03-01", "--end", "2026-03-31", "--propose", "1",
            stdout=out,
        )  # fmt: skip
    text = out.getvalue()
    assert "2 at 2 locations" in text
    assert "Within 300 s: 1 of 2 incidents covered (50.0%)" in text
    assert "Proposed sites:" in text
    assert "Proposal: 1 of 2 incidents covered (50.0%)" in text


def test_the_command_refuses_a_reversed_period() -> None:
    with pytest.raises(CommandError):
        call_command("coverage_report", "--start", "2026-03-02", "--end", "2026-03-01")
