"""The demo city, loaded once per test module and rolled back after it.

Loading it takes a few seconds, so the module fixture wraps it in an outer transaction; each
test's own transaction (pytest-django's `db`) is a savepoint inside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from apps.demo.city import DemoSummary, load_demo_city
from tests.support.factories import DEMO_PASSWORD


@pytest.fixture(scope="module")
def demo_city(django_db_setup: Any, django_db_blocker: Any) -> Iterator[DemoSummary]:
    with django_db_blocker.unblock(), transaction.atomic():
        summary = load_demo_city(password=DEMO_PASSWORD, history=False)
        yield summary
        transaction.set_rollback(True)
