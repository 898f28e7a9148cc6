"""A lost phone: a commander signs its user out everywhere; the phone's token is refused by the
API and the websocket, and the user's browser sessions end."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import Client
from rest_framework.test import APIClient

from apps.common.models import ApiToken
from apps.common.services import token_issue, user_deactivate, user_sign_out_everywhere
from tests.support.factories import UserFactory
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


def _deactivate_in_the_admin_form(admin: Client, user: Any) -> None:
    """The user's change form posted back with *active* unticked (an absent checkbox)."""
    joined = user.date_joined
    response = admin.post(
        f"/admin/auth/user/{user.pk}/change/",
        {
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "groups": [g.pk for g in user.groups.all()],
            "date_joined_0": joined.strftime("%Y-%m-%d"),
            "date_joined_1": joined.strftime("%H:%M:%S"),
            "last_login_0": "",
            "last_login_1": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors


def _deactivate_by_the_admin_action(admin: Client, user: Any) -> None:
    response = admin.post(
        "/admin/auth/user/", {"action": "deactivate_users", "_selected_action": [user.pk]}
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    "deactivate",
    [_deactivate_in_the_admin_form, _deactivate_by_the_admin_action],
    ids=["form", "action"],
)
def test_deactivating_a_user_in_the_admin_closes_their_open_sockets(
    world: Any, deactivate: Any
) -> None:
    """A deactivated user's open websocket was still served (a token's is_active is checked
    only when the socket connects); it now closes as a revoked token's does."""
    from asgiref.sync import sync_to_async

    from tests.support.ws import receive_until

    admin = Client()
    admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    async def scenario() -> None:
        leaving, _, _ = await connect("/ws/unit/", world.auxiliary)
        colleague, _, _ = await connect("/ws/unit/", world.officer)
        for comm in (leaving, colleague):
            await receive_until(comm, lambda f: f["type"] == "welcome")
        await sync_to_async(deactivate)(admin, world.auxiliary)
        out = await leaving.receive_output(timeout=5)
        while out["type"] != "websocket.close":
            out = await leaving.receive_output(timeout=5)
        assert out["code"] == 4401
        await colleague.send_json_to({"type": "ping"})
        await receive_until(colleague, lambda f: f["type"] == "pong")
        await colleague.disconnect()

    async_to_sync(scenario)()
    world.auxiliary.refresh_from_db()
    assert world.auxiliary.is_active is False
    # Reconnecting and the API are refused too.
    assert ws_close_code(token_issue(user=world.auxiliary)[1]) == (False, 4401)
    assert api_status(token_issue(user=world.auxiliary)[1]) == 401


def test_user_deactivate_closes_open_sockets_after_commit_only(world: Any) -> None:
    from asgiref.sync import sync_to_async
    from django.db import transaction

    from tests.support.ws import receive_until

    async def scenario() -> None:
        comm, _, _ = await connect("/ws/unit/", world.auxiliary)
        await receive_until(comm, lambda f: f["type"] == "welcome")

        def rolled_back() -> None:
            try:
                with transaction.atomic():
                    user_deactivate(user=world.auxiliary)
                    raise RuntimeError("rolled back")
            except RuntimeError:
                pass

        await sync_to_async(rolled_back)()
        # Nothing is sent for a transaction that rolls back: the socket is still served.
        await comm.send_json_to({"type": "ping"})
        await receive_until(comm, lambda f: f["type"] == "pong")
        await sync_to_async(user_deactivate)(user=world.auxiliary)
        out = await comm.receive_output(timeout=5)
        while out["type"] != "websocket.close":
            out = await comm.receive_output(timeout=5)
        assert out["code"] == 4401

    async_to_sync(scenario)()
