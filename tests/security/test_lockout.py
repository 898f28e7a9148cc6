"""Login throttling (django-axes): five failed logins of one username from one address lock it
out for the cool-off time, on the token endpoint and on the admin login alike."""

from __future__ import annotations

import os
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client, override_settings
from rest_framework.test import APIClient

from apps.common.roles import Role
from apps.common.security import client_address, parse_trusted_proxies
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatcher(db: Any) -> Any:
    return UserFactory(username="disp", password="right-pw", roles=[Role.DISPATCHER], is_staff=True)


def token_login(
    password: str, *, ip: str = "10.0.0.1", username: str = "disp", forwarded_for: str = ""
) -> Any:
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    return APIClient().post(
        "/api/auth/token/",
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=ip,
        **headers,
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


PROXY = "10.9.0.2"


def test_a_client_rotating_x_forwarded_for_is_locked_out_at_its_own_address(
    dispatcher: Any,
) -> None:
    """With no trusted proxy (the default) the header is ignored."""
    limit = settings.AXES_FAILURE_LIMIT
    for i in range(limit - 1):
        assert token_login("wrong", forwarded_for=f"203.0.113.{i}").status_code == 400
    assert token_login("wrong", forwarded_for="203.0.113.99").status_code == 429
    assert token_login("right-pw", forwarded_for="198.51.100.7").status_code == 429


@override_settings(TRUSTED_PROXIES=["10.9.0.0/24"])
def test_behind_a_trusted_proxy_each_client_is_counted_at_its_own_address(
    dispatcher: Any,
) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit):
        token_login("wrong", ip=PROXY, forwarded_for="203.0.113.5")
    assert token_login("right-pw", ip=PROXY, forwarded_for="203.0.113.5").status_code == 429
    # Another client behind the same proxy is not locked out by the first one.
    assert token_login("right-pw", ip=PROXY, forwarded_for="198.51.100.7").status_code == 200


@override_settings(TRUSTED_PROXIES=["10.9.0.0/24"])
def test_hops_written_by_the_client_are_not_believed(dispatcher: Any) -> None:
    """The client prepends a fresh address each time; the proxy appends the real one."""
    limit = settings.AXES_FAILURE_LIMIT
    for i in range(limit):
        forged = f"192.0.2.{i}, 203.0.113.5"
        token_login("wrong", ip=PROXY, forwarded_for=forged)
    assert (
        token_login("right-pw", ip=PROXY, forwarded_for="192.0.2.77, 203.0.113.5").status_code
        == 429
    )
    # An untrusted peer's header is ignored even when proxies are configured.
    for i in range(limit):
        token_login("wrong", ip="198.51.100.9", forwarded_for=f"10.9.0.{i + 10}")
    assert token_login("right-pw", ip="198.51.100.9", forwarded_for="10.9.0.99").status_code == 429


@pytest.mark.parametrize(
    ("peer", "header", "proxies", "expected"),
    [
        ("10.9.0.2", "203.0.113.5", [], "10.9.0.2"),
        ("10.9.0.2", "203.0.113.5", ["10.9.0.0/24"], "203.0.113.5"),
        ("10.9.0.2", "203.0.113.5, 10.9.0.3", ["10.9.0.0/24"], "203.0.113.5"),
        ("10.9.0.2", "not-an-ip", ["10.9.0.0/24"], "10.9.0.2"),
        ("198.51.100.9", "203.0.113.5", ["10.9.0.0/24"], "198.51.100.9"),
        (None, "203.0.113.5", ["unix"], "203.0.113.5"),
        (None, "203.0.113.5", ["10.9.0.0/24"], None),
        ("::1", "2001:db8::5", ["::1"], "2001:db8::5"),
    ],
)
def test_the_client_address_is_read_from_the_right(
    peer: str | None, header: str, proxies: list[str], expected: str | None
) -> None:
    assert client_address(peer, header, parse_trusted_proxies(proxies)) == expected


def test_a_bad_trusted_proxy_stops_the_start() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cad_project.settings.test",
            "TRUSTED_PROXIES": "10.0.0.0/8,proxy.local",
        },
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr
