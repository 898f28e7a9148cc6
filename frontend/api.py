"""The small API only the pages need: /api/me/, the phones' device health, the map layers.

Device health: the phone posts a heartbeat every 30 s. Only the latest one per unit matters and
losing it costs nothing (the next comes 30 s later), so it is kept in the cache (Redis in
production), not in a table: key `unit-health:<id>`, expiring after HEALTH_TTL_S. Commanders read
all units' heartbeats at GET /api/units/health/ (a unit with none has `health: null`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.fields import StrictCharField, StrictFloatField, finite
from apps.common.roles import is_command_centre, roles_of
from apps.incidents.selectors import can_read_incidents
from apps.personnel.models import Assignment
from apps.personnel.selectors import person_of_user, shift_at
from apps.places.models import Place, PlaceKind
from apps.units.health import HEALTH_TTL_S, health_key
from apps.units.models import GridCell, StagingPoint, Station, Unit
from apps.units.selectors import is_crew, unit_for_user

# --- /api/me/ ------------------------------------------------------------------------------------


class MeView(APIView):
    """Who the app is logged in as: user, roles, unit (for crews), current shift, person."""

    @extend_schema(responses={200: dict[str, Any]}, summary="The logged-in user and their unit")
    def get(self, request: Request) -> Response:
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


class HealthIn(serializers.Serializer[None]):
    app_version = StrictCharField(max_length=40)
    notification_permission = serializers.ChoiceField(
        choices=["granted", "denied", "default", "unsupported"]
    )
    battery_level = StrictFloatField(
        min_value=0, max_value=1, allow_null=True, required=False, validators=[finite]
    )
    gps_fix_age_s = serializers.IntegerField(
        min_value=0, max_value=10_000_000, allow_null=True, required=False
    )
    queue_length = serializers.IntegerField(min_value=0, max_value=100_000)


class UnitHealthView(APIView):
    """POST /api/units/{id}/health/: the heartbeat of the unit's phone (its crew only)."""

    @extend_schema(request=HealthIn, responses={200: dict[str, Any]}, summary="Device heartbeat")
    def post(self, request: Request, pk: int) -> Response:
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
        if not is_command_centre(request.user):
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
        if not is_command_centre(request.user):
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


# The vector base map's share of the gazetteer: every road with its line, and at most this many
# named places (landmarks and points of interest first).
BASE_PLACES_MAX = 3000
BASE_PLACE_KINDS = (PlaceKind.LANDMARK, PlaceKind.POI, PlaceKind.COMMUNITY, PlaceKind.BUILDING)


class MapBaseView(APIView):
    """GET /api/map/base/: the roads and named places of the gazetteer as GeoJSON (WGS-84), for
    the pages to draw as the base map when no tile source is configured (an intranet without a
    tile server). Every account that uses a map: the command centre, the crews, the stations."""

    @extend_schema(responses={200: dict[str, Any]}, summary="The base map drawn from the gazetteer")
    def get(self, request: Request) -> Response:
        # Whoever reads incidents has a map: the command centre, the crews, the stations.
        if not can_read_incidents(request.user):
            raise PermissionDenied(_("Your role does not use the map."))
        roads = [
            _feature(line, {"name": name})
            for name, line in Place.objects.filter(kind=PlaceKind.ROAD, line__isnull=False)
            .order_by("name")
            .values_list("name", "line")
            if isinstance(line, dict) and line.get("type") == "LineString"
        ]
        places = [
            _feature({"type": "Point", "coordinates": [lon, lat]}, {"name": name, "kind": kind})
            for name, kind, lat, lon in Place.objects.filter(kind__in=BASE_PLACE_KINDS)
            .order_by("kind", "name")
            .values_list("name", "kind", "lat", "lon")[:BASE_PLACES_MAX]
        ]
        response = Response({"roads": _collection(roads), "places": _collection(places)})
        response["Cache-Control"] = "private, max-age=300"
        return response


urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    path("map/base/", MapBaseView.as_view(), name="map-base"),
    path("units/health/", UnitHealthListView.as_view(), name="unit-health-list"),
    path("units/<int:pk>/health/", UnitHealthView.as_view(), name="unit-health"),
    path("map/layers/", MapLayersView.as_view(), name="map-layers"),
]
