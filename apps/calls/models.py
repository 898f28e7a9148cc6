"""A 110 call as the telephony link reported it, and what the call-taker made of it.

A call rings (reported by the 110 platform or a telephony gateway), then the call-taker takes it:
it opens an incident, is linked to an incident already open (a further call about the same event,
counted once), or is closed without an incident (hang-up, prank, enquiry). The call row keeps the
caller's number; the incident timeline refers to the call by id.

The incident a call belongs to is a reference to the layer above (like `Unit.current_incident`):
this app never imports the incidents app; the incidents services set it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CallStatus(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    INCIDENT = "incident", _("Opened an incident")
    LINKED = "linked", _("Linked to an open incident")
    CLOSED = "closed", _("Closed without an incident")


class CloseReason(models.TextChoices):
    HANG_UP = "hang_up", _("Hang-up (挂断)")
    PRANK = "prank", _("Prank or nuisance (骚扰)")
    ENQUIRY = "enquiry", _("Enquiry (咨询)")
    WRONG_NUMBER = "wrong_number", _("Wrong number (误拨)")
    OTHER = "other", _("Other (其它)")


class Call(models.Model):
    caller_phone = models.CharField(_("caller phone"), max_length=20, blank=True)
    line = models.CharField(_("line"), max_length=20, blank=True)
    received_at = models.DateTimeField(
        _("received at"), help_text=_("When the call reached the 110 platform.")
    )
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reported by"),
    )
    # The carrier's location of the caller (WGS-84), if the platform sent one.
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    accuracy_m = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CallStatus.choices, default=CallStatus.RINGING
    )
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("incident"),
    )
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("taken by"),
    )
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    close_reason = models.CharField(
        _("close reason"), max_length=16, choices=CloseReason.choices, blank=True
    )
    close_note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("110 call")
        verbose_name_plural = _("110 calls")
        ordering = ["-received_at"]
        indexes = [
            # the console's ringing list; the statistics by period
            models.Index(fields=["status", "received_at"], name="call_status_received"),
            # the caller's earlier calls
            models.Index(fields=["caller_phone", "received_at"], name="call_phone_received"),
        ]
        constraints = [
            # One call opens an incident; further calls are linked to it.
            models.UniqueConstraint(
                fields=["incident"],
                condition=Q(status="incident"),
                name="call_one_opening_call_per_incident",
            ),
            models.CheckConstraint(
                condition=Q(incident__isnull=True) | Q(status__in=["incident", "linked"]),
                name="call_incident_only_when_taken",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.line}".strip()
