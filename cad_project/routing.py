"""Websocket routes; each app contributes its consumers here."""

from __future__ import annotations

from typing import Any

websocket_urlpatterns: list[Any] = []
