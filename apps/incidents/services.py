"""Every change of an incident: one service per transition of the lifecycle (the transitions,
who may start them and from which states are in transitions.py).

Each service runs in one transaction, locks the incident row first and then the unit row (always
in that order, so two services never deadlock), checks who may act and from which state, writes
the rows (the incident, the unit, the dispatch alert, the deadlines), appends the events of the
incident stream and of the unit stream, and then calls the notify helpers (notify.py). Their
frames are numbered together when the transaction's work is done (`notices_together`: one
statement for the cursors, one for the rows) and pushed after commit. A refused transition
raises IllegalTransition (HTTP 409) naming the current state; a refused actor raises
PermissionDenied (HTTP 403); nothing is half-written.

Who may act:
- intake, dispatch, cancel, unassign: commander or dispatcher (the command centre).
- acknowledge, en route, arrive, resolve, transfer: the crew of the unit that owns the incident.
  The command centre may also act on the crew's behalf (a crew reporting by radio when the app
  is unavailable); the event records who did it.
- receive transfer: a station user linked (StationDuty) to the receiving station, only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.calls.models import Call, CallStatus
from apps.calls.notify import notify_call_updated
from apps.calls.services import call_record_linked, call_take
from apps.common.errors import IllegalTransition, ImplausibleTime, UnitBusy
from apps.common.notices import notices_together
from apps.common.prepared import Prepared, PreparedUpdate, insert, save_fields
from apps.common.roles import UNIT_CREW_ROLES, has_role, is_command_centre
from apps.common.services import sequence_next
from apps.units.models import UNIT_FREE_STATUSES, Station, Unit, UnitStatus
from apps.units.notify import notify_unit_status
from apps.units.selectors import (
    Recommendation,
    grid_cell_at,
    is_crew,
    service_area_distance_m,
    station_at,
    station_ids_for_user,
    unit_for_user,
    unit_recommendations,
)

from .deadlines import LOCKED_INCIDENT_WITH_CELL, deadlines_schedule
from .models import (
    OPEN_STATUSES,
    OWNED_STATUSES,
    Alert,
    AssignmentRole,
    AssignmentStatus,
    Category,
    Deadline,
    DeadlineKind,
    DeadlineOutcome,
    Incident,
    IncidentAssignment,
    IncidentStatus,
    Origin,
    StreamKind,
)
from .notify import notify_dispatch_alert, notify_dispatch_withdrawn, notify_incident
from .selectors import working_assignments
from .timeline import event_append
from .transitions import BY_ACTION

Actor = User | AnonymousUser
S = IncidentStatus
SHANGHAI = ZoneInfo("Asia/Shanghai")

# --- helpers -----------------------------------------------------------------------------------


def _require_operations(actor: Actor) -> None:
    if not is_command_centre(actor):
        raise PermissionDenied(_("Only the command centre (commander or dispatcher) may do this."))


def _require_crew_or_operations(actor: Actor, unit: Unit | None) -> None:
    if is_command_centre(actor):
        return
    if unit is None and has_role(actor, *UNIT_CREW_ROLES):
        # No unit owns the incident: the state check that follows refuses with 409.
        return
    if unit is None or not is_crew(actor, unit):
        raise PermissionDenied(
            _(
                "Only the crew of the unit handling this incident, or the command centre, "
                "may do this."
            )
        )


def _require_from(incident: Incident, action: str) -> None:
    transition = BY_ACTION[action]
    if incident.status not in transition.from_states:
        raise IllegalTransition(
            _("Cannot %(action)s this incident: it is %(status)s.")
            % {"action": transition.label, "status": incident.get_status_display()},
            current_status=incident.status,
        )


# The row locks every change starts with, compiled once per connection (apps/common/prepared.py).
_LOCKED_INCIDENT = Prepared(lambda pk: Incident.objects.select_for_update().filter(pk=pk))
# The unit's row.
_LOCKED_UNIT = Prepared(lambda pk: Unit.objects.select_for_update().filter(pk=pk))


def _lock_incident(incident: Incident) -> Incident:
    return _LOCKED_INCIDENT.one(incident.pk)


def _lock_unit(unit_id: int) -> Unit:
    # The incident row is always locked before this one.
    return _LOCKED_UNIT.one(unit_id)


def _user(actor: Actor) -> Any:
    return actor if actor.is_authenticated else None


def _incident_event(
    incident: Incident,
    *,
    kind: str,
    at: datetime,
    actor: Actor,
    from_state: str,
    reason: str = "",
    payload: dict[str, Any] | None = None,
) -> None:
    event_append(
        stream=StreamKind.INCIDENT,
        stream_id=incident.pk,
        kind=kind,
        at=at,
        actor=_user(actor),
        incident=incident,
        # The id, not the row: the unit is not loaded with the locked incident.
        unit_id=incident.unit_id,
        from_state=from_state,
        to_state=incident.status,
        reason=reason,
        payload=payload,
    )


def _unit_set_status(
    unit: Unit,
    *,
    status: UnitStatus,
    incident: Incident,
    owns: bool,
    at: datetime,
    actor: Actor,
    kind: str,
    reason: str = "",
) -> None:
    """Change a (locked) unit's status as its incident moves; one event in the unit's stream."""
    from_state = unit.status
    unit.status = status
    unit.status_changed_at = at
    unit.current_incident = incident if owns else None
    save_fields(unit, "status", "status_changed_at", "current_incident")
    event_append(
        stream=StreamKind.UNIT,
        stream_id=unit.pk,
        kind=kind,
        at=at,
        actor=_user(actor),
        incident=incident,
        unit=unit,
        from_state=from_state,
        to_state=status,
        reason=reason,
        payload={"incident": incident.pk, "number": incident.number},
    )
    notify_unit_status(unit)


def _alert_create(incident: Incident, unit: Unit, at: datetime) -> Alert:
    """The dispatch alert (the outbox row) and its numbered frame for the unit's crew. (No
    earlier alert of the unit for the incident is pending: a unit is sent only while free, and
    taking it off or releasing it withdraws its alert.)"""
    alert_id = uuid.uuid4()
    notice = notify_dispatch_alert(incident, unit_id=unit.pk, alert_id=alert_id)
    alert = Alert(id=alert_id, incident=incident, unit=unit, seq=notice.seq, created_at=at)
    insert(alert)
    return alert


_PENDING_ALERT_DELIVERED = PreparedUpdate(
    lambda incident_id, unit_id: Alert.objects.filter(
        incident_id=incident_id,
        unit_id=unit_id,
        delivered_at__isnull=True,
        withdrawn_at__isnull=True,
    ),
    "delivered_at",
)


def _alerts_receipt(incident: Incident, unit: Unit, at: datetime) -> int:
    """The unit acknowledged: its pending alert counts as delivered."""
    return _PENDING_ALERT_DELIVERED(incident.pk, unit.pk, delivered_at=at)


def _alerts_withdraw(incident: Incident, at: datetime, *, unit_id: int | None = None) -> int:
    """The incident (or one unit's part in it) ended without an acknowledge (cancelled, taken
    off, released): the pending alerts end, so no phone is alerted again for it."""
    pending = Alert.objects.filter(
        incident=incident, delivered_at__isnull=True, withdrawn_at__isnull=True
    )
    if unit_id is not None:
        pending = pending.filter(unit_id=unit_id)
    return pending.update(withdrawn_at=at)


# --- the units on an incident (the primary and its backups) --------------------------------------


# (The incident row is locked by the caller of each: every change of an assignment happens under
# it.)
_active_assignments = working_assignments


def _assigned_unit_ids(incident: Incident) -> tuple[int, ...]:
    """The units whose crews follow the incident now (the primary and the backups)."""
    return tuple(sorted(a.unit_id for a in _active_assignments(incident)))


def _assignment_open(
    incident: Incident, unit: Unit, *, role: AssignmentRole, at: datetime, actor: Actor
) -> IncidentAssignment:
    assignment = IncidentAssignment(
        incident=incident, unit=unit, role=role, dispatched_at=at, dispatched_by=_user(actor)
    )
    insert(assignment)
    return assignment


def _assignment_close(assignment: IncidentAssignment, *, at: datetime, reason: str) -> None:
    assignment.status = AssignmentStatus.CLEARED
    assignment.cleared_at = at
    assignment.clear_reason = reason[:200]
    save_fields(assignment, "status", "cleared_at", "clear_reason")


def _release_backups(
    incident: Incident,
    active: list[IncidentAssignment],
    *,
    at: datetime,
    actor: Actor,
    kind: str,
    reason: str = "",
) -> tuple[int, ...]:
    """The incident closed (resolved, transferred, cancelled): every backup still on it (of
    ``active``, its working assignments) is released and free again, its phone told. Returns the
    released units. (Locks each unit, after the incident, in id order.)"""
    released = []
    for assignment in sorted(
        (a for a in active if a.role == AssignmentRole.BACKUP),
        key=lambda a: a.unit_id,
    ):
        unit = _lock_unit(assignment.unit_id)
        _assignment_close(assignment, at=at, reason=reason or kind)
        _alerts_withdraw(incident, at, unit_id=unit.pk)
        if unit.current_incident_id == incident.pk:
            _release_unit(unit, incident=incident, at=at, actor=actor, kind=kind, reason=reason)
        notify_dispatch_withdrawn(incident, unit_id=unit.pk, kind=kind, reason=reason)
        released.append(unit.pk)
    return tuple(released)


def _primary_assignment(
    incident: Incident, active: list[IncidentAssignment] | None = None
) -> IncidentAssignment | None:
    active = _active_assignments(incident) if active is None else active
    return active[0] if active and active[0].role == AssignmentRole.PRIMARY else None


def _required_text(value: str, field: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: [_("This field is required.")]})
    if len(value) > limit:
        raise ValidationError(
            {field: [_("Ensure this field has no more than %(n)d characters.") % {"n": limit}]}
        )
    return value


# --- intake ------------------------------------------------------------------------------------


def incident_number(*, received_at: datetime) -> str:
    """110-YYYYMMDD-NNNN by the Asia/Shanghai date of receipt (the counter row stays locked)."""
    day = received_at.astimezone(SHANGHAI).date()
    n = sequence_next(name="incident", day=day)
    return f"110-{day:%Y%m%d}-{n:04d}"


def incident_create(
    *,
    category: str,
    priority: int,
    lat: float,
    lon: float,
    address: str,
    actor: Actor,
    description: str = "",
    caller_name: str = "",
    caller_phone: str = "",
    received_at: datetime | None = None,
    call: Call | None = None,
) -> Incident:
    """Take a 110 call (接警): number it, locate its grid cell and station, status received.

    Locks the day's incident-number counter. The station is the one whose jurisdiction contains
    the location; outside every jurisdiction, the station of the grid cell's staging point.
    With `call` (reported by the telephony link), the incident was received when the call was,
    takes the caller's number if none was typed, and the call is marked taken (CallTaken, 409,
    if another call-taker took it first: nothing is written).
    """
    _require_operations(actor)
    _check_intake(category=category, priority=priority, lat=lat, lon=lon)
    address = _required_text(address, "address", 200)
    if call is not None:
        received_at = received_at or call.received_at
        caller_phone = caller_phone or call.caller_phone
    received_at = received_at or timezone.now()
    with transaction.atomic(), notices_together():
        incident = _incident_insert(
            category=category,
            priority=priority,
            lat=lat,
            lon=lon,
            address=address,
            description=description,
            caller_name=caller_name,
            caller_phone=caller_phone,
            received_at=received_at,
            actor=actor,
            call=call,
        )
        if call is not None:
            call = call_take(call=call, incident=incident, status=CallStatus.INCIDENT, actor=actor)
        notify_incident(incident, from_status="", kind="received")
        if call is not None:
            notify_call_updated(call)
    return incident


def _check_intake(*, category: str, priority: int, lat: float, lon: float) -> None:
    errors: dict[str, list[str]] = {}
    if category not in Category.values:
        errors["category"] = [_("Unknown category.")]
    if not 1 <= priority <= 3:
        errors["priority"] = [_("Priority is 1 (most urgent) to 3.")]
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        errors["location"] = [_("Latitude must be within −90..90 and longitude −180..180.")]
    if errors:
        raise ValidationError(errors)


def _check_in_service_area(lat: float, lon: float) -> None:
    """Outside every grid cell and jurisdiction, a point still near the area is taken (its units
    can go); one far from it is a mistyped or default position, or another city's call."""
    distance = service_area_distance_m(lat=lat, lon=lon)
    if distance is not None and distance > settings.SERVICE_AREA_MARGIN_KM * 1000:
        raise ValidationError(
            {
                "location": [
                    _(
                        "This position is %(km)d km from the service area: check it, or hand "
                        "the call to the 110 centre of that place."
                    )
                    % {"km": round(distance / 1000)}
                ]
            }
        )


def _incident_insert(
    *,
    category: str,
    priority: int,
    lat: float,
    lon: float,
    address: str,
    description: str,
    caller_name: str,
    caller_phone: str,
    received_at: datetime,
    actor: Actor,
    call: Call | None = None,
    origin: Origin = Origin.CALL,
) -> Incident:
    """The new incident row, numbered and located, and its `received` event (inside the
    caller's transaction)."""
    cell = grid_cell_at(lat=lat, lon=lon)
    station = station_at(lat=lat, lon=lon)
    if station is None and cell is not None:
        station = cell.staging_point.station
    if cell is None and station is None:
        _check_in_service_area(lat, lon)
    incident = Incident(
        number=incident_number(received_at=received_at),
        category=category,
        priority=priority,
        lat=lat,
        lon=lon,
        address=address,
        description=description,
        caller_name=caller_name,
        caller_phone=caller_phone,
        grid_cell=cell,
        station=station,
        received_by=_user(actor),
        received_at=received_at,
        origin=origin,
    )
    insert(incident)
    _incident_event(
        incident,
        kind="received",
        at=received_at,
        actor=actor,
        from_state="",
        payload={
            "grid_cell": cell.code if cell else None,
            "station": station.pk if station else None,
            **({"call": call.pk} if call is not None else {}),
            **({"origin": str(origin)} if origin != Origin.CALL else {}),
        },
    )
    return incident


def incident_raise_on_patrol(
    *,
    actor: Actor,
    category: str,
    priority: int,
    lat: float,
    lon: float,
    address: str,
    description: str = "",
    caller_name: str = "",
    caller_phone: str = "",
    unit: Unit | None = None,
) -> Incident:
    """A crew came upon an incident on patrol, or was stopped in the street (以巡待接): it is
    raised from the phone with the crew's unit as its primary, already on scene (no dispatch, no
    targets: the figures count it apart, by origin). Its grid cell and station are those of the
    phone's position. Locks the day's counter, then the unit; UnitBusy (409) when the unit
    already works an incident."""
    if unit is None:
        unit = unit_for_user(actor)
    if unit is None or not is_crew(actor, unit):
        raise PermissionDenied(_("Only a unit's crew raises an incident on patrol."))
    _check_intake(category=category, priority=priority, lat=lat, lon=lon)
    address = _required_text(address, "address", 200)
    now = timezone.now()
    with transaction.atomic(), notices_together():
        locked = _lock_free_unit(unit.pk)
        incident = _incident_insert(
            category=category,
            priority=priority,
            lat=lat,
            lon=lon,
            address=address,
            description=description,
            caller_name=caller_name,
            caller_phone=caller_phone,
            received_at=now,
            actor=actor,
            origin=Origin.PATROL,
        )
        # No dispatch, acknowledge or drive happened: those stamps stay empty, so the response
        # intervals and the 1-3-5 targets never count it; its handling time (arrival to close)
        # does count.
        incident.status = S.ON_SCENE
        incident.unit = locked
        incident.arrived_at = now
        save_fields(incident, "status", "unit", "arrived_at")
        IncidentAssignment.objects.create(
            incident=incident,
            unit=locked,
            role=AssignmentRole.PRIMARY,
            status=AssignmentStatus.ON_SCENE,
            # (When the crew took it on; it was never sent, acknowledged or driven to.)
            dispatched_at=now,
            arrived_at=now,
            dispatched_by=_user(actor),
        )
        _incident_event(
            incident,
            kind="raised_on_patrol",
            at=now,
            actor=actor,
            from_state=S.RECEIVED,
            payload={"unit": locked.pk, "callsign": locked.callsign},
        )
        _unit_set_status(
            locked,
            status=UnitStatus.ON_SCENE,
            incident=incident,
            owns=True,
            at=now,
            actor=actor,
            kind="raised_on_patrol",
        )
        notify_incident(incident, from_status="", kind="raised_on_patrol", unit_ids=(locked.pk,))
    return incident


@dataclass(frozen=True)
class IntakeResult:
    incident: Incident
    recommendations: list[Recommendation]


def incident_intake(
    *, actor: Actor, auto_dispatch: bool | None = None, **fields: Any
) -> IntakeResult:
    """Create the incident, rank the free units, and with DISPATCH_AUTO dispatch the best one.

    Auto-dispatch tries the ranked units in order: a unit taken by another dispatcher in the
    meantime (UnitBusy) is skipped for the next one.
    """
    incident = incident_create(actor=actor, **fields)
    recommendations = unit_recommendations(lat=incident.lat, lon=incident.lon)
    auto = settings.DISPATCH_AUTO if auto_dispatch is None else auto_dispatch
    if auto:
        for rec in recommendations:
            try:
                incident = incident_dispatch(incident=incident, unit=rec.unit, actor=actor)
            except UnitBusy:
                continue
            break
    return IntakeResult(incident=incident, recommendations=recommendations)


# --- dispatch and the crew's steps -------------------------------------------------------------


def _lock_free_unit(unit_id: int) -> Unit:
    unit = _lock_unit(unit_id)
    if unit.status not in UNIT_FREE_STATUSES or unit.current_incident_id:
        raise UnitBusy(
            _("Unit %(unit)s cannot be sent: it is %(status)s.")
            % {"unit": unit.callsign, "status": unit.get_status_display()},
            unit_status=unit.status,
        )
    return unit


def incident_dispatch(*, incident: Incident, unit: Unit, actor: Actor) -> Incident:
    """Send a unit (派警). Locks the incident, then the unit.

    On a received incident the unit becomes its primary (responsible) unit; on one a unit already
    works (dispatched to on scene) it is sent as a backup (增援, `_backup_dispatch`). The unit must
    be free (available or patrolling, on no incident); otherwise UnitBusy. Two dispatchers
    sending the same unit: the second waits on the unit's lock, then finds it busy.
    """
    _require_operations(actor)
    with transaction.atomic(), notices_together():
        incident = LOCKED_INCIDENT_WITH_CELL.one(incident.pk)
        if incident.status in OWNED_STATUSES:
            return _backup_dispatch(incident, unit_id=unit.pk, actor=actor)
        _require_from(incident, "dispatch")
        locked_unit = _lock_free_unit(unit.pk)
        now = timezone.now()
        from_status = incident.status
        incident.status = S.DISPATCHED
        incident.unit = locked_unit
        incident.dispatched_at = now
        save_fields(incident, "status", "unit", "dispatched_at")
        _incident_event(
            incident,
            kind="dispatched",
            at=now,
            actor=actor,
            from_state=from_status,
            payload={"unit": locked_unit.pk, "callsign": locked_unit.callsign},
        )
        others = _send_unit(incident, locked_unit, role=AssignmentRole.PRIMARY, at=now, actor=actor)
        notify_incident(incident, from_status=from_status, kind="dispatched", unit_ids=others)
        del incident.active_assignments  # type: ignore[attr-defined]  # read by the briefs only
    return incident


def _send_unit(
    incident: Incident, unit: Unit, *, role: AssignmentRole, at: datetime, actor: Actor
) -> tuple[int, ...]:
    """What sending a (locked, free) unit writes, as the primary or a backup: its alert, its
    assignment, its status, its deadlines. The alert first: after commit the pushes go out in
    this order, the crew's before the command centre's and before the deadlines are queued (the
    unit's audience is also locked before the command audience, as everywhere). Returns the other
    units on the incident, whose crews are told.

    The units working the incident are read once: the alert's brief lists those already on it,
    the command centre's (`notify_incident`, after this) those and this one."""
    working = _active_assignments(incident)
    incident.active_assignments = working  # type: ignore[attr-defined]
    _alert_create(incident, unit, at)
    assignment = _assignment_open(incident, unit, role=role, at=at, actor=actor)
    incident.active_assignments = [*working, assignment]  # type: ignore[attr-defined]
    _unit_set_status(
        unit,
        status=UnitStatus.DISPATCHED,
        incident=incident,
        owns=True,
        at=at,
        actor=actor,
        kind="dispatched" if role == AssignmentRole.PRIMARY else "backup_dispatched",
    )
    deadlines_schedule(incident=incident, assignment=assignment)
    return tuple(sorted(a.unit_id for a in working if a.unit_id != unit.pk))


def _backup_event(
    incident: Incident,
    unit: Unit,
    *,
    kind: str,
    at: datetime,
    actor: Actor,
    reason: str = "",
    from_state: str | None = None,
    to_state: str | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """A backup's event on the incident's timeline, naming the unit (the incident's own status
    stays; the from/to states, when given, are the backup's own)."""
    event_append(
        stream=StreamKind.INCIDENT,
        stream_id=incident.pk,
        kind=kind,
        at=at,
        actor=_user(actor),
        incident=incident,
        unit=unit,
        from_state=incident.status if from_state is None else from_state,
        to_state=incident.status if to_state is None else to_state,
        reason=reason,
        payload={"unit": unit.pk, "callsign": unit.callsign, **(extra or {})},
    )


def _backup_dispatch(incident: Incident, *, unit_id: int, actor: Actor) -> Incident:
    """A further unit for an incident a unit already works (增援): its own alert, deadlines and
    stamps; the incident's status and its primary stay as they are. (The incident is locked by
    the caller; locks the unit.)"""
    locked_unit = _lock_free_unit(unit_id)
    now = timezone.now()
    _backup_event(incident, locked_unit, kind="backup_dispatched", at=now, actor=actor)
    others = _send_unit(incident, locked_unit, role=AssignmentRole.BACKUP, at=now, actor=actor)
    notify_incident(
        incident, from_status=incident.status, kind="backup_dispatched", unit_ids=others
    )
    del incident.active_assignments  # type: ignore[attr-defined]  # read by the briefs only
    return incident


def field_time(
    occurred_at: datetime | None, *, previous: datetime | None, now: datetime
) -> datetime:
    """When a crew's step happened: the phone's `occurred_at` (a tap queued offline reaches the
    server late), kept when it lies between the previous step and now, each bound widened by
    ACTION_CLOCK_SKEW_S for the phone's clock and then clamped to it; refused beyond that."""
    if occurred_at is None:
        return now
    if timezone.is_naive(occurred_at):
        raise ImplausibleTime(_("The time must carry its offset from UTC."))
    skew = timedelta(seconds=settings.ACTION_CLOCK_SKEW_S)
    if occurred_at > now + skew:
        raise ImplausibleTime(
            _("The time of the action is later than now: check the phone's clock.")
        )
    if previous is not None and occurred_at < previous - skew:
        raise ImplausibleTime(
            _("The time of the action is before the previous step (%(previous)s).")
            % {"previous": timezone.localtime(previous).strftime("%H:%M:%S")}
        )
    at = min(occurred_at, now)
    return max(at, previous) if previous is not None else at


def _received(at: datetime, now: datetime) -> dict[str, Any]:
    """The server's receipt time beside a field time that differs from it (the timeline)."""
    return {"received_at": now.isoformat()} if at != now else {}


# The stamp before each crew step (the lower bound of its field time), and the deadline a step
# meets.
_PREVIOUS_STAMP = {
    "acknowledge": "dispatched_at",
    "en_route": "acknowledged_at",
    "arrive": "en_route_at",
    "resolve": "arrived_at",
}
_MEETS = {"acknowledge": DeadlineKind.ACKNOWLEDGE, "arrive": DeadlineKind.ARRIVAL}


# An assignment's missed deadlines (the late report that may withdraw one comes often).
_MISSED = Prepared(
    lambda assignment_id: Deadline.objects.filter(
        assignment_id=assignment_id, outcome=DeadlineOutcome.MISSED
    )
)


def _withdraw_breach(
    incident: Incident, assignment: IncidentAssignment, action: str, at: datetime, now: datetime
) -> None:
    """A step reported late proves its target was met after all: the missed deadline becomes met,
    the escalation or breach mark is withdrawn (the primary's: the incident's figures), and the
    timeline says so."""
    kind = _MEETS.get(action)
    if kind is None:
        return
    primary = assignment.role == AssignmentRole.PRIMARY
    mark = "escalated_at" if kind == DeadlineKind.ACKNOWLEDGE else "arrival_breached_at"
    if primary and getattr(incident, mark) is None:
        # The primary's missed target marks the incident when it fires (deadline_fire), and
        # only this withdrawal clears the mark: no mark, no missed deadline to look for.
        return
    # (Only this withdrawal changes a missed deadline, under the incident's lock held here.)
    withdrawn = [d for d in _MISSED(assignment.pk) if d.kind == kind and d.due_at >= at]
    if not withdrawn:
        return
    for deadline in withdrawn:
        deadline.outcome = DeadlineOutcome.MET
        save_fields(deadline, "outcome")
    if primary:
        setattr(incident, mark, None)
        save_fields(incident, mark)
    event_append(
        stream=StreamKind.INCIDENT,
        stream_id=incident.pk,
        incident=incident,
        unit=assignment.unit,
        kind="escalation_withdrawn" if kind == DeadlineKind.ACKNOWLEDGE else "breach_withdrawn",
        at=now,
        reason=_("The crew's report, received late, shows the target was met."),
        payload={"target": str(kind), "occurred_at": at.isoformat(), "unit": assignment.unit_id},
    )


def _acting_assignment(
    active: list[IncidentAssignment], incident: Incident, actor: Actor, unit_id: int | None
) -> IncidentAssignment | None:
    """Whose step a crew action is, among the incident's working assignments (``active``): the
    unit named (the command centre acting for a backup), or the actor's own backup assignment,
    or else the primary's (None when no unit works it)."""
    if unit_id is not None:
        named = next((a for a in active if a.unit_id == unit_id), None)
        if named is None:
            raise IllegalTransition(
                _("That unit is not working this incident."), current_status=incident.status
            )
        return named
    primary = next((a for a in active if a.role == AssignmentRole.PRIMARY), None)
    if not is_command_centre(actor) and (primary is None or not is_crew(actor, primary.unit)):
        own = next(
            (a for a in active if a.role == AssignmentRole.BACKUP and is_crew(actor, a.unit)), None
        )
        if own is not None:
            return own
    return primary


def _crew_step(
    *,
    incident: Incident,
    actor: Actor,
    action: str,
    to_status: IncidentStatus,
    stamp: str,
    unit_status: UnitStatus | None,
    occurred_at: datetime | None = None,
    unit_id: int | None = None,
) -> Incident:
    with transaction.atomic(), notices_together():
        incident = _lock_incident(incident)
        # A step adds or ends no assignment: the crews to tell are the ones working it now.
        active = _active_assignments(incident)
        unit_ids = tuple(sorted(a.unit_id for a in active))
        assignment = _acting_assignment(active, incident, actor, unit_id)
        if assignment is not None and assignment.role == AssignmentRole.BACKUP:
            return _backup_step(
                incident,
                assignment,
                unit_ids,
                actor=actor,
                action=action,
                stamp=stamp,
                occurred_at=occurred_at,
            )
        unit = _lock_unit(incident.unit_id) if incident.unit_id else None
        _require_crew_or_operations(actor, unit)
        _require_from(incident, action)
        assert unit is not None and unit.current_incident_id == incident.pk
        assert assignment is not None and assignment.unit_id == unit.pk
        now = timezone.now()
        at = field_time(occurred_at, previous=getattr(incident, _PREVIOUS_STAMP[action]), now=now)
        from_status = incident.status
        incident.status = to_status
        setattr(incident, stamp, at)
        save_fields(incident, "status", stamp)
        # The primary's assignment moves with the incident (its states are the crew's part of
        # the incident's: dispatched … on scene).
        assignment.status = AssignmentStatus(to_status)
        setattr(assignment, stamp, at)
        save_fields(assignment, "status", stamp)
        _incident_event(
            incident,
            kind=action,
            at=at,
            actor=actor,
            from_state=from_status,
            payload=_received(at, now) or None,
        )
        _withdraw_breach(incident, assignment, action, at, now)
        if action == "acknowledge":
            # Acknowledged by any path (the app, or the command centre for a crew on the radio):
            # the alert did its job; re-sending it would put a stale card on the phone. (The
            # other ways out of `dispatched`, cancel and unassign, withdraw it.)
            _alerts_receipt(incident, unit, now)
        if unit_status is not None:
            _unit_set_status(
                unit,
                status=unit_status,
                incident=incident,
                owns=True,
                at=at,
                actor=actor,
                kind=action,
            )
        notify_incident(incident, from_status=from_status, kind=action, unit_ids=unit_ids)
    return incident


def _backup_step(
    incident: Incident,
    assignment: IncidentAssignment,
    unit_ids: tuple[int, ...],
    *,
    actor: Actor,
    action: str,
    stamp: str,
    occurred_at: datetime | None,
) -> Incident:
    """A backup's own acknowledge, en route or arrive: its assignment moves through the same
    states as the incident does for the primary (the transition table's), the incident's status
    and figures stay the primary's. (The incident is locked by the caller; locks the backup's
    unit.)"""
    unit = _lock_unit(assignment.unit_id)
    if not is_command_centre(actor) and not is_crew(actor, unit):
        raise PermissionDenied(_("Only this unit's crew, or the command centre, may do this."))
    transition = BY_ACTION[action]
    from_state, to_state = assignment.status, AssignmentStatus(transition.to_state)
    if from_state not in transition.from_states:
        raise IllegalTransition(
            _("Cannot %(action)s: this unit is %(status)s.")
            % {"action": transition.label, "status": assignment.get_status_display()},
            current_status=incident.status,
        )
    now = timezone.now()
    at = field_time(occurred_at, previous=getattr(assignment, _PREVIOUS_STAMP[action]), now=now)
    assignment.status = to_state
    setattr(assignment, stamp, at)
    save_fields(assignment, "status", stamp)
    _backup_event(
        incident,
        unit,
        kind=f"backup_{action}",
        at=at,
        actor=actor,
        from_state=from_state,
        to_state=to_state,
        extra=_received(at, now),
    )
    _withdraw_breach(incident, assignment, action, at, now)
    if action == "acknowledge":
        _alerts_receipt(incident, unit, now)
    unit_status = transition.unit_status
    if unit_status is not None:
        _unit_set_status(
            unit,
            status=UnitStatus(unit_status),
            incident=incident,
            owns=True,
            at=at,
            actor=actor,
            kind=f"backup_{action}",
        )
    notify_incident(
        incident, from_status=incident.status, kind=f"backup_{action}", unit_ids=unit_ids
    )
    return incident


def incident_acknowledge(
    *,
    incident: Incident,
    actor: Actor,
    occurred_at: datetime | None = None,
    unit_id: int | None = None,
) -> Incident:
    """The crew confirms the dispatch (接收指令). Locks the incident, then the unit.

    The crew's steps (acknowledge, en route, arrive) are the primary's, or the actor's own when
    their unit is a backup on the incident; `unit_id` names the unit (the command centre acting
    for a backup's crew on the radio)."""
    return _crew_step(
        incident=incident,
        actor=actor,
        action="acknowledge",
        to_status=S.ACKNOWLEDGED,
        stamp="acknowledged_at",
        unit_status=None,
        occurred_at=occurred_at,
        unit_id=unit_id,
    )


def incident_en_route(
    *,
    incident: Incident,
    actor: Actor,
    occurred_at: datetime | None = None,
    unit_id: int | None = None,
) -> Incident:
    """The unit sets off (出警); the unit becomes en_route. Locks the incident, then the unit."""
    return _crew_step(
        incident=incident,
        actor=actor,
        action="en_route",
        to_status=S.EN_ROUTE,
        stamp="en_route_at",
        unit_status=UnitStatus.EN_ROUTE,
        occurred_at=occurred_at,
        unit_id=unit_id,
    )


def incident_arrive(
    *,
    incident: Incident,
    actor: Actor,
    occurred_at: datetime | None = None,
    unit_id: int | None = None,
) -> Incident:
    """The unit is on scene (处警); the unit becomes on_scene. Locks the incident, then the unit."""
    return _crew_step(
        incident=incident,
        actor=actor,
        action="arrive",
        to_status=S.ON_SCENE,
        stamp="arrived_at",
        unit_status=UnitStatus.ON_SCENE,
        occurred_at=occurred_at,
        unit_id=unit_id,
    )


def _release_unit(
    unit: Unit, *, incident: Incident, at: datetime, actor: Actor, kind: str, reason: str = ""
) -> None:
    # A freed unit goes back to patrolling its grid ("有警接警、无警巡逻、以巡待接").
    _unit_set_status(
        unit,
        status=UnitStatus.PATROLLING,
        incident=incident,
        owns=False,
        at=at,
        actor=actor,
        kind=kind,
        reason=reason,
    )


def incident_resolve(
    *, incident: Incident, summary: str, actor: Actor, occurred_at: datetime | None = None
) -> Incident:
    """Resolved on scene; the unit is free again. Locks the incident, then the unit."""
    summary = _required_text(summary, "summary", 2000)
    with transaction.atomic(), notices_together():
        incident = _lock_incident(incident)
        unit = _lock_unit(incident.unit_id) if incident.unit_id else None
        _require_crew_or_operations(actor, unit)
        _require_from(incident, "resolve")
        assert unit is not None
        now = timezone.now()
        at = field_time(occurred_at, previous=incident.arrived_at, now=now)
        from_status = incident.status
        incident.status = S.RESOLVED_ON_SCENE
        incident.summary = summary
        incident.closed_at = at
        save_fields(incident, "status", "summary", "closed_at")
        _incident_event(
            incident,
            kind="resolved",
            at=at,
            actor=actor,
            from_state=from_status,
            payload={"summary": summary, **_received(at, now)},
        )
        released = _close_assignments(incident, unit, at=at, actor=actor, kind="resolved")
        notify_incident(incident, from_status=from_status, kind="resolved", unit_ids=released)
    return incident


def _close_assignments(
    incident: Incident,
    primary: Unit | None,
    *,
    at: datetime,
    actor: Actor,
    kind: str,
    reason: str = "",
    withdraw: bool = False,
) -> tuple[int, ...]:
    """The incident closed (resolved, transferred by its primary, or cancelled): the primary's
    assignment ends, it and every backup are free again (with `withdraw`, the primary's phone
    takes the incident down too: it did not close it). Returns the units released. (`primary`
    is locked by the caller; locks the backups' units after it.)"""
    active = _active_assignments(incident)
    assignment = _primary_assignment(incident, active)
    if assignment is not None:
        _assignment_close(assignment, at=at, reason=kind)
    released: tuple[int, ...] = ()
    if primary is not None:
        _release_unit(primary, incident=incident, at=at, actor=actor, kind=kind, reason=reason)
        if withdraw:
            notify_dispatch_withdrawn(incident, unit_id=primary.pk, kind=kind, reason=reason)
        released = (primary.pk,)
    return released + _release_backups(
        incident, active, at=at, actor=actor, kind=kind, reason=reason
    )


def incident_transfer(
    *,
    incident: Incident,
    reason: str,
    actor: Actor,
    station: Station | None = None,
    handed_over_at: datetime | None = None,
) -> Incident:
    """Hand over to a police station ("handle first, transfer later"); the unit is free again.

    The receiving station defaults to the one whose jurisdiction contains the location. The
    incident waits in transfer_pending until a user of that station confirms receipt. Locks the
    incident, then the unit.
    """
    reason = _required_text(reason, "reason", 1000)
    with transaction.atomic(), notices_together():
        incident = _lock_incident(incident)
        unit = _lock_unit(incident.unit_id) if incident.unit_id else None
        _require_crew_or_operations(actor, unit)
        _require_from(incident, "transfer")
        assert unit is not None
        now = timezone.now()
        target = station or incident.station
        if target is None:
            raise ValidationError(
                {"station": [_("The location is outside every jurisdiction: name the station.")]}
            )
        handed = handed_over_at or now
        if handed > now + timedelta(seconds=settings.POSITION_MAX_FUTURE_S) or (
            incident.arrived_at is not None and handed < incident.arrived_at
        ):
            raise ValidationError(
                {"handed_over_at": [_("The handover time must be between arrival and now.")]}
            )
        from_status = incident.status
        incident.status = S.TRANSFER_PENDING
        incident.transfer_station = target
        incident.transfer_reason = reason
        incident.handed_over_at = handed
        incident.closed_at = handed
        save_fields(
            incident,
            "status",
            "transfer_station",
            "transfer_reason",
            "handed_over_at",
            "closed_at",
        )
        _incident_event(
            incident,
            kind="transferred",
            at=now,
            actor=actor,
            from_state=from_status,
            reason=reason,
            payload={"station": target.pk, "handed_over_at": handed.isoformat()},
        )
        released = _close_assignments(incident, unit, at=now, actor=actor, kind="transferred")
        notify_incident(incident, from_status=from_status, kind="transferred", unit_ids=released)
    return incident


def incident_receive_transfer(*, incident: Incident, actor: Actor) -> Incident:
    """The receiving station confirms the hand-off (a receipt: who and when). Locks the incident.

    Only a user linked to the receiving station (StationDuty, with the station role) may sign.
    """
    with transaction.atomic(), notices_together():
        incident = _lock_incident(incident)
        stations = station_ids_for_user(actor)
        refusal = _("Only a user of the receiving station may confirm receipt.")
        if not stations:
            raise PermissionDenied(refusal)
        _require_from(incident, "receive_transfer")
        if incident.transfer_station_id not in stations:
            raise PermissionDenied(refusal)
        now = timezone.now()
        from_status = incident.status
        incident.status = S.TRANSFER_RECEIVED
        incident.transfer_received_at = now
        incident.transfer_received_by = _user(actor)
        save_fields(incident, "status", "transfer_received_at", "transfer_received_by")
        _incident_event(
            incident,
            kind="transfer_received",
            at=now,
            actor=actor,
            from_state=from_status,
            payload={"station": incident.transfer_station_id},
        )
        notify_incident(incident, from_status=from_status, kind="transfer_received")
    return incident


# --- the command centre's corrections ----------------------------------------------------------


def incident_cancel(*, incident: Incident, reason: str, actor: Actor) -> Incident:
    """Cancel an open incident (e.g. a false or duplicate call); frees its unit. Locks the
    incident, then the unit when one owns it."""
    _require_operations(actor)
    reason = _required_text(reason, "reason", 1000)
    with transaction.atomic(), notices_together():
        incident = _lock_incident(incident)
        _require_from(incident, "cancel")
        owner = (
            _lock_unit(incident.unit_id)
            if incident.unit_id and incident.status != S.RECEIVED
            else None
        )
        now = timezone.now()
        from_status = incident.status
        incident.status = S.CANCELLED
        incident.cancel_reason = reason
        incident.closed_at = now
        save_fields(incident, "status", "cancel_reason", "closed_at")
        _incident_event(
            incident, kind="cancelled", at=now, actor=actor, from_state=from_status, reason=reason
        )
        _alerts_withdraw(incident, now)
        if owner is not None and owner.current_incident_id != incident.pk:
            owner = None
        unit_ids = _close_assignments(
            incident, owner, at=now, actor=actor, kind="cancelled", reason=reason, withdraw=True
        )
        notify_incident(incident, from_status=from_status, kind="cancelled", unit_ids=unit_ids)
    return incident


def incident_unassign(*, incident: Incident, reason: str, actor: Actor) -> Incident:
    """Take the unit off the incident (reassignment); the incident is received again and the
    unit free. Locks the incident, then the unit."""
    _require_operations(actor)
    reason = _required_text(reason, "reason", 1000)
    with transaction.atomic(), notices_together():
        incident = _lock_incident(incident)
        _require_from(incident, "unassign")
        assert incident.unit_id is not None
        unit = _lock_unit(incident.unit_id)
        now = timezone.now()
        from_status = incident.status
        payload = {"unit": unit.pk, "callsign": unit.callsign}
        incident.status = S.RECEIVED
        incident.unit = None
        incident.dispatched_at = None
        incident.acknowledged_at = None
        incident.en_route_at = None
        save_fields(incident, "status", "unit", "dispatched_at", "acknowledged_at", "en_route_at")
        _incident_event(
            incident,
            kind="unassigned",
            at=now,
            actor=actor,
            from_state=from_status,
            reason=reason,
            payload=payload,
        )
        _alerts_withdraw(incident, now, unit_id=unit.pk)
        primary = _primary_assignment(incident)
        if primary is not None:
            _assignment_close(primary, at=now, reason=reason)
        _release_unit(
            unit, incident=incident, at=now, actor=actor, kind="unassigned", reason=reason
        )
        notify_dispatch_withdrawn(incident, unit_id=unit.pk, kind="unassigned", reason=reason)
        # Backups stay on scene: the next unit sent becomes the primary.
        notify_incident(
            incident,
            from_status=from_status,
            kind="unassigned",
            unit_ids=(unit.pk, *_assigned_unit_ids(incident)),
        )
    return incident


def incident_release_unit(
    *, incident: Incident, unit: Unit, actor: Actor, reason: str = ""
) -> Incident:
    """Release a backup (收队): it is free again, the incident goes on with its primary. By the
    command centre or the backup's own crew. The primary is not released this way: it resolves,
    transfers or is taken off. Locks the incident, then the unit."""
    reason = reason.strip()[:200]
    with transaction.atomic(), notices_together():
        incident = _lock_incident(incident)
        assignment = next((a for a in _active_assignments(incident) if a.unit_id == unit.pk), None)
        if assignment is None:
            raise IllegalTransition(
                _("That unit is not working this incident."), current_status=incident.status
            )
        locked = _lock_unit(unit.pk)
        if not is_command_centre(actor) and not is_crew(actor, locked):
            raise PermissionDenied(_("Only this unit's crew, or the command centre, may do this."))
        if assignment.role == AssignmentRole.PRIMARY:
            raise IllegalTransition(
                _(
                    "The primary unit is not released: it resolves or transfers the incident, "
                    "or the command centre takes it off."
                ),
                current_status=incident.status,
            )
        now = timezone.now()
        _assignment_close(assignment, at=now, reason=reason or "released")
        _alerts_withdraw(incident, now, unit_id=locked.pk)
        _backup_event(incident, locked, kind="backup_cleared", at=now, actor=actor, reason=reason)
        _release_unit(
            locked, incident=incident, at=now, actor=actor, kind="backup_cleared", reason=reason
        )
        notify_dispatch_withdrawn(incident, unit_id=locked.pk, kind="released", reason=reason)
        notify_incident(
            incident,
            from_status=incident.status,
            kind="backup_cleared",
            unit_ids=(locked.pk, *_assigned_unit_ids(incident)),
        )
    return incident


# --- the dispatch alert's delivery receipt -----------------------------------------------------


def alert_receipt(*, alert_id: uuid.UUID, unit_id: int) -> bool:
    """Record the delivery receipt from the unit's app. Idempotent; False if unknown or not its.

    Locks the incident (the timeline stream) and claims the alert by compare-and-swap.
    """
    incident_id = (
        Alert.objects.filter(id=alert_id, unit_id=unit_id).values_list("incident_id", flat=True)
    ).first()
    if incident_id is None:
        return False
    with transaction.atomic(), notices_together():
        incident = Incident.objects.select_for_update().get(pk=incident_id)
        now = timezone.now()
        claimed = Alert.objects.filter(
            id=alert_id, unit_id=unit_id, delivered_at__isnull=True
        ).update(delivered_at=now)
        if claimed:
            event_append(
                stream=StreamKind.INCIDENT,
                stream_id=incident.pk,
                incident=incident,
                kind="alert_delivered",
                at=now,
                payload={"alert_id": str(alert_id), "unit": unit_id},
            )
    return True


# --- one entry for every transition (the API routes and the admin buttons use it) ---------------

_RUN: dict[str, Callable[[Incident, Actor, Mapping[str, Any]], Incident]] = {
    "dispatch": lambda i, a, d: incident_dispatch(incident=i, unit=d["unit"], actor=a),
    "acknowledge": lambda i, a, d: incident_acknowledge(
        incident=i, actor=a, occurred_at=d.get("occurred_at"), unit_id=d.get("unit_id")
    ),
    "en_route": lambda i, a, d: incident_en_route(
        incident=i, actor=a, occurred_at=d.get("occurred_at"), unit_id=d.get("unit_id")
    ),
    "arrive": lambda i, a, d: incident_arrive(
        incident=i, actor=a, occurred_at=d.get("occurred_at"), unit_id=d.get("unit_id")
    ),
    "resolve": lambda i, a, d: incident_resolve(
        incident=i, summary=d["summary"], actor=a, occurred_at=d.get("occurred_at")
    ),
    "transfer": lambda i, a, d: incident_transfer(
        incident=i,
        reason=d["reason"],
        station=d.get("station"),
        handed_over_at=d.get("handed_over_at"),
        actor=a,
    ),
    "receive_transfer": lambda i, a, d: incident_receive_transfer(incident=i, actor=a),
    "cancel": lambda i, a, d: incident_cancel(incident=i, reason=d["reason"], actor=a),
    "unassign": lambda i, a, d: incident_unassign(incident=i, reason=d["reason"], actor=a),
}
assert set(_RUN) == set(BY_ACTION), "every transition of the table has its service"


# --- further calls and notes (续报) --------------------------------------------------------------


def incident_link_call(
    *,
    incident: Incident,
    actor: Actor,
    call: Call | None = None,
    caller_phone: str = "",
    caller_name: str = "",
    description: str = "",
) -> Incident:
    """A further call about an incident already open: recorded on its timeline (kind
    `call_linked`) instead of opening another incident, so the statistics count the event once.

    `call` is a ringing call from the telephony link (marked linked; CallTaken if taken already);
    without one, the call-taker's typed call is recorded as a linked call. Locks the incident,
    then the call. The crew handling the incident is told (the caller may have news).
    """
    _require_operations(actor)
    description = description.strip()[:2000]
    with transaction.atomic(), notices_together():
        incident = _lock_incident(incident)
        if incident.status not in OPEN_STATUSES:
            raise IllegalTransition(
                _("Only an open incident can take a further call: it is %(status)s.")
                % {"status": incident.get_status_display()},
                current_status=incident.status,
            )
        if call is not None:
            linked = call_take(call=call, incident=incident, status=CallStatus.LINKED, actor=actor)
        else:
            linked = call_record_linked(incident=incident, actor=actor, caller_phone=caller_phone)
        _incident_event(
            incident,
            kind="call_linked",
            at=timezone.now(),
            actor=actor,
            from_state=incident.status,
            reason=description,
            payload={
                "call": linked.pk,
                "call_received_at": linked.received_at.isoformat(),
                "caller_name": caller_name[:50],
            },
        )
        notify_incident(
            incident,
            from_status=incident.status,
            kind="call_linked",
            unit_ids=_assigned_unit_ids(incident),
        )
        notify_call_updated(linked)
    return incident


def incident_note(*, incident: Incident, actor: Actor, text: str) -> Incident:
    """A note on the incident's timeline (kind `note`), by the command centre or the crew of a
    unit working it (primary or backup); pushed to the command centre and every assigned crew."""
    text = _required_text(text, "text", 2000)
    with transaction.atomic(), notices_together():
        incident = _lock_incident(incident)
        working = _active_assignments(incident)
        if not is_command_centre(actor) and not any(is_crew(actor, a.unit) for a in working):
            if working or not has_role(actor, *UNIT_CREW_ROLES):
                raise PermissionDenied(
                    _(
                        "Only the crew of a unit working this incident, or the command centre, "
                        "may do this."
                    )
                )
            raise IllegalTransition(
                _("Only the command centre can add a note now: it is %(status)s.")
                % {"status": incident.get_status_display()},
                current_status=incident.status,
            )
        _incident_event(
            incident,
            kind="note",
            at=timezone.now(),
            actor=actor,
            from_state=incident.status,
            payload={"text": text},
        )
        notify_incident(
            incident,
            from_status=incident.status,
            kind="note",
            unit_ids=tuple(sorted(a.unit_id for a in working)),
        )
    return incident


def incident_transition(
    *, action: str, incident: Incident, actor: Actor, data: Mapping[str, Any]
) -> Incident:
    """Run the transition named `action` (transitions.TRANSITIONS) with its parsed fields."""
    return _RUN[action](incident, actor, data)


# --- a priority-1 call takes a unit from a priority-3 incident -----------------------------------


def incident_divert(*, incident: Incident, unit: Unit, reason: str, actor: Actor) -> Incident:
    """Send to a priority-1 (紧急) incident a unit that is on its way to a priority-3 one (the
    dispatcher confirmed it): the unit is taken off the other incident — back in the queue,
    received again with an `unassigned` event naming the reason — or, if it was a backup there,
    released; then it is dispatched here, as the primary or as a backup. A unit already on scene
    is not diverted (it handles its call). One transaction; locks both incidents in id order,
    then the unit."""
    _require_operations(actor)
    reason = _required_text(reason, "reason", 1000)
    with transaction.atomic(), notices_together():
        current_id = Unit.objects.filter(pk=unit.pk).values_list("current_incident_id", flat=True)
        other_id = next(iter(current_id), None)
        if other_id is None:
            # Free already: an ordinary dispatch.
            return incident_dispatch(incident=incident, unit=unit, actor=actor)
        if other_id == incident.pk:
            raise UnitBusy(_("This unit already works this incident."), unit_status=unit.status)
        locked = {
            i.pk: i
            for i in Incident.objects.select_for_update()
            .filter(pk__in=[incident.pk, other_id])
            .order_by("pk")
        }
        incident, other = locked[incident.pk], locked[other_id]
        if incident.priority != 1 or other.priority != 3:
            raise IllegalTransition(
                _(
                    "Only a priority-1 incident may take a unit from a priority-3 one "
                    "(here %(to)d and %(from)d)."
                )
                % {"to": incident.priority, "from": other.priority},
                current_status=incident.status,
            )
        assignment = next((a for a in _active_assignments(other) if a.unit_id == unit.pk), None)
        if assignment is None or assignment.status == AssignmentStatus.ON_SCENE:
            raise UnitBusy(
                _("Unit %(unit)s is on scene of %(number)s: it handles that call.")
                % {"unit": unit.callsign, "number": other.number},
                unit_status=UnitStatus.ON_SCENE,
            )
        why = _("Diverted to priority-1 incident %(number)s: %(reason)s") % {
            "number": incident.number,
            "reason": reason,
        }
        if assignment.role == AssignmentRole.PRIMARY:
            incident_unassign(incident=other, reason=why, actor=actor)
        else:
            incident_release_unit(incident=other, unit=unit, actor=actor, reason=why[:200])
        return incident_dispatch(incident=incident, unit=unit, actor=actor)
