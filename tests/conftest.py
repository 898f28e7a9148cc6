"""Fixtures for every test package. Their builders, and every other helper, are in tests/support."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.factories import World, new_world


@pytest.fixture
def world(db: Any) -> World:
    """The small city with one account per role (factories.new_world)."""
    return new_world()
