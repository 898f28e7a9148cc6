"""A lost phone: a commander signs its user out everywhere; the phone's token is refused by the
API and the websocket, and the user's browser sessions end."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import Client
from rest_framework.test import APIClient

from apps.common.models import ApiToken
from apps.common.services import token_issue, user_sign_out_everywhere
from tests.support.ws import connect

# The websocket consumers read through database_sync_to_async (another thread).
pytestmark = pytest.mark.django_db(transaction=True)


def api_status(token: str, path: str = "/api/incidents/") -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get(path).status_code


def ws_close_code(token: str) -> tuple[bool, int | None]:
    async def attempt() -> tuple[bool, int | None]:
        comm, connected, code = await connect("/ws/unit/", token=token)
        await comm.disconnect()
        return connected, code

    return async_to_sync(attempt)()


def commander_admin(world: Any) -> Client:
    world.commander.is_staff = True
    world.commander.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(world.commander)
    return client


def test_a_commander_signs_a_lost_phone_out_everywhere(world: Any) -> None:
    phone = token_issue(user=world.auxiliary, label="lost phone")[1]
    spare = token_issue(user=world.auxiliary, label="tablet")[1]
    other = token_issue(user=world.other_crew, label="colleague")[1]
    browser = Client()
    browser.force_login(world.auxiliary)
    assert api_status(phone) == 200
    assert ws_close_code(phone)[0] is True

    lost = ApiToken.objects.get(label="lost phone")
    response = commander_admin(world).post(
        "/admin/common/apitoken/",
        {"action": "revoke_users_tokens", "_selected_action": [lost.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "2" in " ".join(str(m) for m in response.context["messages"])

    assert api_status(phone) == 401
    assert api_status(spare) == 401
    assert ws_close_code(phone) == (False, 4401)
    # The browser session is gone too.
    assert browser.get("/api/incidents/").status_code in (401, 403)
    # Nobody else is signed out.
    assert api_status(other) == 200


def test_signing_out_is_refused_to_a_dispatcher(world: Any) -> None:
    token_issue(user=world.auxiliary, label="lost phone")
    world.dispatcher.is_staff = True
    world.dispatcher.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(world.dispatcher)
    lost = ApiToken.objects.get(label="lost phone")
    response = client.post(
        "/admin/common/apitoken/",
        {"action": "revoke_users_tokens", "_selected_action": [lost.pk]},
    )
    assert response.status_code == 403
    assert ApiToken.objects.get(pk=lost.pk).revoked_at is None


def test_sign_out_everywhere_counts_tokens_and_sessions(world: Any) -> None:
    token_issue(user=world.auxiliary)
    token_issue(user=world.auxiliary)
    for _ in range(3):
        Client().force_login(world.auxiliary)
    Client().force_login(world.officer)
    assert user_sign_out_everywhere(user=world.auxiliary) == (2, 3)
    assert user_sign_out_everywhere(user=world.auxiliary) == (0, 0)
