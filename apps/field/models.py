"""What a crew reports from the street beyond an incident's steps: the emergency button
(一键求助) and photos (续报). Duty status lives on the unit (apps.units), backup requests and
notes on the incident's timeline (apps.incidents).
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Emergency(models.Model):
    """A crew pressed the emergency button: loud on the command map until a commander
    acknowledges it. A second press while one is open updates it (the position moves)."""

    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="emergencies", verbose_name=_("unit")
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("raised by"),
    )
    # When it was pressed on the phone (an offline press reaches the server late).
    raised_at = models.DateTimeField(_("raised at"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    accuracy_m = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    # The incident the unit was working when it pressed, if any.
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("incident"),
    )
    presses = models.PositiveIntegerField(_("presses"), default=1)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )

    class Meta:
        verbose_name = _("emergency (一键求助)")
        verbose_name_plural = _("emergencies (一键求助)")
        ordering = ["-raised_at"]
        constraints = [
            # One open emergency per unit: a second press updates it.
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(acknowledged_at__isnull=True),
                name="emergency_one_open_per_unit",
            ),
            models.CheckConstraint(
                condition=(Q(lat__isnull=True) & Q(lon__isnull=True))
                | Q(lat__gte=-90, lat__lte=90, lon__gte=-180, lon__lte=180),
                name="emergency_latlon",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} @ {self.raised_at:%Y-%m-%d %H:%M:%S}"


def _attachments_storage() -> Storage:
    return storages["attachments"]


class Attachment(models.Model):
    """A photo a crew took of an incident (续报), kept without its metadata (apps/field/images.py)
    in the attachments storage; read only through the incident's access check."""

    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.PROTECT,
        related_name="attachments",
        verbose_name=_("incident"),
    )
    unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("unit"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    # When it was taken on the phone (a photo queued offline arrives late).
    taken_at = models.DateTimeField(_("taken at"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    file = models.FileField(_("photo"), storage=_attachments_storage, max_length=200)
    thumbnail = models.FileField(_("thumbnail"), storage=_attachments_storage, max_length=200)
    content_type = models.CharField(_("type"), max_length=40)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    size_bytes = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    caption = models.CharField(_("caption"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["incident", "taken_at", "pk"]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.taken_at:%Y-%m-%d %H:%M:%S}"

    @property
    def url(self) -> str:
        """Where the photo is read (through the incident's access check); `?thumbnail=1` for
        its thumbnail."""
        return reverse(
            "incident-attachment-file", kwargs={"pk": self.incident_id, "attachment_id": self.pk}
        )
