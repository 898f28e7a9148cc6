"""python manage.py stats_rollup --start YYYY-MM-DD --end YYYY-MM-DD: recompute the daily roll-ups.

Beat keeps the last 8 days rolled up; older days need this after a change of the roll-up's columns
(migration stats 0002 dropped the rows that lacked the priority-zone counts) or a correction of old
incidents. Each day is its own transaction (``stats_rollup_day``), so an interrupted run keeps the
days it finished and a rerun is harmless.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from apps.common.commands import command_day
from apps.common.progress import Progress, add_quiet_argument
from apps.stats.services import stats_rollup_day


class Command(BaseCommand):
    help = "Recompute the daily statistics (roll-ups) of every day from --start to --end."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--end", required=True, help="last day (inclusive), YYYY-MM-DD")
        add_quiet_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        start, end = command_day(options["start"]), command_day(options["end"])
        if end < start:
            raise CommandError(_("The end is before the start."))
        day, days, incidents = start, 0, 0
        with Progress(
            self.stderr,
            total=(end - start).days + 1,
            label=_("Rolling up"),
            unit=_("days"),
            quiet=options["quiet"],
        ) as progress:
            # Ctrl-C stops after the day being rolled up: the days before are done, the others
            # keep what they had (a rerun goes on).
            while day <= end and not progress.stop_requested:
                incidents += stats_rollup_day(day=day)
                days += 1
                day += timedelta(days=1)
                progress.update()
        if progress.stop_requested:
            self.stderr.write(progress.stopped_note())
        self.stdout.write(
            _("Rolled up %(days)d days (%(incidents)d incidents).")
            % {"days": days, "incidents": incidents}
        )
