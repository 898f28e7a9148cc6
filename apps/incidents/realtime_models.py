"""Tables of the reliable delivery layer: dispatch alerts (the outbox) and database deadlines."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
