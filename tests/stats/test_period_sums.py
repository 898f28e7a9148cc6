"""The building blocks of the fast raw path (issue 15): the counts and histograms per group
(``grouped_sums``: one query, each row's intervals computed once), the local date computed by
the database, and ``period_sums`` equal from the incidents and from the roll-ups for every key."""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from apps.incidents.models import Incident
from apps.stats.models import HIST_EDGES_S, hist_columns
from apps.stats.selectors import (
    SUMMED_COLUMNS,
    StatsFilter,
    grouped_sums,
    incidents_in,
    local_date,
    period_bounds,
    period_sums,
)
from apps.stats.services import stats_rollup_day
from tests.support.factories import at, incident_row, small_city
from tests.support.figures import MODEL_END, MODEL_START, build_model_two_months

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
LATER = at(10, 0)


def test_the_local_date_is_the_shanghai_date_also_in_a_summer_time_year() -> None:
    city = small_city()
    moments = [
        # 1 July 1988, 00:30 in Shanghai, was 15:30 UTC the day before: summer time (UTC+9)
        datetime(1988, 7, 1, 0, 30, tzinfo=SH),
        datetime(1988, 7, 1, 23, 30, tzinfo=SH),
        datetime(2026, 3, 1, 23, 59, 59, 999000, tzinfo=SH),
        datetime(2026, 3, 2, 0, 0, tzinfo=SH),
        datetime(2026, 3, 2, 7, 59, tzinfo=SH),
        datetime(2026, 3, 2, 8, 0, tzinfo=SH),
    ]
    for moment in moments:
        incident_row(received_at=moment, status="received", cell=city.cells[1])
    found = dict(Incident.objects.annotate(_day=local_date()).values_list("received_at", "_day"))
    assert {m: found[m] for m in moments} == {m: timezone.localtime(m, SH).date() for m in moments}
    assert found[moments[0]] == date(1988, 7, 1)


def test_the_histograms_put_each_interval_in_its_bucket_bounds_included() -> None:
    city = small_city()
    acks = [0, 14.5, 15, 59.999, 60, 180, 299, 300, 14399, 14400, 20000]
    for ack in acks:
        incident_row(
            received_at=at(2, 10), unit=city.units[0], cell=city.cells[1], dispatch_s=5,
            ack_s=ack, close_s=60,
        )  # fmt: skip
    incident_row(received_at=at(2, 10), status="received", cell=city.cells[1])  # no dispatch
    sums = grouped_sums(
        incidents_in(*period_bounds(date(2026, 3, 2), date(2026, 3, 2)), StatsFilter()),
        (),
        now=LATER,
        columns=SUMMED_COLUMNS,
    )[()]
    expected = [0] * len(HIST_EDGES_S)
    for ack in acks:
        expected[bisect_right(HIST_EDGES_S, ack) - 1] += 1
    assert [sums[col] for col in hist_columns("ack")] == expected
    assert sums["ack_n"] == len(acks)
    assert sums["disp_n"] == len(acks)  # the dispatches, all 5 s
    assert sums["disp_h00"] == len(acks)
    assert sums["arr_n"] == 0
    assert sums["total"] == len(acks) + 1
    # Grouped: the same counts, split.
    per_unit = grouped_sums(
        incidents_in(*period_bounds(date(2026, 3, 2), date(2026, 3, 2)), StatsFilter()),
        ("unit",),
        now=LATER,
        columns=SUMMED_COLUMNS,
    )
    assert per_unit[(city.units[0].pk,)]["ack_n"] == len(acks)
    assert per_unit[(None,)]["total"] == 1


@pytest.mark.parametrize(
    "keys",
    [(), ("category",), ("unit",), ("staging_point",), ("day", "category"), ("station", "shift")],
)
def test_a_periods_sums_are_the_same_from_the_incidents_and_from_the_rollups(
    keys: tuple[str, ...],
) -> None:
    city = small_city()
    build_model_two_months(city)
    # Beside the model's calls: cancelled, unanswered, pending and urgent calls, and one in no
    # grid cell, received after midnight (the day before in UTC).
    t0 = at(2, 0, 30)
    u, c = city.units[1], city.cells
    incident_row(received_at=t0, status="cancelled", cell=c[0], unit=u, dispatch_s=9, close_s=5)
    incident_row(received_at=t0, status="received", cell=c[3])
    incident_row(received_at=t0, status="dispatched", cell=c[0], unit=u, dispatch_s=9)
    incident_row(received_at=t0, status="transfer_pending", unit=u, dispatch_s=9, arrive_s=99)
    urgent = incident_row(received_at=t0, cell=c[6], unit=u, dispatch_s=9, ack_s=9, arrive_s=250)
    Incident.objects.filter(pk=urgent.pk).update(priority=1)
    kw = {"start": MODEL_START, "end": MODEL_END, "filters": StatsFilter(), "now": LATER}
    raw = period_sums(**kw, keys=keys, columns=SUMMED_COLUMNS)  # type: ignore[arg-type]
    day = MODEL_START
    while day <= MODEL_END:
        stats_rollup_day(day=day, now=LATER)
        day += timedelta(days=1)
    rolled = period_sums(**kw, keys=keys, columns=SUMMED_COLUMNS)  # type: ignore[arg-type]
    assert (len(raw.aggregated_days), len(rolled.aggregated_days)) == (0, 61)
    assert rolled.groups == raw.groups
    assert sum(g["total"] for g in raw.groups.values()) == 5046 + 5
