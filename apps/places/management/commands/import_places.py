"""python manage.py import_places FILE [--crs gcj02]: places from CSV or GeoJSON (importer.py).

Prints what was created, updated, left unchanged and rejected (line, column, reason).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from apps.common.imports import ImportFileError, data_lines, rejected_exit, rejects_write
from apps.common.progress import Progress, add_quiet_argument
from apps.places.importer import CRS, import_places


class Command(BaseCommand):
    help = "Import places into the gazetteer from a CSV or GeoJSON file (UTF-8; idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--crs", choices=CRS, default="wgs84", help="coordinate system of the file"
        )
        parser.add_argument(
            "--format", choices=("csv", "geojson"), help="default: from the file's extension"
        )
        add_quiet_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        fmt = options["format"] or (
            "geojson" if path.suffix.lower() in (".geojson", ".json") else "csv"
        )
        try:
            total = None
            if fmt == "csv":
                total = data_lines(str(path))
            with (
                path.open(newline="", encoding="utf-8-sig") as stream,
                Progress(
                    self.stderr,
                    total=total,
                    label=_("Importing"),
                    unit=_("rows"),
                    quiet=options["quiet"],
                ) as progress,
            ):
                report = import_places(stream, fmt=fmt, crs=options["crs"], on_batch=progress.reach)
        except (OSError, UnicodeDecodeError, csv.Error, ImportFileError) as exc:
            raise CommandError(str(exc)) from exc
        rejects_write(self.stderr, report.rejects, report.rejected_rows)
        self.stdout.write(
            _(
                "%(rows)d rows read: %(created)d places created, %(updated)d updated, "
                "%(unchanged)d unchanged, %(rejected)d rejected."
            )
            % {
                "rows": report.rows,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": report.rejected_rows,
            }
        )
        if report.stopped:
            raise CommandError(progress.stopped_note())
        rejected_exit(report.rejected_rows)
