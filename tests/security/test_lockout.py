"""Login throttling (django-axes): five failed logins of one username from one address lock it
out for the cool-off time, on the token endpoint and on the admin login alike."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from apps.common.roles import Role
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatcher(db: Any) -> Any:
    return UserFactory(username="disp", password="right-pw", roles=[Role.DISPATCHER], is_staff=True)


def token_login(password: str, *, ip: str = "10.0.0.1", username: str = "disp") -> Any:
    return APIClient().post(
        "/api/auth/token/",
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=ip,
    )


def admin_login(password: str, *, ip: str = "10.0.0.1") -> Any:
    return Client().post(
        "/admin/login/?next=/admin/",
        {"username": "disp", "password": password},
        REMOTE_ADDR=ip,
    )


def test_the_token_endpoint_locks_out_after_the_failure_limit(dispatcher: Any) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert token_login("wrong").status_code == 400
    locked = token_login("wrong")
    assert locked.status_code == 429
    assert locked["Content-Type"].startswith("application/json")
    assert locked.json()["code"] == "locked_out"
    assert int(locked["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    # Even the right password is refused now, without a token.
    right = token_login("right-pw")
    assert right.status_code == 429
    assert "token" not in right.json()


def test_a_lockout_is_per_username_and_address(dispatcher: Any) -> None:
    UserFactory(username="other", password="pw2", roles=[Role.DISPATCHER])
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token_login("wrong")
    assert token_login("right-pw").status_code == 429
    assert token_login("right-pw", ip="10.0.0.2").status_code == 200
    assert token_login("pw2", username="other").status_code == 200


def test_the_lockout_ends_after_the_cool_off(dispatcher: Any) -> None:
    with time_machine.travel("2026-06-01T00:00:00Z", tick=False) as traveller:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            token_login("wrong")
        assert token_login("right-pw").status_code == 429
        traveller.shift(settings.AXES_COOLOFF_TIME.total_seconds() + 1)
        assert token_login("right-pw").status_code == 200


def test_a_success_before_the_limit_resets_the_count(dispatcher: Any) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        token_login("wrong")
    assert token_login("right-pw").status_code == 200
    assert token_login("wrong").status_code == 400


def test_the_admin_login_locks_out_too(dispatcher: Any) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert admin_login("wrong").status_code == 200  # the form again, with an error
    assert admin_login("wrong").status_code == 429
    locked = admin_login("right-pw")
    assert locked.status_code == 429
    assert "sessionid" not in locked.cookies
    # The admin's failures count for the API as well: same username, same address.
    assert token_login("right-pw").status_code == 429
