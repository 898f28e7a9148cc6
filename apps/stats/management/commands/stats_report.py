"""python manage.py stats_report --start YYYY-MM-DD --end YYYY-MM-DD: the model's report.

Prints the figures the way the model reported them ("共接报警情 5046 起，其中刑事 327 起…，
移交率 21.6%，纠纷现场处结率 84.8%…", the arrivals as "3分钟到达率 (重点区域) x%, 5分钟到达率 y%"),
in Chinese by default, ``--lang en`` for English.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from apps.common.commands import command_day
from apps.incidents.models import Category
from apps.stats.report import render
from apps.stats.selectors import StatsFilter, summary
from apps.units.models import StagingPoint, Station, Unit


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
        start, end = command_day(options["start"]), command_day(options["end"])
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
