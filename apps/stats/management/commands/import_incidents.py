"""python manage.py import_incidents FILE.csv: historical incidents (columns: importer.py, README).

Prints what was imported, skipped (number already present) and rejected (line, column, reason),
then rolls up the statistics of the days it touched.
"""

from __future__ import annotations

import csv
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from apps.common.imports import (
    ImportFileError,
    Reject,
    data_lines,
    rejected_exit,
    rejects_write,
)
from apps.common.progress import Progress, add_quiet_argument
from apps.stats.importer import import_incidents
from apps.stats.services import stats_days_forget, stats_rollup_day


class Command(BaseCommand):
    help = "Import historical incidents from a CSV file (UTF-8; see README for the columns)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--rejects", help="write every rejected row's errors to this CSV")
        parser.add_argument(
            "--no-rollup", action="store_true", help="do not recompute the daily statistics"
        )
        add_quiet_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError(_("The batch size must be at least 1."))
        rejects_file = None
        writer = None
        if options["rejects"]:
            rejects_file = open(options["rejects"], "w", newline="", encoding="utf-8")  # noqa: SIM115
            writer = csv.writer(rejects_file)
            writer.writerow(["line", "column", "reason"])

        def on_reject(item: Reject) -> None:
            if writer is not None:
                writer.writerow([item.line, item.column, item.reason])

        quiet = options["quiet"]
        try:
            total = data_lines(options["file"])
            with (
                open(options["file"], newline="", encoding="utf-8-sig") as stream,
                Progress(
                    self.stderr, total=total, label=_("Importing"), unit=_("rows"), quiet=quiet
                ) as progress,
            ):
                report = import_incidents(
                    stream,
                    batch_size=options["batch_size"],
                    on_reject=on_reject,
                    on_batch=progress.reach,
                )
        except (OSError, UnicodeDecodeError, csv.Error, ImportFileError) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if rejects_file is not None:
                rejects_file.close()
        rejects_write(self.stderr, report.rejects, report.rejected_rows)
        self.stdout.write(
            _(
                "%(rows)d rows read: %(imported)d imported, %(skipped)d skipped (number already "
                "present), %(rejected)d rejected."
            )
            % {
                "rows": report.rows,
                "imported": report.imported,
                "skipped": report.skipped_existing,
                "rejected": report.rejected_rows,
            }
        )
        if report.stopped:
            self.stderr.write(progress.stopped_note())
        if not options["no_rollup"] and report.days:
            self._rollup(sorted(report.days), quiet=quiet)
        if report.stopped:
            raise CommandError(
                _("Stopped on request: %(rows)d rows read; run the same command to go on.")
                % {"rows": report.rows}
            )
        rejected_exit(report.rejected_rows)

    def _rollup(self, days: list[date], *, quiet: bool) -> None:
        """Recompute the statistics of the days the import touched. Stopped (Ctrl-C), the days
        not yet recomputed lose their old figures and are computed from the incidents until
        their next roll-up, so no figure is stale."""
        done: list[date] = []
        with Progress(
            self.stderr, total=len(days), label=_("Rolling up"), unit=_("days"), quiet=quiet
        ) as progress:
            for day in days:
                if progress.stop_requested:
                    break
                stats_rollup_day(day=day)
                done.append(day)
                progress.update()
        left = days[len(done) :]
        if left:
            stats_days_forget(days=left)
        self.stdout.write(_("Statistics recomputed for %(n)d days.") % {"n": len(done)})
