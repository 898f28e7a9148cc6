"""Filter validation: bad input → 400 with a message per field, never a 500."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client

from tests.support.dashboard_day import build
from tests.support.factories import small_city

pytestmark = pytest.mark.django_db

URL = "/command/stats/"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-02-30"}, "start"),
        ({"start": "02/03/2026"}, "start"),
        ({"end": "yesterday"}, "end"),
        ({"start": "2026-03-02", "end": "2026-03-01"}, "end"),
        ({"start": "1990-01-01", "end": "2026-03-02"}, "end"),
        ({"station": "999999"}, "station"),
        ({"station": "x"}, "station"),
        ({"staging_point": "999999"}, "staging_point"),
        ({"unit": "-1"}, "unit"),
        ({"category": "murder"}, "category"),
        ({"shift": "4"}, "shift"),
        ({"format": "pdf"}, "format"),
        ({"format": "csv", "table": "callers"}, "table"),
        ({"format": "xlsx"}, "table"),
    ],
)
def test_bad_filters_answer_400_with_the_field(
    commander: Client, params: dict[str, Any], field: str
) -> None:
    small_city()
    response = commander.get(URL, {"format": "json", **params})
    assert response.status_code == 400
    assert field in response.json()["errors"]
    if "format" not in params:
        page = commander.get(URL, params)
        assert page.status_code == 400
        assert page.context["form"].errors[field]
        assert b'class="error"' in page.content


def test_the_default_period_is_the_last_30_days(commander: Client, frozen: None) -> None:
    body = commander.get(URL, {"format": "json"}).json()
    assert (body["start"], body["end"]) == ("2026-02-09", "2026-03-10")


def test_an_empty_filter_means_all(commander: Client, frozen: None) -> None:
    response = commander.get(
        URL, {"format": "json", "station": "", "unit": "", "category": "", "shift": ""}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("field", ["station", "staging_point", "unit"])
def test_an_id_beyond_any_integer_is_a_400_not_a_500(commander: Client, field: str) -> None:
    response = commander.get(URL, {"format": "json", field: "9" * 30})
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_long_period_is_answered_with_the_daily_aggregates(
    commander: Client, frozen: None
) -> None:
    from apps.stats.services import stats_rollup_day

    build()
    stats_rollup_day(day=date(2026, 3, 2))
    response = commander.get(
        URL, {"start": "2026-01-01", "end": "2026-03-09", "format": "fragment"}
    )
    assert response.status_code == 200
    summary = response.context["data"].summary
    assert (summary.total, summary.aggregated_days, summary.response.exact) == (6, 1, True)
    # Percentiles are exact for every period now: no note saying they are interpolated.
    assert b'<p class="note">' not in response.content
