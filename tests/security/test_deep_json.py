"""A body nested too deep is a 400 with a message, logged in or not, at any depth (it was a 500:
Python's JSON decoder recurses once per level)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.common.parsers import MAX_JSON_DEPTH, JSONTooDeep, check_json_depth

pytestmark = pytest.mark.django_db


def _post(client: APIClient, path: str, body: str) -> Any:
    return client.generic("POST", path, body, content_type="application/json")


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 100_000])
def test_a_deeply_nested_login_body_is_a_400_without_logging_in(depth: int) -> None:
    response = _post(APIClient(), "/api/auth/token/", "[" * depth + "]" * depth)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "parse_error"
    assert str(MAX_JSON_DEPTH) in body["non_field_errors"][0]


def test_a_deeply_nested_intake_is_a_400(world: Any) -> None:
    client = APIClient()
    client.force_authenticate(world.dispatcher)
    nested = '{"category": "dispute", "location": ' + "[" * 1000 + "]" * 1000 + "}"
    response = _post(client, "/api/incidents/", nested)
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_brackets_inside_strings_do_not_count() -> None:
    check_json_depth('{"a": "' + "[" * 1000 + '", "b": "\\"[[["}')
    with pytest.raises(JSONTooDeep):
        deep = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
        check_json_depth('{"a": "\\\\", "b": ' + deep + "}")
