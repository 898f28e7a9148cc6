"""API clients: `Api`, the HTTP API of a live server with a token (end-to-end and fault tests, the
benchmarks), and `api()`, Django REST framework's in-process client signed in as a user."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from rest_framework.test import APIClient


@dataclass
class Api:
    port: int
    token: str
    # Sent with every request; the benchmarks send the TLS proxy's X-Forwarded-Proto.
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 30

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        """The answer's status and its JSON body (its text, when an error page is not JSON)."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={
                "Authorization": f"Token {self.token}",
                "Content-Type": "application/json",
                **self.headers,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw or b"null")
            except ValueError:
                return e.code, raw[:200].decode(errors="replace")

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """POST and return the body; an answer that is not a success raises AssertionError."""
        status, data = self.call("POST", path, body or {})
        if status >= 300:
            raise AssertionError(f"POST {path}: {status} {data}")
        return data

    def new_incident(self, lat: float = 22.781, lon: float = 100.951) -> dict[str, Any]:
        """A dispute taken in at (lat, lon); the default is near staging point p0 of
        factories.small_city."""
        return self.post(
            "/api/incidents/",
            {
                "category": "dispute",
                "priority": 2,
                "location": {"lat": lat, "lon": lon},
                "address": "测试路1号",
                "description": "邻里纠纷",
                "caller_name": "张三",
                "caller_phone": "13800000000",
            },
        )


def api(user: User | None = None) -> APIClient:
    """Django REST framework's test client, authenticated as `user` when one is given."""
    # Imported here: the benchmarks import this module before Django is configured, and
    # rest_framework.test reads the settings when it is imported.
    from rest_framework.test import APIClient

    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client
