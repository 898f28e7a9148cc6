"""python manage.py coverage_report [--start --end] [--propose K]: staging-point coverage.

The share of the period's incidents reachable within 3 and 5 minutes from the current staging
points (with backup coverage), each point's reach, and optionally K proposed sites (MCLP, see
apps/units/coverage.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.common.commands import command_day
from apps.common.progress import Progress, add_quiet_argument
from apps.planning.coverage import Coverage, candidate_sites, coverage_report, period_incidents
from apps.stats.selectors import local_today, period_bounds


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


class Command(BaseCommand):
    help = "Coverage of historical incidents by the staging points; --propose K places K sites."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", help="first day, YYYY-MM-DD (default: 365 days ago)")
        parser.add_argument("--end", help="last day, inclusive (default: today)")
        parser.add_argument("--propose", type=int, help="propose this many sites")
        parser.add_argument("--target", type=int, default=300, help="seconds (default 300)")
        add_quiet_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        end = command_day(options["end"]) if options["end"] else local_today(timezone.now())
        start = command_day(options["start"]) if options["start"] else end - timedelta(days=364)
        if end < start:
            raise CommandError(_("The end is before the start."))
        if options["propose"] is not None and options["propose"] < 1:
            raise CommandError(_("--propose must be at least 1."))
        if options["target"] < 1:
            raise CommandError(_("--target must be at least 1 second."))
        lo, hi = period_bounds(start, end)
        candidates = candidate_sites() if options["propose"] else []
        with Progress(
            self.stderr,
            total=len(candidates),
            label=_("Placing"),
            unit=_("candidate sites"),
            quiet=options["quiet"] or not candidates,
            stoppable=False,
        ) as progress:
            report = coverage_report(
                period_incidents(lo, hi),
                propose=options["propose"],
                target_s=options["target"],
                candidates=candidates or None,
                progress=progress.update,
            )

        def line(label: str, cov: Coverage) -> str:
            return _(
                "%(label)s: %(covered)d of %(total)d incidents covered (%(share)s), "
                "%(backup)d by two or more points (%(backup_share)s)"
            ) % {
                "label": label,
                "covered": cov.covered,
                "total": cov.total,
                "share": _percent(cov.share),
                "backup": cov.backup,
                "backup_share": _percent(cov.backup_share),
            }

        self.stdout.write(
            _("Incidents %(start)s – %(end)s: %(n)d at %(points)d locations.")
            % {"start": start, "end": end, "n": report.incidents, "points": report.demand_points}
        )
        for cov in report.coverage.values():
            self.stdout.write(line(_("Within %(s)d s") % {"s": int(cov.threshold_s)}, cov))
        for point in report.points:
            self.stdout.write(
                _("  %(code)s %(name)s: reach %(m).0f m, %(n)d incidents")
                % {"code": point.code, "name": point.name, "m": point.reach_m, "n": point.covered}
            )
        if report.proposal is not None and report.proposal_coverage is not None:
            self.stdout.write(_("Proposed sites:"))
            for site in report.proposal:
                self.stdout.write(f"  {site.label} {site.lat:.5f},{site.lon:.5f}")
            self.stdout.write(line(_("Proposal"), report.proposal_coverage))
