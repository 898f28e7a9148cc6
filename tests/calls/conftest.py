"""Fixtures of the call-taker's console tests: the telephony link's account and a ringing call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from tests.support.api import api
from tests.support.factories import World

Ring = Callable[..., dict[str, Any]]


@pytest.fixture
def telephony(world: World) -> User:
    """The telephony link's service account (role `telephony` only)."""
    return world.telephony


@pytest.fixture
def ring(telephony: User) -> Ring:
    """Report a ringing call through POST /api/calls/ and return the 201 answer's body.

    `ago_s`: how long before now the 110 platform received it; any other keyword is sent as is.
    """

    def report(*, ago_s: float = 30, **body: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "caller_phone": "13912345678",
            "line": "110-1",
            "received_at": (timezone.now() - timedelta(seconds=ago_s)).isoformat(),
            **body,
        }
        response = api(telephony).post("/api/calls/", payload, format="json")
        assert response.status_code == 201, response.content
        data: dict[str, Any] = response.json()
        return data

    return report
