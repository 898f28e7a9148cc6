"""python manage.py stats_report: the model's report from the model's numbers.

Incidents are created directly as rows with timestamps (see tests.support.factories.incident_row).
"""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.support.factories import small_city
from tests.support.figures import build_model_two_months

pytestmark = pytest.mark.django_db


def report(*args: str) -> list[str]:
    out = StringIO()
    call_command("stats_report", *args, stdout=out)
    return out.getvalue().splitlines()


def test_the_report_reproduces_the_models_published_figures_in_english() -> None:
    build_model_two_months(small_city())
    lines = report("--start", "2026-01-01", "--end", "2026-03-02", "--lang", "en")
    assert lines[0] == (
        "Calls received: 5046, of which criminal 327, public order 459, dispute 1286, "
        "assistance 2239, other 735."
    )
    assert lines[1] == (
        "Transferred to police stations: 1088, of which criminal 299, public order 412, "
        "dispute 195, assistance 131, other 51; transfer share 21.6%."
    )
    assert lines[2] == (
        "On-scene resolution rate: criminal 8.6%, public order 10.2%, dispute 84.8%, "
        "assistance 94.1%, other 93.1%."
    )
    assert lines[4].startswith("Acknowledged within target: ")


def test_the_report_defaults_to_chinese_and_carries_the_same_numbers() -> None:
    build_model_two_months(small_city())
    text = "\n".join(report("--start", "2026-01-01", "--end", "2026-03-02"))
    for figure in ("5046", "1088", "21.6%", "84.8%", "94.1%"):
        assert figure in text


def test_the_report_filters_by_unit_call_sign() -> None:
    city = small_city()
    build_model_two_months(city)
    lines = report(
        "--start",
        "2026-01-01",
        "--end",
        "2026-03-02",
        "--lang",
        "en",
        "--unit",
        city.units[0].callsign,
    )
    assert lines[0].startswith("Calls received: 1262,")  # every fourth of 5046, from the first


@pytest.mark.parametrize(
    "args",
    [
        ["--start", "2026-03-02", "--end", "2026-03-01"],
        ["--start", "yesterday", "--end", "2026-03-01"],
        ["--start", "2026-03-01", "--end", "2026-03-01", "--unit", "nobody"],
    ],
)
def test_bad_arguments_stop_with_a_message(args: list[str]) -> None:
    small_city()
    with pytest.raises(CommandError):
        report(*args)


def test_incidents_raised_on_patrol_are_counted_apart_and_never_in_response_times() -> None:
    import time_machine

    from apps.incidents.services import incident_raise_on_patrol, incident_resolve
    from apps.stats.selectors import summary
    from tests.support.factories import crew_member

    city = small_city()
    build_model_two_months(city)
    before = summary(start=date(2026, 1, 1), end=date(2026, 3, 2))
    with time_machine.travel("2026-01-01T00:00:00Z", tick=False):
        crew = crew_member(city.units[0], username="patrol-crew", shift=None)  # posted since Dec
    for day in ("2026-01-10T03:00:00Z", "2026-02-10T03:00:00Z"):
        with time_machine.travel(day, tick=False):
            raised = incident_raise_on_patrol(
                actor=crew,
                category="assistance",
                priority=2,
                lat=22.775,
                lon=100.951,
                address="思茅区振兴大道",
            )
        with time_machine.travel(day.replace("03:00", "03:20"), tick=False):
            incident_resolve(incident=raised, summary="已帮助", actor=crew)
    lines = report("--start", "2026-01-01", "--end", "2026-03-02", "--lang", "en")
    assert lines[0].startswith("Calls received: 5048,")
    assert lines[1] == (
        "Of these, 2 were raised by crews on patrol (以巡待接) and 5046 came in as 110 calls; "
        "response times count the calls only."
    )
    after = summary(start=date(2026, 1, 1), end=date(2026, 3, 2))
    assert after.by_origin == {"call": 5046, "patrol": 2}
    # The dispatch intervals and the targets are the calls' alone.
    assert after.response.dispatch_to_arrival == before.response.dispatch_to_arrival
    assert after.response.arrival_due == before.response.arrival_due
    assert after.response.arrival_to_close.n == before.response.arrival_to_close.n + 2
