"""Production settings pass `check --deploy`; every page carries a Content-Security-Policy whose
inline scripts are either nonce-tagged or explicitly allowed on that path."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client, override_settings

from apps.common.roles import Role
from tests.support.factories import UserFactory, new_incident
from tests.support.pages import has_map
from tests.support.procs import PRODUCTION, manage, strong_key

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>", re.IGNORECASE)


def policy(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def inline_scripts_without_nonce(html: str, nonce: str | None) -> list[str]:
    """Inline <script> tags (not JSON data blocks) that the page's nonce does not cover."""
    bad = []
    for match in INLINE_SCRIPT.finditer(html):
        attrs = match.group(1)
        if "application/json" in attrs:
            continue
        if nonce is None or f'nonce="{nonce}"' not in attrs:
            bad.append(match.group(0))
    return bad


def staff_client(role: Role) -> Client:
    client = Client()
    client.force_login(UserFactory(roles=[role], is_staff=True))
    return client


def test_deploy_check_is_clean_with_production_settings() -> None:
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=strong_key(), **PRODUCTION
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_responses_carry_hsts_secure_cookies_and_no_sniff(client: Client) -> None:
    # The test settings are production settings without the HTTPS redirect (no TLS proxy here).
    UserFactory(username="disp", password="pw", roles=[Role.DISPATCHER], is_staff=True)
    response = client.post(
        "/admin/login/", {"username": "disp", "password": "pw"}, secure=True, follow=False
    )
    assert response.status_code == 302
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response.cookies["sessionid"]["secure"]
    assert response.cookies["sessionid"]["httponly"]
    assert response.cookies["csrftoken"]["secure"]


@override_settings(SECURE_SSL_REDIRECT=True)
def test_plain_http_is_redirected_to_https(client: Client) -> None:
    response = client.get("/app/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_the_patrol_app_has_a_strict_policy_and_its_scripts_run_under_it(client: Client) -> None:
    response = client.get("/app/")
    assert response.status_code == 200
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    # No tile source outside the site (the intranet default): images from the site only.
    assert set(csp["img-src"]) == {"'self'", "data:", "blob:"}
    assert {"'self'", "ws://testserver", "wss://testserver"} <= set(csp["connect-src"])
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    nonce = next((s[7:-1] for s in csp["script-src"] if s.startswith("'nonce-")), None)
    assert inline_scripts_without_nonce(response.content.decode(), nonce) == []


def test_the_command_map_has_a_strict_policy_and_its_scripts_run_under_it() -> None:
    response = staff_client(Role.DISPATCHER).get("/command/")
    assert response.status_code == 200
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert {"'self'", "ws://testserver", "wss://testserver"} <= set(csp["connect-src"])
    nonce = next((s[7:-1] for s in csp["script-src"] if s.startswith("'nonce-")), None)
    assert inline_scripts_without_nonce(response.content.decode(), nonce) == []


def test_the_api_answers_carry_the_policy(client: Client) -> None:
    response = client.get("/api/units/")
    assert response.status_code in (401, 403)
    assert policy(response)["default-src"] == ["'self'"]


def test_the_incident_admin_map_page_renders_under_its_policy(world: Any) -> None:
    incident = new_incident(world)
    world.commander.is_staff = True
    world.commander.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(world.commander)
    response = client.get(f"/admin/incidents/incident/{incident.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "leaflet/leaflet.js" in html
    csp = policy(response)
    assert "'unsafe-inline'" in csp["script-src"]  # the admin's documented exception
    assert not any(s.startswith("'nonce-") for s in csp["script-src"])  # would void it


def test_a_leaflet_widget_page_in_the_admin_renders() -> None:
    response = staff_client(Role.COMMANDER).get("/admin/units/stagingpoint/add/")
    assert response.status_code == 200
    html = response.content.decode()
    assert has_map(html, "location")
    # django-leaflet's inline scripts: allowed by the admin's exception.
    assert "'unsafe-inline'" in policy(response)["script-src"]


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.example.cn/{z}/{x}/{y}.png", "https://*.tile.example.cn"),
        (
            "https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}",
            "https://*.is.autonavi.com",
        ),
        ("http://10.0.0.5:8080/tiles/{z}/{x}/{y}.png", "http://10.0.0.5:8080"),
        # the project's own tiles (MAP_TILES_FILE), or none
        ("/tiles/{z}/{x}/{y}", "'self'"),
        ("", "'self'"),
    ],
)
def test_the_tile_server_source_is_derived_from_the_tile_url(url: str, source: str) -> None:
    from cad_project.settings.base import _tile_source

    assert _tile_source(url) == source
