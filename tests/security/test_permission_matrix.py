"""The permission matrix: every API endpoint and websocket route × every role.

`MATRIX` is the explicit table: for each (method, route) the roles that are served (2xx); every
other role must be refused (anonymous 401, a signed-in role 403, or 404 for an object outside
its scope). The routes are read from the URL resolver, so a new /api/ endpoint without a row
here fails `test_every_api_endpoint_has_a_matrix_row`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from apps.calls.services import call_report
from apps.field.services import attachment_add, unit_emergency_raise
from apps.incidents import services
from tests.support.factories import UserFactory, World, advance, new_incident
from tests.support.ws import connect

COMMANDER, DISPATCHER, HR = "commander", "dispatcher", "hr"
OFFICER, AUXILIARY, STATION, ANONYMOUS = "unit_officer", "unit_auxiliary", "station", "anonymous"
TELEPHONY = "telephony"
ROLES = (COMMANDER, DISPATCHER, HR, OFFICER, AUXILIARY, STATION, TELEPHONY, ANONYMOUS)
SIGNED_IN = frozenset(ROLES) - {ANONYMOUS}
OPERATIONS = frozenset({COMMANDER, DISPATCHER})
CREW = frozenset({OFFICER, AUXILIARY})
INCIDENT_READERS = OPERATIONS | CREW | {STATION}

Setup = Callable[[World], tuple[str, dict[str, Any] | None]]


@dataclass(frozen=True)
class Row:
    allowed: frozenset[str]
    # The path (with a query string, and the pk of fresh data) and the body to send.
    setup: Setup = field(default=lambda w: ("", None))


def user_of(world: World, role: str) -> Any:
    return {
        COMMANDER: world.commander,
        DISPATCHER: world.dispatcher,
        HR: world.hr,
        OFFICER: world.officer,
        AUXILIARY: world.auxiliary,
        STATION: world.station_user,
        TELEPHONY: world.telephony,
        ANONYMOUS: None,
    }[role]


def incident_at(state: str, action: str, body: dict[str, Any] | None = None) -> Setup:
    """An incident of the west station, handled by unit U0 (the officer's and auxiliary's)."""

    def setup(world: World) -> tuple[str, dict[str, Any] | None]:
        incident = advance(world, new_incident(world), state)
        return f"/api/incidents/{incident.pk}/{action}", body

    return setup


def unit0(suffix: str, body: dict[str, Any]) -> Setup:
    return lambda w: (f"/api/units/{w.unit.pk}/{suffix}", body)


def static(path: str, body: dict[str, Any] | None = None) -> Setup:
    return lambda w: (path, body)


def ringing_call(world: World) -> tuple[str, dict[str, Any]]:
    call = call_report(
        actor=world.telephony, received_at=timezone.now(), caller_phone="13800000000"
    )
    return f"/api/calls/{call.pk}/close/", {"reason": "prank"}


def with_backup(world: World) -> tuple[str, dict[str, Any]]:
    """An incident of unit U0 with unit U1 sent as its backup: release U1."""
    incident = advance(world, new_incident(world), "dispatched")
    backup = world.city.units[1]
    services.incident_dispatch(incident=incident, unit=backup, actor=world.dispatcher)
    return f"/api/incidents/{incident.pk}/units/{backup.pk}/clear/", {"reason": "已控制"}


def open_emergency(world: World) -> tuple[str, dict[str, Any]]:
    emergency = unit_emergency_raise(
        unit=world.unit, actor=world.auxiliary, lat=22.775, lon=100.951
    )
    return f"/api/emergencies/{emergency.pk}/acknowledge/", {}


def a_photo() -> Any:
    from tests.field.test_attachments import jpeg_with_gps

    return SimpleUploadedFile("p.jpg", jpeg_with_gps((40, 30)), content_type="image/jpeg")


def photo_upload(world: World) -> tuple[str, dict[str, Any]]:
    incident = advance(world, new_incident(world), "on_scene")
    return f"/api/incidents/{incident.pk}/attachments/", {"file": a_photo()}


def stored_photo(world: World) -> tuple[str, None]:
    incident = advance(world, new_incident(world), "on_scene")
    photo = attachment_add(incident=incident, actor=world.auxiliary, upload=a_photo())
    return f"/api/incidents/{incident.pk}/attachments/{photo.pk}/", None


def token_body(world: World) -> tuple[str, dict[str, Any]]:
    UserFactory(username="fresh", password="pw-fresh-1")
    return "/api/auth/token/", {"username": "fresh", "password": "pw-fresh-1"}


HEALTH = {"app_version": "1.0", "notification_permission": "granted", "queue_length": 0}
INTAKE = {
    "category": "dispute",
    "priority": 2,
    "location": {"lat": 22.775, "lon": 100.951},
    "address": "振兴大道1号",
}

MATRIX: dict[tuple[str, str], Row] = {
    # The API's description is public (no data in it; the e2e harness and bench/ probe it).
    ("GET", "api/schema/"): Row(frozenset(ROLES), static("/api/schema/")),
    ("GET", "api/docs/"): Row(frozenset(ROLES), static("/api/docs/")),
    ("POST", "api/auth/token/"): Row(frozenset(ROLES), token_body),
    ("GET", "api/me/"): Row(SIGNED_IN, static("/api/me/")),
    ("GET", "api/units/health/"): Row(OPERATIONS, static("/api/units/health/")),
    ("POST", "api/units/<int:pk>/health/"): Row(CREW, unit0("health/", HEALTH)),
    ("GET", "api/map/layers/"): Row(OPERATIONS, static("/api/map/layers/")),
    # The base map drawn from the gazetteer: every account that has a map.
    ("GET", "api/map/base/"): Row(OPERATIONS | CREW | {STATION}, static("/api/map/base/")),
    ("GET", "api/stats/summary/"): Row(
        OPERATIONS, static("/api/stats/summary/?start=2026-01-01&end=2026-01-31")
    ),
    ("GET", "api/stats/street-presence/"): Row(
        OPERATIONS, static("/api/stats/street-presence/?start=2026-01-01&end=2026-01-31")
    ),
    ("GET", "api/stats/coverage/"): Row(
        OPERATIONS, static("/api/stats/coverage/?start=2026-01-01&end=2026-01-31")
    ),
    ("GET", "api/stats/coverage-gap/"): Row(OPERATIONS, static("/api/stats/coverage-gap/")),
    ("GET", "api/incidents/"): Row(INCIDENT_READERS, static("/api/incidents/")),
    ("POST", "api/incidents/"): Row(OPERATIONS, static("/api/incidents/", INTAKE)),
    ("GET", "api/incidents/<int:pk>/"): Row(INCIDENT_READERS, incident_at("dispatched", "")),
    ("GET", "api/incidents/<int:pk>/recommendations/"): Row(
        OPERATIONS, incident_at("received", "recommendations/")
    ),
    ("POST", "api/incidents/<int:pk>/dispatch/"): Row(
        OPERATIONS, lambda w: incident_at("received", "dispatch/", {"unit": w.unit.pk})(w)
    ),
    ("POST", "api/incidents/<int:pk>/acknowledge/"): Row(
        OPERATIONS | CREW, incident_at("dispatched", "acknowledge/", {})
    ),
    ("POST", "api/incidents/<int:pk>/en-route/"): Row(
        OPERATIONS | CREW, incident_at("acknowledged", "en-route/", {})
    ),
    ("POST", "api/incidents/<int:pk>/arrive/"): Row(
        OPERATIONS | CREW, incident_at("en_route", "arrive/", {})
    ),
    ("POST", "api/incidents/<int:pk>/resolve/"): Row(
        OPERATIONS | CREW, incident_at("on_scene", "resolve/", {"summary": "调解完毕"})
    ),
    ("POST", "api/incidents/<int:pk>/transfer/"): Row(
        OPERATIONS | CREW, incident_at("on_scene", "transfer/", {"reason": "需立案"})
    ),
    # Only the receiving station signs for a transfer.
    ("POST", "api/incidents/<int:pk>/receive-transfer/"): Row(
        frozenset({STATION}), incident_at("transfer_pending", "receive-transfer/", {})
    ),
    ("POST", "api/incidents/<int:pk>/cancel/"): Row(
        OPERATIONS, incident_at("received", "cancel/", {"reason": "重复报警"})
    ),
    ("POST", "api/incidents/<int:pk>/unassign/"): Row(
        OPERATIONS, incident_at("dispatched", "unassign/", {"reason": "改派"})
    ),
    ("GET", "api/units/"): Row(INCIDENT_READERS, static("/api/units/")),
    ("POST", "api/units/<int:pk>/position/"): Row(
        CREW,
        lambda w: unit0(
            "position/",
            {"lat": 22.775, "lon": 100.951, "recorded_at": timezone.now().isoformat()},
        )(w),
    ),
    # The gazetteer: the command centre locates calls.
    ("GET", "api/places/"): Row(OPERATIONS, static("/api/places/?q=振兴大道")),
    ("GET", "api/places/reverse/"): Row(
        OPERATIONS, static("/api/places/reverse/?lat=22.775&lon=100.951")
    ),
    # The telephony link reports calls and does nothing else; the command centre takes them.
    ("POST", "api/calls/"): Row(
        frozenset({TELEPHONY}),
        lambda w: (
            "/api/calls/",
            {"caller_phone": "110", "received_at": timezone.now().isoformat()},
        ),
    ),
    ("GET", "api/calls/"): Row(OPERATIONS, static("/api/calls/")),
    ("POST", "api/calls/<int:pk>/close/"): Row(OPERATIONS, ringing_call),
    ("GET", "api/incidents/nearby/"): Row(
        OPERATIONS, static("/api/incidents/nearby/?lat=22.775&lon=100.951")
    ),
    ("GET", "api/incidents/caller-history/"): Row(
        OPERATIONS, static("/api/incidents/caller-history/?phone=13800000000")
    ),
    ("GET", "api/incidents/recommendations/"): Row(
        OPERATIONS, static("/api/incidents/recommendations/?lat=22.775&lon=100.951")
    ),
    ("POST", "api/incidents/<int:pk>/calls/"): Row(
        OPERATIONS, incident_at("dispatched", "calls/", {"caller_phone": "13900000000"})
    ),
    # A note: the command centre, or the crew of the unit handling the incident.
    ("POST", "api/incidents/<int:pk>/notes/"): Row(
        OPERATIONS | CREW, incident_at("dispatched", "notes/", {"text": "现场有人受伤"})
    ),
    # Several units on one incident and the crews' reports (issue 13).
    ("GET", "api/incidents/<int:pk>/divert/"): Row(OPERATIONS, incident_at("received", "divert/")),
    ("POST", "api/incidents/<int:pk>/divert/"): Row(
        OPERATIONS,
        lambda w: incident_at("received", "divert/", {"unit": w.city.units[2].pk, "reason": "近"})(
            w
        ),
    ),
    ("POST", "api/incidents/<int:pk>/units/<int:unit_id>/<slug:step>/"): Row(
        OPERATIONS | CREW,
        lambda w: incident_at("dispatched", f"units/{w.unit.pk}/acknowledge/", {})(w),
    ),
    # A backup of unit U1: the command centre releases it (U0's crew is not U1's).
    ("POST", "api/incidents/<int:pk>/units/<int:unit_id>/clear/"): Row(OPERATIONS, with_backup),
    ("POST", "api/incidents/<int:pk>/request-backup/"): Row(
        OPERATIONS | CREW,
        incident_at("on_scene", "request-backup/", {"count": 1, "reason": "对方人多"}),
    ),
    ("POST", "api/units/<int:pk>/status/"): Row(
        OPERATIONS | CREW, unit0("status/", {"status": "out_of_service", "reason": "加油"})
    ),
    ("POST", "api/units/<int:pk>/emergency/"): Row(
        CREW, unit0("emergency/", {"lat": 22.775, "lon": 100.951})
    ),
    ("POST", "api/emergencies/<int:pk>/acknowledge/"): Row(frozenset({COMMANDER}), open_emergency),
    ("POST", "api/emergencies/<int:pk>/incident/"): Row(
        OPERATIONS, lambda w: (open_emergency(w)[0].replace("acknowledge/", "incident/"), {})
    ),
    # Photos: the crews sent and the command centre add them; whoever reads the incident sees them.
    ("GET", "api/incidents/<int:pk>/attachments/"): Row(
        INCIDENT_READERS, incident_at("on_scene", "attachments/")
    ),
    ("POST", "api/incidents/<int:pk>/attachments/"): Row(OPERATIONS | CREW, photo_upload),
    ("GET", "api/incidents/<int:pk>/attachments/<int:attachment_id>/"): Row(
        INCIDENT_READERS, stored_photo
    ),
    # The crew's own records (other accounts are not persons: 404).
    ("GET", "api/me/assessments/"): Row(CREW, static("/api/me/assessments/")),
    ("GET", "api/me/training/"): Row(CREW, static("/api/me/training/")),
}

WEBSOCKETS: dict[str, frozenset[str]] = {
    "/ws/unit/": CREW,
    "/ws/command/": OPERATIONS,
}


def api_routes() -> set[tuple[str, str]]:
    """(method, route) of every view under /api/, from the URL resolver."""

    def walk(patterns: list[Any], prefix: str = "") -> Any:
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern), p

    found = set()
    for route, pattern in walk(get_resolver().url_patterns):
        if not route.startswith("api/"):
            continue
        view = getattr(pattern.callback, "view_class", None) or getattr(
            pattern.callback, "cls", None
        )
        for method in ("get", "post", "put", "patch", "delete"):
            if view is not None and hasattr(view, method):
                found.add((method.upper(), route))
    return found


def test_every_api_endpoint_has_a_matrix_row() -> None:
    routes = api_routes()
    assert routes - set(MATRIX) == set(), "endpoints without a permission-matrix row"
    assert set(MATRIX) - routes == set(), "matrix rows for endpoints that no longer exist"


def call(world: World, role: str, method: str, setup: Setup) -> int:
    path, body = setup(world)
    client = APIClient()
    user = user_of(world, role)
    if user is not None:
        client.force_authenticate(user)
    if method == "GET":
        return client.get(path).status_code
    files = any(isinstance(v, SimpleUploadedFile) for v in (body or {}).values())
    return client.post(path, body or {}, format="multipart" if files else "json").status_code


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "route"), sorted(MATRIX), ids=lambda v: str(v))
def test_permission_matrix(world: World, method: str, route: str) -> None:
    row = MATRIX[(method, route)]
    wrong = []
    for role in ROLES:
        # Each role acts on its own fresh data, rolled back afterwards.
        with transaction.atomic():
            status = call(world, role, method, row.setup)
            transaction.set_rollback(True)
        if role in row.allowed:
            ok = 200 <= status < 300
        elif role == ANONYMOUS:
            ok = status == 401
        else:
            ok = status in (403, 404)
        if not ok:
            expected = "served" if role in row.allowed else "refused"
            wrong.append(f"{role}: {status} (expected {expected})")
    assert wrong == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", sorted(WEBSOCKETS))
def test_websocket_matrix(world: World, path: str) -> None:
    async def attempt(user: Any) -> tuple[bool, int | None]:
        comm, connected, code = await connect(path, user=user)
        await comm.disconnect()
        return connected, code

    wrong = []
    for role in ROLES:
        connected, code = async_to_sync(attempt)(user_of(world, role))
        if role in WEBSOCKETS[path]:
            ok = connected
        else:
            ok = not connected and code == (4401 if role == ANONYMOUS else 4403)
        if not ok:
            wrong.append(f"{role}: connected={connected} code={code}")
    assert wrong == []
