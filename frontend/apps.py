from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FrontendConfig(AppConfig):
    """The pages (patrol app, command map) and the small API only they need (/api/me/, …)."""

    name = "frontend"
    label = "frontend"
    verbose_name = _("Pages")
