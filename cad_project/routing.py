"""Websocket routes."""

from __future__ import annotations

from typing import Any

from django.urls import path

from apps.realtime.consumers import CommandConsumer, UnitConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/unit/", UnitConsumer.as_asgi()),
    path("ws/command/", CommandConsumer.as_asgi()),
]
