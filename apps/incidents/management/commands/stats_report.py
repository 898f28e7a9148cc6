"""python manage.py stats_report --start YYYY-MM-DD --end YYYY-MM-DD: the model's report.

Prints the figures the way the model reported them ("共接报警情 5046 起，其中刑事 327 起…，
移交率 21.6%，纠纷现场处结率 84.8%…"), in Chinese by default, ``--lang en`` for English.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from apps.incidents.models import Category
from apps.incidents.stats import IntervalFigures, StatsFilter, Summary, summary
from apps.units.models import StagingPoint, Station, Unit


def category_label(category: str) -> str:
    labels = {
        Category.CRIMINAL: pgettext("report", "criminal"),
        Category.PUBLIC_ORDER: pgettext("report", "public order"),
        Category.DISPUTE: pgettext("report", "dispute"),
        Category.ASSISTANCE: pgettext("report", "assistance"),
        Category.OTHER: pgettext("report", "other"),
    }
    return labels[Category(category)]


def percent(numerator: int, denominator: int) -> str:
    """A percentage with one decimal, from the counts (the 4-decimal rates would round twice:
    2108 ÷ 2239 = 0.94149… is 94.1%, but its rate 0.9415 would print as 94.2%)."""
    return "—" if denominator <= 0 else f"{numerator * 100 / denominator:.1f}%"


def seconds(figures: IntervalFigures) -> str:
    if figures.median_s is None:
        return "—"
    return _("%(median)d s (90%%: %(p90)d s)") % {
        "median": round(figures.median_s),
        "p90": round(figures.p90_s or 0),
    }


def render(result: Summary) -> list[str]:
    """The report's lines in the active language."""
    sep = pgettext("list separator", ", ")
    cats = [c.value for c in Category]

    def counted(field: str) -> str:
        return sep.join(
            pgettext("report", "%(category)s %(count)d")
            % {"category": category_label(c), "count": getattr(result.by_category[c], field)}
            for c in cats
        )

    rates = sep.join(
        pgettext("report", "%(category)s %(rate)s")
        % {
            "category": category_label(c),
            "rate": percent(result.by_category[c].resolved_on_scene, result.by_category[c].closed),
        }
        for c in cats
    )
    r = result.response
    return [
        _("Calls received: %(total)d, of which %(parts)s.")
        % {"total": result.total, "parts": counted("total")},
        _("Transferred to police stations: %(n)d, of which %(parts)s; transfer share %(share)s.")
        % {
            "n": result.transferred,
            "parts": counted("transferred"),
            "share": percent(result.transferred, result.total),
        },
        _("On-scene resolution rate: %(parts)s.") % {"parts": rates},
        _(
            "Median intake to dispatch %(dispatch)s, dispatch to acknowledge %(ack)s, dispatch "
            "to arrival %(arrival)s, arrival to close %(close)s."
        )
        % {
            "dispatch": seconds(r.intake_to_dispatch),
            "ack": seconds(r.dispatch_to_acknowledge),
            "arrival": seconds(r.dispatch_to_arrival),
            "close": seconds(r.arrival_to_close),
        },
        _(
            "Acknowledged within target: %(ack)s; arrived within target: %(arrival)s; "
            "escalations: %(escalations)d; arrival breaches: %(breaches)d; cancelled: "
            "%(cancelled)d."
        )
        % {
            "ack": percent(r.acknowledge_within_target, r.acknowledge_due),
            "arrival": percent(r.arrival_within_target, r.arrival_due),
            "escalations": r.escalations,
            "breaches": r.breaches,
            "cancelled": result.cancelled,
        },
    ]


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(_("%(value)s is not a date (YYYY-MM-DD).") % {"value": value}) from exc


class Command(BaseCommand):
    help = "Print the statistics of a period as the model's report (Chinese by default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--end", required=True, help="last day (inclusive), YYYY-MM-DD")
        parser.add_argument("--lang", default="zh-hans", choices=["zh-hans", "en"])
        parser.add_argument("--station", help="police station code")
        parser.add_argument("--staging-point", help="staging point code")
        parser.add_argument("--unit", help="unit call sign")
        parser.add_argument("--category", choices=[c.value for c in Category])
        parser.add_argument("--shift", type=int, choices=[1, 2, 3])

    def handle(self, *args: Any, **options: Any) -> None:
        start, end = _day(options["start"]), _day(options["end"])
        if end < start:
            raise CommandError(_("The end is before the start."))
        filters = StatsFilter(
            station_id=_lookup(Station, "code", options["station"]),
            staging_point_id=_lookup(StagingPoint, "code", options["staging_point"]),
            unit_id=_lookup(Unit, "callsign", options["unit"]),
            category=options["category"],
            shift=options["shift"],
        )
        with translation.override(options["lang"]):
            for line in render(summary(start=start, end=end, filters=filters)):
                self.stdout.write(line)


def _lookup(model: Any, field: str, value: str | None) -> int | None:
    if value is None:
        return None
    found = model.objects.filter(**{field: value}).values_list("pk", flat=True).first()
    if found is None:
        raise CommandError(_("Unknown %(field)s: %(value)s") % {"field": field, "value": value})
    return int(found)
