"""Schemathesis against /api/schema/: every operation, as a signed-in dispatcher, in-process
(Django's WSGI handler). No 500s; answers match the schema. Deterministic (derandomized)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.core.serializers.json import DjangoJSONEncoder
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
)

from apps.common.services import token_issue
from tests.support.api import api
from tests.support.factories import World, advance, new_incident


def load_schema() -> Any:
    """The schema /api/schema/ serves, generated in-process; requests go to Django's WSGI handler.

    (Built at collection, without the database; schemathesis' lazy fixture loader does not
    support this pytest.)
    """
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(json.dumps(document, cls=DjangoJSONEncoder)))
    loaded.app = WSGIHandler()
    return loaded


schema = load_schema()

# Every default check (no 5xx; status codes, content types, headers and bodies as the schema
# says), on valid and on invalid input, except two that test the input side rather than the
# answers: positive_data_acceptance (a schema-valid id of an object that does not exist is rightly
# refused, and a schema cannot say which ids exist) and negative_data_rejection (DRF's text fields
# accept a JSON number as its text, e.g. an address of 12, which the schema calls a type error).
EXCLUDED = [positive_data_acceptance, negative_data_rejection]


@pytest.fixture
def in_process_requests() -> Iterator[None]:
    """Django closes "old" connections around each request, which would close the test's own
    transaction: as Django's test client does, not while the test runs."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def dispatcher_token(world: World, in_process_requests: None) -> str:
    # Data for the ids the generator may hit: incidents in two states.
    for state in ("received", "dispatched"):
        advance(world, new_incident(world), state)
    return token_issue(user=world.dispatcher)[1]


@schema.parametrize()
@settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_matches_its_schema(case: Any, dispatcher_token: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Token {dispatcher_token}"}, excluded_checks=EXCLUDED
    )


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["summary", "street-presence", "coverage"])
def test_statistics_refuse_dates_at_the_ends_of_the_calendar(world: World, path: str) -> None:
    for start, end in (("0001-01-01", "0002-05-01"), ("9998-01-01", "9999-12-31")):
        response = api(world.dispatcher).get(f"/api/stats/{path}/?start={start}&end={end}")
        assert response.status_code == 400, response.content
        assert "start" in response.json() or "end" in response.json()
