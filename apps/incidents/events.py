"""Typed payloads of what clients are told, and the publishing of them.

Every frame a client can miss goes through the numbered notice stream (apps.common.notices):
audience "command" (the command centre sees everything) and "unit:<id>" (one unit's crew). A
notice is written in the caller's transaction and pushed after commit; a reconnecting client
catches up from the database. Unit positions are the exception: they are ephemeral (the latest
one is in every snapshot) and are pushed without a number.

Lock order: publish only after the transaction has locked its incident and unit rows. The unit
audience's cursor is only ever taken by a transaction holding that unit's row; the command
cursor is taken last, so no two transactions wait on each other in opposite orders.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, ClassVar

from apps.common.notices import COMMAND, group_for, notice_publish, unit_audience
from apps.common.push import push_after_commit

from .models import Incident


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class IncidentBrief:
    """What a crew's phone and the command map need to know of an incident."""

    id: int
    number: str
    status: str
    category: str
    priority: int
    address: str
    description: str
    location: dict[str, float]
    unit: int | None
    station: int | None
    transfer_station: int | None
    grid: int | None
    received_at: str | None
    dispatched_at: str | None
    acknowledged_at: str | None
    en_route_at: str | None
    arrived_at: str | None
    closed_at: str | None
    escalated_at: str | None
    arrival_breached_at: str | None

    @classmethod
    def of(cls, incident: Incident) -> IncidentBrief:
        return cls(
            id=incident.pk,
            number=incident.number,
            status=incident.status,
            category=incident.category,
            priority=incident.priority,
            address=incident.address,
            description=incident.description,
            location={"lat": incident.lat, "lon": incident.lon},
            unit=incident.unit_id,
            station=incident.station_id,
            transfer_station=incident.transfer_station_id,
            grid=incident.grid_cell_id,
            received_at=_iso(incident.received_at),
            dispatched_at=_iso(incident.dispatched_at),
            acknowledged_at=_iso(incident.acknowledged_at),
            en_route_at=_iso(incident.en_route_at),
            arrived_at=_iso(incident.arrived_at),
            closed_at=_iso(incident.closed_at),
            escalated_at=_iso(incident.escalated_at),
            arrival_breached_at=_iso(incident.arrival_breached_at),
        )


class _Payload:
    type: ClassVar[str]

    def body(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload, no-any-return]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **self.body()}


@dataclass(frozen=True)
class IncidentUpdated(_Payload):
    type: ClassVar[str] = "incident.updated"
    incident_id: int
    number: str
    status: str
    from_status: str
    unit_id: int | None
    station_id: int | None
    at: str
    kind: str
    incident: IncidentBrief

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IncidentUpdated:
        fields = {k: v for k, v in data.items() if k not in ("type", "seq")}
        fields["incident"] = IncidentBrief(**fields["incident"])
        return cls(**fields)


@dataclass(frozen=True)
class DispatchAlert(_Payload):
    type: ClassVar[str] = "dispatch.alert"
    alert_id: str
    incident: IncidentBrief

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DispatchAlert:
        return cls(alert_id=data["alert_id"], incident=IncidentBrief(**data["incident"]))


@dataclass(frozen=True)
class UnitUpdated(_Payload):
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
class UnitPosition(_Payload):
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


@dataclass(frozen=True)
class IncidentEscalated(_Payload):
    """A missed target: "acknowledge" (escalated) or "arrival" (breach)."""

    type: ClassVar[str] = "incident.escalated"
    incident_id: int
    number: str
    unit_id: int
    target: str
    target_s: int
    at: str

    def to_dict(self) -> dict[str, Any]:
        kind = "incident.escalated" if self.target == "acknowledge" else "incident.breach"
        return {"type": kind, **self.body()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IncidentEscalated:
        return cls(**{k: v for k, v in data.items() if k not in ("type", "seq")})


def incident_updated(incident: Incident, *, from_status: str, kind: str) -> IncidentUpdated:
    stamps = [
        incident.received_at,
        incident.dispatched_at,
        incident.acknowledged_at,
        incident.en_route_at,
        incident.arrived_at,
        incident.closed_at,
        incident.transfer_received_at,
    ]
    at = max(s for s in stamps if s is not None)
    return IncidentUpdated(
        incident_id=incident.pk,
        number=incident.number,
        status=incident.status,
        from_status=from_status,
        unit_id=incident.unit_id,
        station_id=incident.transfer_station_id or incident.station_id,
        at=at.isoformat(),
        kind=kind,
        incident=IncidentBrief.of(incident),
    )


def publish(audience: str, payload: _Payload) -> None:
    frame = payload.to_dict()
    notice_publish(audience=audience, type=frame.pop("type"), payload=frame)


def publish_incident(
    incident: Incident, *, from_status: str, kind: str, unit_ids: tuple[int, ...] = ()
) -> None:
    """Tell the crews concerned and the command centre that an incident moved.

    When the incident left a unit (unassigned, cancelled), that unit's pending alert is withdrawn.
    """
    from .alerts import alerts_withdraw

    if kind in ("unassigned", "cancelled"):
        alerts_withdraw(incident=incident)
    payload = incident_updated(incident, from_status=from_status, kind=kind)
    for unit_id in sorted(set(unit_ids)):
        publish(unit_audience(unit_id), payload)
    publish(COMMAND, payload)


def publish_dispatch(incident: Incident) -> None:
    """The dispatch alert: the outbox row and its notice to the unit's crew."""
    from .alerts import alert_create

    assert incident.unit is not None and incident.dispatched_at is not None
    alert_create(incident=incident, unit=incident.unit, brief=IncidentBrief.of(incident))


def publish_unit_status(unit: Any) -> None:
    publish(
        COMMAND,
        UnitUpdated(
            unit_id=unit.pk,
            callsign=unit.callsign,
            status=unit.status,
            current_incident_id=unit.current_incident_id,
        ),
    )


def publish_unit_position(unit: Any, *, lat: float, lon: float, at: datetime) -> None:
    frame = UnitPosition(
        unit_id=unit.pk,
        callsign=unit.callsign,
        status=unit.status,
        position={"lat": lat, "lon": lon},
        position_at=at.isoformat(),
    ).to_dict()
    push_after_commit(group_for(COMMAND), {"type": "unit.position", "frame": frame})
