"""Production settings refuse unsafe configuration; the documented production set passes
`check --deploy` without a single warning. Each case runs manage.py in a fresh process."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.support.procs import PRODUCTION, manage, strong_key


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (None, "SECRET_KEY is not set"),
        (settings.DEV_SECRET_KEY, "The development SECRET_KEY cannot be used"),
        ("short-key", "at least 50 characters"),
    ],
    ids=["no-key", "dev-key", "short-key"],
)
def test_production_refuses_to_start_with_an_unsafe_key(secret: str | None, message: str) -> None:
    env = dict(PRODUCTION)
    if secret is not None:
        env["SECRET_KEY"] = secret
    result = manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_debug_runs_without_a_key() -> None:
    result = manage("check", DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_deploy_check_passes_with_the_documented_production_variables() -> None:
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=strong_key(), **PRODUCTION
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_fails_when_debug_is_on_in_production() -> None:
    env = {**PRODUCTION, "DEBUG": "1", "SECRET_KEY": strong_key()}
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode != 0
    assert "DEBUG" in result.stdout + result.stderr
