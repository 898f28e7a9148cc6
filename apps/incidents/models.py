"""Incidents (110 calls) and the append-only, hash-chained timeline of every change.

Lifecycle (接警 → 派警 → 出警 → 处警):
received → dispatched → acknowledged → en_route → on_scene → resolved_on_scene | transfer_pending
→ transfer_received; cancelled from any open state.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    CRIMINAL = "criminal", _("Criminal (刑事)")
    PUBLIC_ORDER = "public_order", _("Public order (治安)")
    DISPUTE = "dispute", _("Dispute (纠纷)")
    ASSISTANCE = "assistance", _("Assistance (救助)")
    OTHER = "other", _("Other (其它)")


class Origin(models.TextChoices):
    CALL = "call", _("110 call (接警)")
    PATROL = "patrol", _("Raised on patrol (以巡待接)")


class IncidentStatus(models.TextChoices):
    RECEIVED = "received", _("Received (接警)")
    DISPATCHED = "dispatched", _("Dispatched (派警)")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    EN_ROUTE = "en_route", _("En route (出警)")
    ON_SCENE = "on_scene", _("On scene (处警)")
    RESOLVED_ON_SCENE = "resolved_on_scene", _("Resolved on scene")
    TRANSFER_PENDING = "transfer_pending", _("Transfer pending")
    TRANSFER_RECEIVED = "transfer_received", _("Transferred to station")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (
    IncidentStatus.RECEIVED,
    IncidentStatus.DISPATCHED,
    IncidentStatus.ACKNOWLEDGED,
    IncidentStatus.EN_ROUTE,
    IncidentStatus.ON_SCENE,
)
# Priorities with the shorter (3-minute) arrival target wherever the incident is, as in a priority
# zone: 紧急. Read by the deadlines, the statistics' target counts and the pages' countdowns.
SHORT_ARRIVAL_PRIORITIES = (1,)

# Statuses in which a unit owns the incident.
OWNED_STATUSES = (
    IncidentStatus.DISPATCHED,
    IncidentStatus.ACKNOWLEDGED,
    IncidentStatus.EN_ROUTE,
    IncidentStatus.ON_SCENE,
)


class Incident(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), help_text=_("1 (most urgent) to 3."))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=IncidentStatus.choices,
        default=IncidentStatus.RECEIVED,
    )
    caller_name = models.CharField(_("caller name"), max_length=50, blank=True)
    caller_phone = models.CharField(_("caller phone"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=200)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    grid_cell = models.ForeignKey(
        "units.GridCell",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("grid cell"),
    )
    station = models.ForeignKey(
        "units.Station",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("police station"),
    )
    # The unit that handled (or handles) the incident; kept after closing for statistics.
    unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("unit"),
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    en_route_at = models.DateTimeField(_("en route at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    closed_at = models.DateTimeField(
        _("closed at"), null=True, blank=True, help_text=_("Resolved, handed over or cancelled.")
    )
    summary = models.TextField(_("summary"), max_length=2000, blank=True)
    # Transfer to a police station ("handle first, transfer later").
    transfer_station = models.ForeignKey(
        "units.Station",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfers",
        verbose_name=_("receiving station"),
    )
    transfer_reason = models.TextField(_("transfer reason"), max_length=1000, blank=True)
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    transfer_received_at = models.DateTimeField(_("transfer received at"), null=True, blank=True)
    transfer_received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("transfer received by"),
    )
    cancel_reason = models.TextField(_("cancel reason"), max_length=1000, blank=True)
    # Timers (1-3-5 minutes): set by the escalation service.
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    arrival_breached_at = models.DateTimeField(_("arrival target missed at"), null=True, blank=True)
    # Imported from history rather than taken live.
    imported = models.BooleanField(_("imported"), default=False)
    # How it came in: a 110 call, or a crew that came upon it on patrol (counted apart).
    # (A database default too: rows written outside the ORM — a 110 platform's bulk load — are
    # calls.)
    origin = models.CharField(
        _("origin"), max_length=8, choices=Origin.choices, default=Origin.CALL, db_default="call"
    )

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-received_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=3), name="incident_priority_1_3"
            ),
            models.CheckConstraint(
                condition=Q(lat__gte=-90, lat__lte=90, lon__gte=-180, lon__lte=180),
                name="incident_latlon_range",
            ),
            # A live incident past intake has its unit; a historical one imported from a 110
            # platform's export may not say which unit it was (stats/importer.py).
            models.CheckConstraint(
                condition=Q(status__in=[IncidentStatus.RECEIVED, IncidentStatus.CANCELLED])
                | Q(unit__isnull=False)
                | Q(imported=True),
                name="incident_dispatched_has_unit",
            ),
        ]
        indexes = [
            # incident list and API filters: status, newest first
            models.Index(fields=["status", "-received_at"], name="incident_status_time"),
            # statistics over a period by category
            models.Index(fields=["received_at", "category"], name="incident_time_category"),
            # command map / coverage: incidents in a bounding box
            models.Index(fields=["lat", "lon"], name="incident_latlon"),
            # caller search
            models.Index(fields=["caller_phone"], name="incident_caller_phone"),
            # the statistics' count by origin: the few raised on patrol, by time
            models.Index(
                fields=["received_at"],
                name="incident_patrol_time",
                condition=Q(origin="patrol"),
            ),
        ]

    def __str__(self) -> str:
        return self.number


class AssignmentRole(models.TextChoices):
    PRIMARY = "primary", _("Primary (responsible)")
    BACKUP = "backup", _("Backup (增援)")


class AssignmentStatus(models.TextChoices):
    DISPATCHED = "dispatched", _("Dispatched")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    EN_ROUTE = "en_route", _("En route")
    ON_SCENE = "on_scene", _("On scene")
    CLEARED = "cleared", _("Released")


class IncidentAssignment(models.Model):
    """One unit sent to one incident: the primary ("who handles is responsible") or a backup.

    The primary's steps are also the incident's own (its status and stamps, the 1-3-5 figures);
    a backup has its own dispatch alert, deadlines and stamps, and is released on its own or when
    the incident closes. `cleared_at` ends an assignment (released, taken off, incident closed).
    """

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("incident")
    )
    unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name=_("unit"),
    )
    role = models.CharField(_("role"), max_length=8, choices=AssignmentRole.choices)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=AssignmentStatus.choices,
        default=AssignmentStatus.DISPATCHED,
    )
    dispatched_at = models.DateTimeField(_("dispatched at"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    en_route_at = models.DateTimeField(_("en route at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    cleared_at = models.DateTimeField(_("released at"), null=True, blank=True)
    clear_reason = models.CharField(_("release reason"), max_length=200, blank=True)
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dispatched by"),
    )

    class Meta:
        verbose_name = _("unit on the incident")
        verbose_name_plural = _("units on the incident")
        ordering = ["incident", "dispatched_at", "pk"]
        constraints = [
            # A unit works one incident at a time.
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(cleared_at__isnull=True),
                name="assignment_one_active_per_unit",
            ),
            # One responsible unit per incident.
            models.UniqueConstraint(
                fields=["incident"],
                condition=Q(cleared_at__isnull=True, role="primary"),
                name="assignment_one_active_primary",
            ),
            models.CheckConstraint(
                condition=Q(cleared_at__isnull=True) | Q(status="cleared"),
                name="assignment_cleared_has_time",
            ),
        ]
        indexes = [
            # per-unit figures: a unit's assignments over a period
            models.Index(fields=["unit", "dispatched_at"], name="assignment_unit_time"),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id}→{self.unit_id} ({self.role})"


class StreamKind(models.TextChoices):
    INCIDENT = "incident", _("Incident")
    UNIT = "unit", _("Unit")


# What each kind of timeline event is called on every screen (admin, command map). Worded apart
# from the statistics' counts ("resolved on scene", "cancelled"), which are other messages.
EVENT_KIND_LABELS: dict[str, Any] = {
    "received": _("call taken (接警)"),
    "dispatched": _("dispatched (派警)"),
    "acknowledge": _("dispatch acknowledged by the crew"),
    "en_route": _("en route (出警)"),
    "arrive": _("arrived on scene"),
    "resolved": _("incident resolved on scene"),
    "transferred": _("handed over to a station"),
    "transfer_received": _("station confirmed receipt"),
    "cancelled": _("incident cancelled"),
    "unassigned": _("unit taken off"),
    "escalated": _("acknowledge target missed: escalated"),
    "arrival_target_missed": _("arrival target missed"),
    "escalation_withdrawn": _("escalation withdrawn (late report)"),
    "breach_withdrawn": _("arrival breach withdrawn (late report)"),
    "alert_delivered": _("alert shown on the phone"),
    "call_linked": _("further call"),
    "note": _("note"),
    "backup_dispatched": _("backup dispatched (增援)"),
    "backup_acknowledge": _("backup acknowledged"),
    "backup_en_route": _("backup en route"),
    "backup_arrive": _("backup arrived on scene"),
    "backup_cleared": _("backup released"),
    "backup_requested": _("backup requested by the crew"),
    "raised_on_patrol": _("raised by the crew on patrol (以巡待接)"),
    "photo": _("photo (续报)"),
}


def event_kind_label(kind: str) -> str:
    return str(EVENT_KIND_LABELS.get(kind, kind))


class Event(models.Model):
    """One change of an incident or a unit. Append-only and hash-chained per stream.

    `hash` = HMAC-SHA256 (TIMELINE_KEY, never stored in the database) over the event's content
    and the previous event's hash in the same stream; `verify_timeline` recomputes the chains and
    checks them against the checkpoints written outside the database (apps/audit). On
    PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE.
    """

    stream = models.CharField(_("stream"), max_length=8, choices=StreamKind.choices)
    stream_id = models.BigIntegerField(_("stream id"))
    seq = models.PositiveIntegerField(_("sequence"))
    incident = models.ForeignKey(
        Incident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("incident"),
    )
    unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("unit"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    at = models.DateTimeField(_("at"))
    kind = models.CharField(_("kind"), max_length=40)
    from_state = models.CharField(_("from"), max_length=20, blank=True)
    to_state = models.CharField(_("to"), max_length=20, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)
    # Which TIMELINE_KEY signed `hash` (HMAC-SHA256); empty: an event from before keyed chains
    # (plain SHA-256), accepted only up to the cutover recorded in the checkpoints.
    key_id = models.CharField(_("key"), max_length=16, blank=True, default="")

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["stream", "stream_id", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["stream", "stream_id", "seq"], name="event_stream_seq_uniq"
            ),
        ]
        indexes = [
            # an incident's timeline, a unit's history
            models.Index(fields=["incident", "seq"], name="event_incident_seq"),
            models.Index(fields=["unit", "at"], name="event_unit_at"),
        ]

    def __str__(self) -> str:
        # Shown on the admin's timeline rows and event pages: the stream's label, not its code.
        label = event_kind_label(self.kind)
        return f"{self.get_stream_display()} {self.stream_id} #{self.seq} {label}"


# --- the dispatch outbox and the 1-3-5 minute timers, written by the dispatch transaction ---------


class Alert(models.Model):
    """A dispatch alert for a unit, written in the dispatch transaction (the outbox).

    It is pushed after commit, re-sent on every (re)connect of the unit and every ALERT_RESEND_S
    while connected, until the unit's app returns a delivery receipt. A reassignment or a
    cancellation withdraws it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.PROTECT, related_name="alerts"
    )
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="alerts")
    seq = models.PositiveBigIntegerField(_("notice sequence"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    send_count = models.PositiveIntegerField(_("times sent"), default=0)
    last_sent_at = models.DateTimeField(_("last sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("dispatch alert")
        verbose_name_plural = _("dispatch alerts")
        indexes = [
            # pending alerts of a unit (re-send loop, reconnect)
            models.Index(
                fields=["unit", "created_at"],
                name="alert_pending_by_unit",
                condition=Q(delivered_at__isnull=True, withdrawn_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id}→{self.unit_id}"


class DeadlineKind(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", _("Acknowledge")
    ARRIVAL = "arrival", _("Arrival")


class DeadlineOutcome(models.TextChoices):
    MET = "met", _("Met")
    MISSED = "missed", _("Missed")
    SUPERSEDED = "superseded", _("Superseded")


class Deadline(models.Model):
    """A timer of the 1-3-5 minute targets, kept in the database.

    A Celery countdown task is the fast path; a sweeper fires whatever is due and unfired. Firing
    claims the row under a lock, so each deadline is resolved exactly once whichever path wins.
    """

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.PROTECT, related_name="deadlines"
    )
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="deadlines")
    # The dispatch it times (empty on deadlines from before several units per incident).
    assignment = models.ForeignKey(
        IncidentAssignment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deadlines",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=DeadlineKind.choices)
    due_at = models.DateTimeField(_("due at"))
    fired_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=DeadlineOutcome.choices, blank=True
    )

    class Meta:
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        indexes = [
            # the sweeper: unfired deadlines by due time
            models.Index(
                fields=["due_at"], name="deadline_unfired_due", condition=Q(fired_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.incident_id} @ {self.due_at:%H:%M:%S}"
