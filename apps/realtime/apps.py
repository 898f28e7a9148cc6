from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RealtimeConfig(AppConfig):
    name = "apps.realtime"
    label = "realtime"
    verbose_name = _("Real-time delivery")

    def ready(self) -> None:
        # Register the timer tasks in every process, not only in the worker (which imports
        # CELERY_IMPORTS): the dispatch queues the deadlines' fast path by the task's name
        # (apps/incidents/deadlines.py), from the web processes.
        from . import tasks  # noqa: F401
        from .handshake import autobahn_lazy_pformat

        autobahn_lazy_pformat()
