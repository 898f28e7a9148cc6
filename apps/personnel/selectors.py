"""Reads over people and their postings: the responsibility chain, who was on duty when."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import Person


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
    from .access import is_hr

    qs = queryset if queryset is not None else Person.objects.all()
    if is_hr(user):
        return qs
    me = person_of_user(user)
    if me is None:
        return qs.none()
    return qs.filter(pk__in=subordinate_ids(me))
