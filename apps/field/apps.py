from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldConfig(AppConfig):
    name = "apps.field"
    label = "field"
    verbose_name = _("The crews' reports (一键求助、增援、勤务状态)")
