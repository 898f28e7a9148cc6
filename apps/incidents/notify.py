"""Typed payloads of what clients are told about incidents, and the helpers that publish them.

These helpers only publish: the services do their writes (and lock their rows) first.

Every frame a client can miss goes through the numbered notice stream (apps.common.notices):
audience "command" (the command centre sees everything) and "unit:<id>" (one unit's crew). A
notice is written in the caller's transaction and pushed after commit; a reconnecting client
catches up from the database. Unit positions are the exception: they are ephemeral (the latest
one is in every snapshot) and are pushed without a number.

Lock order: publish only after the transaction has locked its incident and unit rows. The
services publish inside `notices_together`, which takes the cursors of every audience told at the
transaction's end, units by id and the command centre's last, in one statement; the one notice
numbered at once (the dispatch alert's) is a unit's, whose cursor is only ever taken by a
transaction holding that unit's row. So no two transactions wait on each other in opposite orders.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from django.db.models import Prefetch

from apps.common.models import Notice
from apps.common.notices import COMMAND, Payload, nobody_listens, publish, unit_audience
from apps.common.prepared import Prepared

from .models import AssignmentRole, Incident, IncidentAssignment


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
    origin: str = "call"
    # The units working it now, primary first: {unit, callsign, role, status, dispatched_at,
    # acknowledged_at, arrived_at}.
    assignments: list[dict[str, Any]] = field(default_factory=list)

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
            origin=incident.origin,
            assignments=assignments_brief(incident),
        )


# The units working an incident now, with their units (in no order: callers sort).
WORKING_ASSIGNMENTS = Prepared(
    lambda incident_id: IncidentAssignment.objects.filter(
        incident_id=incident_id, cleared_at__isnull=True
    ).select_related("unit")
)


def working_first(rows: list[IncidentAssignment]) -> list[IncidentAssignment]:
    """Assignments in the order every list shows them: the primary first, then by dispatch."""
    return sorted(rows, key=lambda a: (a.role != AssignmentRole.PRIMARY, a.dispatched_at, a.pk))


def assignments_brief(incident: Incident) -> list[dict[str, Any]]:
    """The units working an incident now, primary first. Uses `active_assignments` when the
    caller prefetched it (lists of incidents), else one query."""
    rows = getattr(incident, "active_assignments", None)
    rows = working_first(WORKING_ASSIGNMENTS(incident.pk) if rows is None else rows)
    return [
        {
            "unit": a.unit_id,
            "callsign": a.unit.callsign,
            "role": a.role,
            "status": a.status,
            "dispatched_at": _iso(a.dispatched_at),
            "acknowledged_at": _iso(a.acknowledged_at),
            "arrived_at": _iso(a.arrived_at),
        }
        for a in rows
    ]


def active_assignments_prefetch() -> Prefetch[Any]:
    """For a list of incidents whose briefs are built (`IncidentBrief.of`)."""
    return Prefetch(
        "assignments",
        queryset=IncidentAssignment.objects.filter(cleared_at__isnull=True).select_related("unit"),
        to_attr="active_assignments",
    )


@dataclass(frozen=True)
class IncidentUpdated(Payload):
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
class DispatchAlert(Payload):
    type: ClassVar[str] = "dispatch.alert"
    alert_id: str
    incident: IncidentBrief

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DispatchAlert:
        return cls(alert_id=data["alert_id"], incident=IncidentBrief(**data["incident"]))


@dataclass(frozen=True)
class IncidentEscalated(Payload):
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


@dataclass(frozen=True)
class DispatchWithdrawn(Payload):
    """The incident was taken off the unit (re-dispatched, cancelled): its phone takes the alert
    card and the incident down."""

    type: ClassVar[str] = "dispatch.withdrawn"
    incident_id: int
    number: str
    kind: str  # "unassigned" | "cancelled"
    reason: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DispatchWithdrawn:
        return cls(**{k: v for k, v in data.items() if k not in ("type", "seq")})


def notify_dispatch_withdrawn(incident: Incident, *, unit_id: int, kind: str, reason: str) -> None:
    publish(
        unit_audience(unit_id),
        DispatchWithdrawn(
            incident_id=incident.pk, number=incident.number, kind=kind, reason=reason
        ),
    )


def notify_incident(
    incident: Incident, *, from_status: str, kind: str, unit_ids: tuple[int, ...] = ()
) -> None:
    """Tell the crews concerned and the command centre that an incident moved."""
    if nobody_listens():
        return
    payload = incident_updated(incident, from_status=from_status, kind=kind)
    for unit_id in sorted(set(unit_ids)):
        publish(unit_audience(unit_id), payload)
    publish(COMMAND, payload)


def notify_dispatch_alert(incident: Incident, *, unit_id: int, alert_id: uuid.UUID) -> Notice:
    """The dispatch alert's numbered frame for the unit's crew (the primary's or a backup's); its
    seq goes on the Alert row."""
    if nobody_listens():
        return Notice(audience=unit_audience(unit_id), seq=0, type=DispatchAlert.type, payload={})
    return publish(
        unit_audience(unit_id),
        DispatchAlert(alert_id=str(alert_id), incident=IncidentBrief.of(incident)),
        at_once=True,  # its number goes on the Alert row now
    )


def notify_target_missed(
    incident: Incident, *, unit_id: int, target: str, target_s: int, at: datetime
) -> None:
    """A missed 1-3-5 minute target, for the command centre."""
    if nobody_listens():
        return
    publish(
        COMMAND,
        IncidentEscalated(
            incident_id=incident.pk,
            number=incident.number,
            unit_id=unit_id,
            target=target,
            target_s=target_s,
            at=at.isoformat(),
        ),
    )
