"""Reads for training: the daily roster (2/3 on the street, 1/3 in training), mentoring flags
and certifications about to expire."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from apps.personnel.models import Assignment, Person
from apps.personnel.selectors import ShiftWindow, shift_window
from apps.units.models import StagingPoint

from .models import (
    Attendance,
    AttendanceStatus,
    Certification,
    Competency,
    Mentorship,
    SignOff,
)

# Attendance that takes a person off the street for the session.
IN_TRAINING_STATUSES = (AttendanceStatus.PLANNED, AttendanceStatus.PRESENT)


@dataclass
class RosterRow:
    staging_point: StagingPoint
    window: ShiftWindow
    rostered: list[Person] = field(default_factory=list)
    in_training: list[Person] = field(default_factory=list)
    call_takers: list[Person] = field(default_factory=list)
    unsigned_call_takers: list[Person] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def shift(self) -> int:
        return self.window.shift

    @property
    def on_street(self) -> list[Person]:
        training = {p.pk for p in self.in_training}
        return [p for p in self.rostered if p.pk not in training]

    @property
    def street_share(self) -> float | None:
        return len(self.on_street) / len(self.rostered) if self.rostered else None


def call_taking_gaps(*, people: list[int], on: date) -> set[int]:
    """Of the given people, the mentees (in a mentorship running on the day) who are not yet
    signed off on every competency required to take calls."""
    required = set(
        Competency.objects.filter(required_for_call_taking=True).values_list("pk", flat=True)
    )
    if not required or not people:
        return set()
    mentees = set(
        Mentorship.objects.filter(
            Q(ended_on__isnull=True) | Q(ended_on__gte=on),
            mentee_id__in=people,
            started_on__lte=on,
        ).values_list("mentee_id", flat=True)
    )
    signed: dict[int, set[int]] = defaultdict(set)
    for mentee_id, competency_id in SignOff.objects.filter(
        mentorship__mentee_id__in=mentees, signed_off_on__lte=on, competency_id__in=required
    ).values_list("mentorship__mentee_id", "competency_id"):
        signed[mentee_id].add(competency_id)
    return {m for m in mentees if not required <= signed[m]}


def daily_roster(
    *, day: date, staging_point: StagingPoint | None = None, shift: int | None = None
) -> list[RosterRow]:
    """Per staging point and shift starting on `day`: who is rostered (postings overlapping the
    shift; a posting without a shift is in every shift), who of them is in a training session
    overlapping the shift, and warnings when fewer than 2/3 are on the street, when the street
    crew falls below MIN_CREW_ON_STREET, or when a call taker is not signed off on call-taking.
    """
    points = [staging_point] if staging_point else list(StagingPoint.objects.order_by("code"))
    shifts = [shift] if shift else [1, 2, 3]
    windows = {s: shift_window(day, s) for s in shifts}
    span_start = min(w.start for w in windows.values())
    span_end = max(w.end for w in windows.values())

    postings = list(
        Assignment.objects.filter(
            Q(valid_to__isnull=True) | Q(valid_to__gt=span_start),
            valid_from__lt=span_end,
            staging_point__in=points,
        ).select_related("person")
    )
    attendance = list(
        Attendance.objects.filter(
            session__starts_at__lt=span_end,
            session__ends_at__gt=span_start,
            status__in=IN_TRAINING_STATUSES,
        ).values_list("person_id", "session__starts_at", "session__ends_at")
    )
    gaps = call_taking_gaps(people=[p.person_id for p in postings if p.call_taker], on=day)
    min_crew = settings.MIN_CREW_ON_STREET

    rows: list[RosterRow] = []
    for point in points:
        for s in shifts:
            w = windows[s]
            row = RosterRow(staging_point=point, window=w)
            seen: set[int] = set()
            for p in postings:
                overlaps = p.valid_from < w.end and (p.valid_to is None or p.valid_to > w.start)
                if (
                    p.staging_point_id != point.pk
                    or not overlaps
                    or (p.shift is not None and p.shift != s)
                    or p.person_id in seen
                ):
                    continue
                seen.add(p.person_id)
                row.rostered.append(p.person)
                if p.call_taker:
                    row.call_takers.append(p.person)
                    if p.person_id in gaps:
                        row.unsigned_call_takers.append(p.person)
            training = {pid for pid, start, end in attendance if start < w.end and end > w.start}
            row.in_training = [p for p in row.rostered if p.pk in training]
            _warn(row, min_crew)
            rows.append(row)
    return rows


def _warn(row: RosterRow, min_crew: int) -> None:
    street = len(row.on_street)
    total = len(row.rostered)
    if total and street * 3 < total * 2:
        row.warnings.append(
            _("Only %(street)d of %(total)d on the street: below two thirds.")
            % {"street": street, "total": total}
        )
    if street < min_crew:
        row.warnings.append(
            _("%(street)d on the street: below the minimum crew of %(min)d.")
            % {"street": street, "min": min_crew}
        )
    for person in row.unsigned_call_takers:
        row.warnings.append(
            _("%(name)s is rostered as call taker but not signed off on call-taking.")
            % {"name": person.name}
        )


def expiring_certifications(*, today: date, days: int = 30) -> QuerySet[Certification]:
    """Certifications expiring from today through the next `days` days, soonest first."""
    return (
        Certification.objects.filter(
            expires_on__gte=today, expires_on__lte=today + timedelta(days=days)
        )
        .select_related("person")
        .order_by("expires_on")
    )
