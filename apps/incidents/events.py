"""Typed payloads pushed to websocket groups after commit.

Groups: "command" (the command centre sees everything) and f"unit.{unit_id}" (one unit's crew).
The dotted `type` doubles as the Channels handler name (``incident.updated`` →
``incident_updated``). Payloads are plain JSON values so they survive the channel layer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from apps.common.push import push_after_commit

from .models import Incident

COMMAND_GROUP = "command"


def unit_group(unit_id: int) -> str:
    return f"unit.{unit_id}"


@dataclass(frozen=True)
class IncidentUpdated:
    type: ClassVar[str] = "incident.updated"
    incident_id: int
    number: str
    status: str
    from_status: str
    unit_id: int | None
    station_id: int | None
    at: str
    kind: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IncidentUpdated:
        return cls(**{k: v for k, v in data.items() if k != "type"})


@dataclass(frozen=True)
class DispatchAlert:
    type: ClassVar[str] = "dispatch.alert"
    incident_id: int
    number: str
    unit_id: int
    category: str
    priority: int
    address: str
    description: str
    lat: float
    lon: float
    dispatched_at: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DispatchAlert:
        return cls(**{k: v for k, v in data.items() if k != "type"})


@dataclass(frozen=True)
class UnitUpdated:
    type: ClassVar[str] = "unit.updated"
    unit_id: int
    callsign: str
    status: str
    current_incident_id: int | None
    position: dict[str, float] | None = field(default=None)
    position_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UnitUpdated:
        return cls(**{k: v for k, v in data.items() if k != "type"})


def incident_updated(incident: Incident, *, from_status: str, kind: str) -> IncidentUpdated:
    at = incident.closed_at or incident.received_at
    for stamp in (
        incident.transfer_received_at,
        incident.closed_at,
        incident.arrived_at,
        incident.en_route_at,
        incident.acknowledged_at,
        incident.dispatched_at,
    ):
        if stamp is not None:
            at = max(at, stamp)
    return IncidentUpdated(
        incident_id=incident.pk,
        number=incident.number,
        status=incident.status,
        from_status=from_status,
        unit_id=incident.unit_id,
        station_id=incident.transfer_station_id or incident.station_id,
        at=at.isoformat(),
        kind=kind,
    )


def dispatch_alert(incident: Incident) -> DispatchAlert:
    assert incident.unit_id is not None and incident.dispatched_at is not None
    return DispatchAlert(
        incident_id=incident.pk,
        number=incident.number,
        unit_id=incident.unit_id,
        category=incident.category,
        priority=incident.priority,
        address=incident.address,
        description=incident.description,
        lat=incident.lat,
        lon=incident.lon,
        dispatched_at=incident.dispatched_at.isoformat(),
    )


def publish_incident(
    incident: Incident, *, from_status: str, kind: str, unit_ids: tuple[int, ...] = ()
) -> None:
    """After commit: tell the command centre, and the crews concerned, that an incident moved."""
    payload = incident_updated(incident, from_status=from_status, kind=kind).to_dict()
    push_after_commit(COMMAND_GROUP, payload)
    for unit_id in dict.fromkeys(unit_ids):
        push_after_commit(unit_group(unit_id), payload)


def publish_dispatch(incident: Incident) -> None:
    assert incident.unit_id is not None
    push_after_commit(unit_group(incident.unit_id), dispatch_alert(incident).to_dict())
