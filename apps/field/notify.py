"""Typed frames of the crews' reports, and the helpers that publish them (after the services'
writes, in their transaction: pushed after commit, numbered so a reconnecting map catches up)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from apps.common.notices import COMMAND, Payload, publish, unit_audience
from apps.incidents.models import Incident
from apps.units.selectors import Recommendation

from .models import Emergency


def ranked_brief(ranked: list[Recommendation]) -> list[dict[str, Any]]:
    """The free units for a frame, best first (the dispatcher sends one with a click)."""
    return [
        {
            "unit": r.unit.pk,
            "callsign": r.unit.callsign,
            "eta_s": r.eta_s,
            "distance_m": r.distance_m,
        }
        for r in ranked
    ]


def _strip(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("type", "seq")}


@dataclass(frozen=True)
class UnitEmergency(Payload):
    """A crew pressed the emergency button: the command map sounds until a commander
    acknowledges it."""

    type: ClassVar[str] = "unit.emergency"
    emergency_id: int
    unit_id: int
    callsign: str
    raised_at: str
    position: dict[str, float] | None
    accuracy_m: float | None
    note: str
    incident_id: int | None
    incident_number: str | None
    presses: int
    nearest: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, emergency: Emergency, ranked: list[Recommendation]) -> UnitEmergency:
        incident = emergency.incident
        return cls(
            emergency_id=emergency.pk,
            unit_id=emergency.unit_id,
            callsign=emergency.unit.callsign,
            raised_at=emergency.raised_at.isoformat(),
            position=(
                {"lat": emergency.lat, "lon": emergency.lon}
                if emergency.lat is not None and emergency.lon is not None
                else None
            ),
            accuracy_m=emergency.accuracy_m,
            note=emergency.note,
            incident_id=incident.pk if incident else None,
            incident_number=incident.number if incident else None,
            presses=emergency.presses,
            nearest=ranked_brief(ranked),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UnitEmergency:
        return cls(**_strip(data))


@dataclass(frozen=True)
class EmergencyAcknowledged(Payload):
    """A commander took charge of an emergency: the command map falls silent, the crew's
    phone shows that help is organised."""

    type: ClassVar[str] = "unit.emergency_acknowledged"
    emergency_id: int
    unit_id: int
    acknowledged_at: str
    acknowledged_by: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmergencyAcknowledged:
        return cls(**_strip(data))


@dataclass(frozen=True)
class BackupRequested(Payload):
    """The crew on an incident asks for more units (请求增援), with the free units ranked."""

    type: ClassVar[str] = "incident.backup_requested"
    incident_id: int
    number: str
    unit_id: int | None
    callsign: str
    count: int
    reason: str
    at: str
    nearest: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BackupRequested:
        return cls(**_strip(data))


def notify_emergency(emergency: Emergency, ranked: list[Recommendation]) -> None:
    publish(COMMAND, UnitEmergency.of(emergency, ranked))


def notify_emergency_acknowledged(emergency: Emergency, *, by: str) -> None:
    assert emergency.acknowledged_at is not None
    frame = EmergencyAcknowledged(
        emergency_id=emergency.pk,
        unit_id=emergency.unit_id,
        acknowledged_at=emergency.acknowledged_at.isoformat(),
        acknowledged_by=by,
    )
    # The unit's audience first (its row is locked before the command cursor, as everywhere).
    publish(unit_audience(emergency.unit_id), frame)
    publish(COMMAND, frame)


def notify_backup_requested(
    incident: Incident,
    *,
    unit_id: int | None,
    callsign: str,
    count: int,
    reason: str,
    at: str,
    ranked: list[Recommendation],
) -> None:
    publish(
        COMMAND,
        BackupRequested(
            incident_id=incident.pk,
            number=incident.number,
            unit_id=unit_id,
            callsign=callsign,
            count=count,
            reason=reason,
            at=at,
            nearest=ranked_brief(ranked),
        ),
    )
