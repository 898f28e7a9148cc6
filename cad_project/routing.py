"""Websocket routes."""

from __future__ import annotations

from typing import Any

from channels.routing import URLRouter
from django.urls import path

from apps.common.ws import WebsocketAuthStack
from apps.realtime.consumers import CommandConsumer, UnitConsumer
from apps.realtime.selectors import crew_units_prefetch

websocket_urlpatterns: list[Any] = [
    path("ws/unit/", UnitConsumer.as_asgi()),
    path("ws/command/", CommandConsumer.as_asgi()),
]


def websocket_application() -> Any:
    """Authentication, then the routes. A patrol phone's token and the unit its user crews are
    read in one trip to the database (crew_units_prefetch)."""
    return WebsocketAuthStack(URLRouter(websocket_urlpatterns), prefetch=crew_units_prefetch)
