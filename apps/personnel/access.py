"""Who may see what of the personnel records: HR, supervisors up the chain, the person.

One place for the rules, shared by the admin, the API and the resources (export).
"""

from __future__ import annotations

from typing import Any

from apps.common import roles as _roles
from apps.common.roles import Role, has_role

# The shared roles module may define the rule; prefer it when present.
_shared_can_see_id_numbers = getattr(_roles, "can_see_id_numbers", None)


def is_hr(user: Any) -> bool:
    """HR staff (and superusers) edit all personnel, training and care records."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser or has_role(user, Role.HR))


def can_see_id_numbers(user: Any) -> bool:
    """Full ID-card numbers are shown to HR and superusers only."""
    if _shared_can_see_id_numbers is not None:
        return bool(_shared_can_see_id_numbers(user)) or is_hr(user)
    return is_hr(user)


def mask_id_card(number: str) -> str:
    """An ID-card number with all but the first 3 and last 4 characters hidden."""
    if not number:
        return ""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def id_card_for(user: Any, number: str) -> str:
    return number if can_see_id_numbers(user) else mask_id_card(number)
