"""Reads over people and their postings: the responsibility chain, who was on duty when."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.common.roles import Role
from apps.common.shifts import ShiftWindow as ShiftWindow
from apps.common.shifts import current_shift as current_shift
from apps.common.shifts import shift_at as shift_at
from apps.common.shifts import shift_hours as shift_hours
from apps.common.shifts import shift_window as shift_window
from apps.incidents.models import Incident
from apps.stats.selectors import response_figures
from apps.units.models import Unit

from .access import is_hr
from .models import Assignment, Person


def supervisor_chain(person: Person) -> list[Person]:
    """The person's supervisors, nearest first, up to the top. Stops at a cycle."""
    chain: list[Person] = []
    seen = {person.pk}
    current = person.supervisor
    while current is not None and current.pk not in seen:
        chain.append(current)
        seen.add(current.pk)
        current = current.supervisor
    return chain


def subordinate_ids(person: Person) -> set[int]:
    """Ids of everyone below the person in the chain, transitively (cycle-safe).

    One query per level of the chain.
    """
    found: set[int] = set()
    frontier = {person.pk}
    while frontier:
        below = set(Person.objects.filter(supervisor_id__in=frontier).values_list("pk", flat=True))
        frontier = below - found - {person.pk}
        found |= frontier
    return found


def person_of_user(user: Any) -> Person | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Person.objects.filter(user_id=user.pk).first()


def people_visible_to(user: Any, queryset: QuerySet[Person] | None = None) -> QuerySet[Person]:
    """HR sees everyone; a supervisor sees their reports (transitively); others see nobody."""
    qs = queryset if queryset is not None else Person.objects.all()
    if is_hr(user):
        return qs
    me = person_of_user(user)
    if me is None:
        return qs.none()
    return qs.filter(pk__in=subordinate_ids(me))


# --- Shifts and duty history ------------------------------------------------------------------


def _valid_at(at: datetime) -> Q:
    return Q(valid_from__lte=at) & (Q(valid_to__isnull=True) | Q(valid_to__gt=at))


def on_duty_at(*, unit: Unit, at: datetime) -> QuerySet[Person]:
    """Who was on the unit at a moment: postings to its staging point valid then, in the shift
    running then (a posting without a shift, e.g. the responsible officer's, covers all shifts).
    """
    shift = shift_at(at).shift
    postings = Assignment.objects.filter(_valid_at(at), staging_point_id=unit.staging_point_id)
    postings = postings.filter(Q(shift=shift) | Q(shift__isnull=True))
    return (
        Person.objects.filter(pk__in=postings.values("person_id"))
        .order_by("staff_number")
        .distinct()
    )


# --- Call-handling figures ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallHandlingFigures:
    incidents: int
    acknowledge_median_s: float | None
    acknowledge_p90_s: float | None
    arrival_median_s: float | None
    arrival_p90_s: float | None
    # Shares in 0..1 of the incidents whose outcome is known (None when there are none).
    acknowledge_within_target: float | None
    arrival_within_target: float | None
    on_scene_resolution_rate: float | None


def call_handling_figures(*, incidents: QuerySet[Incident]) -> CallHandlingFigures:
    """Figures of a set of incidents from the one statistics service (apps.incidents.stats):
    times from dispatch to acknowledge and to arrival, shares within the 1-minute acknowledge
    and 3/5-minute arrival targets (3 in priority-zone cells), on-scene resolution rate."""
    figures = response_figures(incidents.filter(dispatched_at__isnull=False))
    return CallHandlingFigures(
        incidents=figures.count,
        acknowledge_median_s=figures.dispatch_to_acknowledge.median_s,
        acknowledge_p90_s=figures.dispatch_to_acknowledge.p90_s,
        arrival_median_s=figures.dispatch_to_arrival.median_s,
        arrival_p90_s=figures.dispatch_to_arrival.p90_s,
        acknowledge_within_target=figures.acknowledge_target_share,
        arrival_within_target=figures.arrival_target_share,
        on_scene_resolution_rate=figures.on_scene_rate,
    )


def month_window(month: date) -> tuple[datetime, datetime]:
    """[first moment of the month, first moment of the next month) in Asia/Shanghai."""
    start = datetime.combine(month.replace(day=1), time(0), tzinfo=timezone.get_default_timezone())
    nxt = (start + timedelta(days=32)).replace(day=1)
    return start, nxt


# A staging point's unit, from, to, the shift (None: all shifts): where and when the incidents
# dispatched count as the person's.
HandledWindow = tuple[int, datetime, datetime, int | None]


def handled_windows(*, person: Person, start: datetime, end: datetime) -> tuple[HandledWindow, ...]:
    """The person's postings to a staging point overlapping [start, end), clipped to it."""
    postings = Assignment.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=start),
        person=person,
        staging_point__isnull=False,
        valid_from__lt=end,
    )
    return tuple(
        sorted(
            (
                p.staging_point_id,
                max(start, p.valid_from),
                min(end, p.valid_to) if p.valid_to else end,
                p.shift,
            )
            for p in postings
            if p.staging_point_id is not None
        )
    )


def incidents_in_windows(windows: tuple[HandledWindow, ...]) -> QuerySet[Incident]:
    match = Q(pk__in=[])
    for staging_point_id, lo, hi, shift in windows:
        window = Q(
            unit__staging_point_id=staging_point_id, dispatched_at__gte=lo, dispatched_at__lt=hi
        )
        if shift is not None:
            # __hour is evaluated in the current time zone (Asia/Shanghai), as are shift hours.
            window &= Q(dispatched_at__hour__in=shift_hours(shift))
        match |= window
    return Incident.objects.filter(match)


def incidents_handled_by(*, person: Person, start: datetime, end: datetime) -> QuerySet[Incident]:
    """Incidents dispatched in [start, end) to the unit of a staging point the person was posted
    to, during the person's shift (any shift for a posting without one)."""
    return incidents_in_windows(handled_windows(person=person, start=start, end=end))


def person_call_handling(*, person: Person, month: date) -> CallHandlingFigures:
    start, end = month_window(month)
    return call_handling_figures(
        incidents=incidents_handled_by(person=person, start=start, end=end)
    )


def people_call_handling(
    *, people: Iterable[Person], month: date
) -> dict[int, CallHandlingFigures]:
    """``person_call_handling`` of many people, by person id. People with the same postings in
    the month (a shift's crew, everyone with no staging point) handled the same incidents: their
    figures are computed once (a period of 224 auxiliaries is ~25 computations, not 224)."""
    start, end = month_window(month)
    computed: dict[tuple[HandledWindow, ...], CallHandlingFigures] = {}
    result: dict[int, CallHandlingFigures] = {}
    for person in people:
        windows = handled_windows(person=person, start=start, end=end)
        if windows not in computed:
            computed[windows] = call_handling_figures(incidents=incidents_in_windows(windows))
        result[person.pk] = computed[windows]
    return result


def commander_phones() -> list[str]:
    """The mobile numbers of the active commanders (escalations, emergencies), sorted, once
    each."""
    return sorted(
        set(
            Person.objects.filter(user__groups__name=Role.COMMANDER, user__is_active=True)
            .exclude(phone="")
            .values_list("phone", flat=True)
        )
    )
