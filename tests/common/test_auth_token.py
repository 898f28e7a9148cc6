"""POST /api/auth/token/ and the token's lifetime."""

from __future__ import annotations

import pytest
import time_machine
from django.test import override_settings
from rest_framework.test import APIClient

from apps.common.models import ApiToken
from apps.common.roles import Role
from apps.common.services import token_revoke_all
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db


def _login(username: str = "disp", password: str = "pw") -> tuple[int, dict[str, str]]:
    response = APIClient().post(
        "/api/auth/token/", {"username": username, "password": password}, format="json"
    )
    return response.status_code, response.json()


def _units(token: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/units/").status_code


def test_login_returns_a_token_that_authenticates() -> None:
    UserFactory(username="disp", roles=[Role.DISPATCHER])
    status, body = _login()
    assert status == 200 and body["token"]
    assert _units(body["token"]) == 200
    # Only the hash is stored.
    assert not ApiToken.objects.filter(key_hash=body["token"]).exists()


@pytest.mark.parametrize(("username", "password"), [("disp", "wrong"), ("nobody", "pw")])
def test_wrong_credentials_are_400(username: str, password: str) -> None:
    UserFactory(username="disp", roles=[Role.DISPATCHER])
    status, body = _login(username, password)
    assert status == 400 and "non_field_errors" in body
    assert not ApiToken.objects.exists()


def test_missing_fields_are_400() -> None:
    response = APIClient().post("/api/auth/token/", {}, format="json")
    assert response.status_code == 400
    assert {"username", "password"} <= set(response.json())


@override_settings(API_TOKEN_TTL_HOURS=1)
def test_an_expired_token_is_401() -> None:
    UserFactory(username="disp", roles=[Role.DISPATCHER])
    with time_machine.travel("2026-06-01T00:00:00Z", tick=False) as traveller:
        _, body = _login()
        assert _units(body["token"]) == 200
        traveller.move_to("2026-06-01T01:00:01Z")
        assert _units(body["token"]) == 401


def test_a_revoked_token_is_401() -> None:
    user = UserFactory(username="disp", roles=[Role.DISPATCHER])
    _, body = _login()
    token_revoke_all(user=user)
    assert _units(body["token"]) == 401


def test_an_unknown_token_is_401() -> None:
    assert _units("not-a-token") == 401


def test_an_inactive_users_token_is_401() -> None:
    user = UserFactory(username="disp", roles=[Role.DISPATCHER])
    _, body = _login()
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert _units(body["token"]) == 401
