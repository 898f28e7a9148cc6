"""Who may see what of the personnel records: HR, supervisors up the chain, the person.

One place for the rules, shared by the admin, the API and the resources (export).
"""

from __future__ import annotations

from typing import Any

from apps.common.roles import Role, has_role
from apps.common.roles import can_see_id_numbers as _role_sees_id_numbers


def is_hr(user: Any) -> bool:
    """HR staff (and superusers) edit all personnel, training and care records."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser or has_role(user, Role.HR))


def can_see_id_numbers(user: Any) -> bool:
    """Full ID-card numbers are shown to HR (the shared role rule) and superusers only."""
    return _role_sees_id_numbers(user) or is_hr(user)


def mask_id_card(number: str) -> str:
    """An ID-card number with all but the first 3 and last 4 characters hidden."""
    if not number:
        return ""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def id_card_for(user: Any, number: str) -> str:
    return number if can_see_id_numbers(user) else mask_id_card(number)
