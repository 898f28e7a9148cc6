"""The public HTTP API (/api/…): each app adds its routes here."""

from __future__ import annotations

from django.urls import path

from apps.common.api import ObtainTokenView

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
]
