"""What the command centre is told about units: typed payloads and the helpers that publish them.

These functions only publish (apps.common.notices); the unit services do the writes first.
A status change is numbered (the command map must not miss it); a position is ephemeral (the
latest one is in every snapshot) and is pushed without a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from apps.common.notices import COMMAND, Payload, group_for, nobody_listens, publish
from apps.common.push import push_after_commit

from .models import Unit


@dataclass(frozen=True)
class UnitUpdated(Payload):
    """A unit's status changed (numbered, for the command centre)."""

    type: ClassVar[str] = "unit.updated"
    unit_id: int
    callsign: str
    status: str
    current_incident_id: int | None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UnitUpdated:
        return cls(**{k: v for k, v in data.items() if k not in ("type", "seq")})


@dataclass(frozen=True)
class UnitPosition(Payload):
    """A unit moved (not numbered: the latest position is in every snapshot)."""

    type: ClassVar[str] = "unit.position"
    unit_id: int
    callsign: str
    status: str
    position: dict[str, float]
    position_at: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UnitPosition:
        return cls(**{k: v for k, v in data.items() if k != "type"})


def notify_unit_status(unit: Unit) -> None:
    if nobody_listens():
        return
    publish(
        COMMAND,
        UnitUpdated(
            unit_id=unit.pk,
            callsign=unit.callsign,
            status=unit.status,
            current_incident_id=unit.current_incident_id,
        ),
    )


def notify_unit_position(unit: Unit, *, lat: float, lon: float, at: datetime) -> None:
    if nobody_listens():
        return
    frame = UnitPosition(
        unit_id=unit.pk,
        callsign=unit.callsign,
        status=unit.status,
        position={"lat": lat, "lon": lon},
        position_at=at.isoformat(),
    ).to_dict()
    push_after_commit(group_for(COMMAND), {"type": "unit.position", "frame": frame})
