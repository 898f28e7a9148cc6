"""What the management commands share in reading their arguments."""

from __future__ import annotations

from datetime import date

from django.core.management.base import CommandError
from django.utils.translation import gettext as _


def command_day(value: str) -> date:
    """A YYYY-MM-DD argument, or the command's error naming what was given."""
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(_("%(value)s is not a date (YYYY-MM-DD).") % {"value": value}) from exc
