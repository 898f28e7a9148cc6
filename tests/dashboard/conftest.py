from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from django.test import Client

from apps.common.roles import Role
from tests.support.dashboard_day import NOW
from tests.support.factories import UserFactory


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def commander() -> Client:
    client = Client()
    client.force_login(UserFactory(roles=[Role.COMMANDER]))
    return client
