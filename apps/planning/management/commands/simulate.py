"""python manage.py simulate --days 61 --calls 5046 [--seed 1] [--start YYYY-MM-DD] [--keep]

Replays a synthetic stream of calls through the real dispatch services in simulated time and
prints the statistics (apps/incidents/simulation.py). Nothing is kept unless --keep is given.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from apps.planning.simulation import simulate
from apps.stats.report import render
from apps.stats.selectors import local_today


class Command(BaseCommand):
    help = "What-if: replay synthetic calls through the dispatch services and report statistics."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=61)
        parser.add_argument("--calls", type=int, default=5046)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--start", help="first simulated day (default: --days before today)")
        parser.add_argument("--keep", action="store_true", help="commit the simulated incidents")
        parser.add_argument("--lang", default="zh-hans", choices=["zh-hans", "en"])

    def handle(self, *args: Any, **options: Any) -> None:
        days, calls = options["days"], options["calls"]
        if days < 1 or calls < 1:
            raise CommandError(_("--days and --calls must be at least 1."))
        if options["start"]:
            try:
                start = date.fromisoformat(options["start"])
            except ValueError as exc:
                raise CommandError(_("--start is not a date (YYYY-MM-DD).")) from exc
        else:
            start = local_today() - timedelta(days=days)
        try:
            result = simulate(
                days=days, calls=calls, seed=options["seed"], start=start, keep=options["keep"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        with translation.override(options["lang"]):
            self.stdout.write(
                _(
                    "Simulated %(start)s – %(end)s: %(calls)d calls, %(waited)d waited for a "
                    "free unit (longest queue %(queue)d)."
                )
                % {
                    "start": result.start,
                    "end": result.end,
                    "calls": result.calls,
                    "waited": result.waited,
                    "queue": result.max_queue,
                }
            )
            for line in render(result.summary):
                self.stdout.write(line)
