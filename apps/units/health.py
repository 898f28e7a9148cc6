"""The phones' device health: the latest heartbeat per unit, in the cache (Redis in production).

Only the latest one matters and losing it costs nothing (the next comes 30 s later), so it needs
no table: key `unit-health:<id>`, expiring after HEALTH_TTL_S. The escalation reads it to send
only units whose phone is alive.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.utils import timezone

HEALTH_TTL_S = 24 * 3600


def health_key(unit_id: int) -> str:
    return f"unit-health:{unit_id}"


def heartbeat_ages(unit_ids: list[int], *, now: datetime | None = None) -> dict[int, int | None]:
    """Seconds since each unit's phone last reported (None: no heartbeat kept)."""
    now = now or timezone.now()
    found: dict[str, Any] = cache.get_many([health_key(pk) for pk in unit_ids])
    ages: dict[int, int | None] = {}
    for pk in unit_ids:
        record = found.get(health_key(pk))
        if record is None:
            ages[pk] = None
            continue
        received = datetime.fromisoformat(record["received_at"])
        ages[pk] = max(0, int((now - received).total_seconds()))
    return ages
