"""What every file import shares: the refusal of a whole file, the per-row rejection, and how
a command reports the rejected rows (line, column, reason)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.management.base import CommandError
from django.utils.translation import gettext as _


class ImportFileError(Exception):
    """The file as a whole cannot be imported (wrong format, no header, missing columns)."""


@dataclass(frozen=True)
class Reject:
    line: int
    column: str
    reason: str


def rejects_write(stream: Any, rejects: Sequence[Reject], rejected_rows: int) -> None:
    """One line per rejected row kept in the report, then how many there were in all."""
    for item in rejects:
        stream.write(
            _("line %(line)d, %(column)s: %(reason)s")
            % {"line": item.line, "column": item.column or "-", "reason": item.reason}
        )
    if rejected_rows > len(rejects):
        stream.write(_("… and more; %(n)d rows rejected in all.") % {"n": rejected_rows})


def rejected_exit(rejected_rows: int) -> None:
    """An import command's end: a non-zero exit status when any row was rejected (a script or an
    operator must not take a partial import for a whole one); the other rows stay imported."""
    if rejected_rows:
        raise CommandError(
            _("%(n)d rows were rejected (listed above); the other rows were imported.")
            % {"n": rejected_rows}
        )


def data_lines(path: str) -> int:
    """A CSV file's lines less the header: a progress bar's total, counted without parsing (a
    quoted field holding a line break makes it a little high; the import's count is exact)."""
    lines = 0
    with open(path, "rb") as raw:
        for block in iter(lambda: raw.read(1 << 20), b""):
            lines += block.count(b"\n")
    return max(0, lines - 1)
