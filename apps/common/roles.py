"""The roles of the dispatch model, as Django group names."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Role(StrEnum):
    COMMANDER = "commander"
    DISPATCHER = "dispatcher"
    HR = "hr"
    UNIT_OFFICER = "unit_officer"
    UNIT_AUXILIARY = "unit_auxiliary"
    STATION = "station"


UNIT_CREW_ROLES = frozenset({Role.UNIT_OFFICER, Role.UNIT_AUXILIARY})
OPERATIONS_ROLES = frozenset({Role.COMMANDER, Role.DISPATCHER})


def roles_of(user: Any) -> frozenset[str]:
    """The role names of a user (cached on the user object for the request)."""
    if not user.is_authenticated:
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_cad_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._cad_roles = cached
    return cached


def has_role(user: Any, *roles: Role) -> bool:
    return bool(roles_of(user) & {str(r) for r in roles})
