"""The pages of the patrol app (/app/, a PWA) and of the command map (/command/), and the small
API endpoints only they need: /api/me/, device health, and the map layers.

The app's source is plain ES modules under frontend/static/ (no build step); the pages are Django
templates under frontend/templates/. The service worker is served from /app/sw.js (not /static/)
so that its scope is the app; its text carries a version computed from the app's files, so any
change to them makes the browser install a new worker (the update flow is in app/update.js).

Device health: the phone posts a heartbeat every 30 s. Only the latest one per unit matters and
losing it costs nothing (the next comes 30 s later), so it is kept in the cache (Redis in
production), not in a table: key `unit-health:<id>`, expiring after HEALTH_TTL_S. Commanders read
all units' heartbeats at GET /api/units/health/ (a unit with none has `health: null`).
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.roles import OPERATIONS_ROLES, roles_of
from apps.common.roles import has_role as _has_role

FRONTEND_DIR = Path(settings.BASE_DIR) / "frontend"
STATIC_DIR = FRONTEND_DIR / "static"
HEALTH_TTL_S = 24 * 3600
# The app's precached files besides its own directories (django-leaflet's static files).
LEAFLET_FILES = ("leaflet/leaflet.js", "leaflet/leaflet.css")


def _is_operations(user: Any) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or _has_role(user, *OPERATIONS_ROLES)))


# --- the app shell -------------------------------------------------------------------------------


def _app_static_files() -> list[str]:
    """Static paths (relative to STATIC_URL) of the app: its own files, the shared modules."""
    found: list[str] = []
    for sub in ("app", "common"):
        base = STATIC_DIR / sub
        if base.is_dir():
            found += sorted(
                p.relative_to(STATIC_DIR).as_posix()
                for p in base.rglob("*")
                if p.is_file() and p.name != "sw.js" and not p.name.startswith(".")
            )
    return found


def _compute_version() -> str:
    digest = hashlib.sha256()
    files = [STATIC_DIR / f for f in _app_static_files()]
    files += [STATIC_DIR / "app" / "sw.js", FRONTEND_DIR / "templates" / "frontend" / "app.html"]
    for file in files:
        if file.is_file():
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    # Settings shown in the shell (tiles, targets) are part of the version too.
    digest.update(json.dumps(_map_config(), sort_keys=True).encode())
    return digest.hexdigest()[:12]


@lru_cache(maxsize=1)
def _cached_version() -> str:
    return _compute_version()


def app_version() -> str:
    """A short hash of the app's files: changes whenever the app does (DEBUG: recomputed)."""
    return _compute_version() if settings.DEBUG else _cached_version()


def _map_config() -> dict[str, Any]:
    leaflet: dict[str, Any] = settings.LEAFLET_CONFIG
    return {
        "tileUrl": settings.MAP_TILE_URL,
        "tileAttribution": settings.MAP_TILE_ATTRIBUTION,
        "tileCrs": settings.MAP_TILE_CRS,
        "center": list(leaflet.get("DEFAULT_CENTER", (22.78, 100.975))),
        "zoom": leaflet.get("DEFAULT_ZOOM", 13),
        "maxZoom": leaflet.get("MAX_ZOOM", 19),
        "targets": {
            "acknowledge_s": settings.TARGET_ACKNOWLEDGE_S,
            "arrival_priority_zone_s": settings.TARGET_ARRIVAL_PRIORITY_ZONE_S,
            "arrival_s": settings.TARGET_ARRIVAL_S,
        },
    }


def _page_config(request: HttpRequest) -> dict[str, Any]:
    from apps.incidents.transitions import transitions_config

    return {
        **_map_config(),
        **transitions_config(),
        "version": app_version(),
        "language": getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE),
    }


def app_page(request: HttpRequest) -> HttpResponse:
    """The patrol app shell. Public: the crew logs in inside the app (API token)."""
    config = _page_config(request)
    config["swUrl"] = "/app/sw.js"
    return render(request, "frontend/app.html", {"config": config})


def app_manifest(request: HttpRequest) -> HttpResponse:
    icons = [
        {"src": static("app/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
        {"src": static("app/icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        {
            "src": static("app/icons/maskable-512.png"),
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
    ]
    manifest = {
        "id": "/app/",
        "name": _("Simao 110 patrol"),
        "short_name": _("110 patrol"),
        "description": _("Dispatch alerts, navigation and status for patrol units."),
        "lang": "zh-Hans",
        "start_url": "/app/",
        "scope": "/app/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#000000",
        "theme_color": "#0b3d91",
        "icons": icons,
    }
    response = HttpResponse(
        json.dumps(manifest, ensure_ascii=False), content_type="application/manifest+json"
    )
    response["Cache-Control"] = "no-cache"
    return response


@never_cache
def app_service_worker(request: HttpRequest) -> HttpResponse:
    precache = ["/app/", "/app/manifest.webmanifest"]
    precache += [static(p) for p in (*_app_static_files(), *LEAFLET_FILES)]
    source = (STATIC_DIR / "app" / "sw.js").read_text(encoding="utf-8")
    source = source.replace('"__VERSION__"', json.dumps(app_version())).replace(
        '"__PRECACHE__"', json.dumps(precache)
    )
    response = HttpResponse(source, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/app/"
    return response


def command_page(request: HttpRequest) -> HttpResponse:
    """The live command map: commanders and dispatchers, logged in with the admin's session."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not _is_operations(request.user):
        return HttpResponseForbidden(_("The command map is for commanders and dispatchers."))
    # The CSRF token rides in the JSON config (no inline script, so the page's CSP needs none).
    config = {**_page_config(request), "csrfToken": get_token(request)}
    return render(
        request,
        "frontend/command.html",
        {"config": config, "strings": _command_strings()},
    )


def _command_strings() -> dict[str, Any]:
    from apps.incidents.models import Category, IncidentStatus
    from apps.units.models import UnitStatus

    return {
        "unitStatus": {str(k): str(v) for k, v in UnitStatus.choices},
        "incidentStatus": {str(k): str(v) for k, v in IncidentStatus.choices},
        "category": {str(k): str(v) for k, v in Category.choices},
        "online": _("Live"),
        "reconnecting": _("Reconnecting…"),
        "offline": _("Offline"),
        "dispatch": _("Dispatch"),
        "escalated": _("Escalated: not acknowledged in time"),
        "breach": _("Arrival target missed"),
        "remaining": _("left"),
        "overdue": _("over"),
        "ago": _("ago"),
        "noPosition": _("no position"),
        "freeUnits": _("Free units by straight-line distance (no ETA from the server)"),
        "recommended": _("Recommended units"),
        "close": _("Close"),
        "refused": _("Refused"),
        "dispatched": _("Dispatched"),
        "units": _("units"),
        "incidents": _("open incidents"),
        "noHeartbeat": _("no heartbeat from the phone"),
        "heartbeat": _("phone"),
        "queued": _("queued"),
        "layerCells": _("Grid cells"),
        "layerPoints": _("Staging points"),
        "layerStations": _("Police stations"),
        "coverageNow": _("Covered in time by a free unit: %(now)s; after the moves: %(after)s"),
        "uncovered": _("Not covered now: %(points)s"),
        "moveUp": _("%(unit)s: from %(from)s to stand at %(to)s (%(eta)s min)"),
        "noMoveUp": _("Every staging point's area is covered."),
        "noMoveUpPossible": _("No free unit can close the gap."),
        "listSeparator": _(", "),
    }


# --- /api/me/ ------------------------------------------------------------------------------------


class MeView(APIView):
    """Who the app is logged in as: user, roles, unit (for crews), current shift, person."""

    @extend_schema(responses={200: dict[str, Any]}, summary="The logged-in user and their unit")
    def get(self, request: Request) -> Response:
        from apps.personnel.models import Assignment
        from apps.personnel.selectors import person_of_user, shift_at
        from apps.units.models import Station
        from apps.units.selectors import unit_for_user

        user: Any = request.user
        now = timezone.now()
        unit = unit_for_user(user)
        person = person_of_user(user)
        window = shift_at(now)
        assigned_shift = None
        if person is not None:
            assignment = (
                Assignment.objects.filter(person=person, valid_from__lte=now)
                .exclude(valid_to__lte=now)
                .order_by("-valid_from")
                .first()
            )
            assigned_shift = assignment.shift if assignment else None
        body: dict[str, Any] = {
            "user": {"id": user.pk, "username": user.get_username()},
            "roles": sorted(roles_of(user)),
            "person": {"name": person.name, "kind": person.kind} if person else None,
            "unit": None,
            "shift": {
                "number": window.shift,
                "start": window.start.isoformat(),
                "end": window.end.isoformat(),
                "assigned": assigned_shift,
            },
            "stations": [
                {"id": s.pk, "name": s.name} for s in Station.objects.order_by("code").only("name")
            ],
        }
        if unit is not None:
            sp = unit.staging_point
            body["unit"] = {
                "id": unit.pk,
                "callsign": unit.callsign,
                "status": unit.status,
                "current_incident": unit.current_incident_id,
                "staging_point": {"id": sp.pk, "name": sp.name, "lat": sp.lat, "lon": sp.lon},
            }
        return Response(body)


# --- device health -------------------------------------------------------------------------------


def _finite(value: float) -> None:
    if not math.isfinite(value):
        raise serializers.ValidationError(gettext_lazy("A finite number is required."))


class HealthIn(serializers.Serializer[None]):
    app_version = serializers.CharField(max_length=40)
    notification_permission = serializers.ChoiceField(
        choices=["granted", "denied", "default", "unsupported"]
    )
    battery_level = serializers.FloatField(
        min_value=0, max_value=1, allow_null=True, required=False, validators=[_finite]
    )
    gps_fix_age_s = serializers.IntegerField(
        min_value=0, max_value=10_000_000, allow_null=True, required=False
    )
    queue_length = serializers.IntegerField(min_value=0, max_value=100_000)


def health_key(unit_id: int) -> str:
    return f"unit-health:{unit_id}"


class UnitHealthView(APIView):
    """POST /api/units/{id}/health/: the heartbeat of the unit's phone (its crew only)."""

    @extend_schema(request=HealthIn, responses={200: dict[str, Any]}, summary="Device heartbeat")
    def post(self, request: Request, pk: int) -> Response:
        from apps.units.models import Unit
        from apps.units.selectors import is_crew

        unit = get_object_or_404(Unit, pk=pk)
        if not is_crew(request.user, unit):
            raise PermissionDenied(_("Only the unit's crew may report its device health."))
        data = HealthIn(data=request.data)
        data.is_valid(raise_exception=True)
        record = {
            **data.validated_data,
            "user": request.user.get_username(),
            "received_at": timezone.now().isoformat(),
        }
        cache.set(health_key(unit.pk), record, HEALTH_TTL_S)
        return Response(record, status=status.HTTP_200_OK)


class UnitHealthListView(APIView):
    """GET /api/units/health/: every unit's latest heartbeat (commanders and dispatchers)."""

    @extend_schema(
        responses={200: list[dict[str, Any]]}, summary="Latest device heartbeat per unit"
    )
    def get(self, request: Request) -> Response:
        from apps.units.models import Unit

        if not _is_operations(request.user):
            raise PermissionDenied(_("Device health is for commanders and dispatchers."))
        units = list(Unit.objects.order_by("callsign").values_list("pk", "callsign"))
        found = cache.get_many([health_key(pk) for pk, _callsign in units])
        now = timezone.now()
        rows = []
        for pk, callsign in units:
            health = found.get(health_key(pk))
            age = None
            if health is not None:
                received = datetime.fromisoformat(health["received_at"])
                age = max(0, int((now - received).total_seconds()))
            rows.append({"unit": pk, "callsign": callsign, "health": health, "age_s": age})
        return Response(rows)


# --- map layers for the command map --------------------------------------------------------------


def _feature(geometry: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


class MapLayersView(APIView):
    """GET /api/map/layers/: stations, staging points and grid cells as GeoJSON (WGS-84)."""

    @extend_schema(responses={200: dict[str, Any]}, summary="Reference layers of the map")
    def get(self, request: Request) -> Response:
        from apps.units.models import GridCell, StagingPoint, Station

        if not _is_operations(request.user):
            raise PermissionDenied(_("The map layers are for commanders and dispatchers."))
        stations = [
            _feature(s.jurisdiction, {"id": s.pk, "name": s.name, "code": s.code})
            for s in Station.objects.order_by("code")
        ]
        points = [
            _feature(
                {"type": "Point", "coordinates": [p.lon, p.lat]},
                {"id": p.pk, "name": p.name, "code": p.code, "station": p.station_id},
            )
            for p in StagingPoint.objects.order_by("code")
        ]
        cells = [
            _feature(
                c.geometry,
                {
                    "id": c.pk,
                    "code": c.code,
                    "staging_point": c.staging_point_id,
                    "priority_zone": c.priority_zone,
                },
            )
            for c in GridCell.objects.order_by("row", "col")
        ]
        return Response(
            {
                "stations": _collection(stations),
                "staging_points": _collection(points),
                "grid_cells": _collection(cells),
            }
        )


page_urlpatterns = [
    path("app/", app_page, name="patrol-app"),
    path("app/manifest.webmanifest", app_manifest, name="patrol-app-manifest"),
    path("app/sw.js", app_service_worker, name="patrol-app-sw"),
    path("command/", command_page, name="command-map"),
]

api_urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    path("units/health/", UnitHealthListView.as_view(), name="unit-health-list"),
    path("units/<int:pk>/health/", UnitHealthView.as_view(), name="unit-health"),
    path("map/layers/", MapLayersView.as_view(), name="map-layers"),
]
