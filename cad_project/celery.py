"""The Celery application. Broker and result backend come from settings (Redis or in-process)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cad_project.settings.base")

app = Celery("cad_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
