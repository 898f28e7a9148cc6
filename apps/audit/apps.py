from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """The tamper evidence of the record: verifying the keyed chains, the signed checkpoints
    outside the database, the incident rows against their events."""

    name = "apps.audit"
    label = "audit"
    verbose_name = _("Audit")
