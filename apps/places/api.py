"""The gazetteer API: place search as the dispatcher types, and the reverse lookup of a pin.

Both are for the command centre only (apps.common.roles.is_command_centre).
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.fields import PointQuery
from apps.common.geo import LatLon
from apps.common.roles import is_command_centre

from .selectors import PlaceHit, place_reverse, place_search

LIMIT_MAX = 50
QUERY_MAX = 100


class PlaceSearchIn(serializers.Serializer[None]):
    q = serializers.CharField(max_length=QUERY_MAX, trim_whitespace=True)
    near = serializers.CharField(required=False, help_text="LAT,LON (WGS-84 degrees)")
    limit = serializers.IntegerField(min_value=1, max_value=LIMIT_MAX, default=10)

    def validate_near(self, value: str) -> LatLon:
        try:
            lat, lon = (float(p) for p in value.split(","))
        except ValueError:
            raise serializers.ValidationError(
                _("Give the point as LAT,LON in degrees, e.g. 22.78,100.97.")
            ) from None
        if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
            raise serializers.ValidationError(_("The point is out of range."))
        return LatLon(lat, lon)


class PlaceOut(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="place.id")
    name = serializers.CharField(source="place.name")
    address = serializers.CharField(source="place.address")
    kind = serializers.CharField(source="place.kind")
    lat = serializers.FloatField(source="place.lat")
    lon = serializers.FloatField(source="place.lon")


class PlaceNearOut(PlaceOut):
    distance_m = serializers.IntegerField()


class PlaceRefOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField(required=False)


class PlaceStagingPointOut(PlaceRefOut):
    distance_m = serializers.IntegerField()


class PlaceReverseOut(serializers.Serializer[Any]):
    places = PlaceNearOut(many=True)
    grid_cell = PlaceRefOut(allow_null=True)
    station = PlaceRefOut(allow_null=True)
    staging_point = PlaceStagingPointOut(allow_null=True)


def _require_command_centre(request: Request) -> None:
    if not is_command_centre(request.user):
        raise PermissionDenied(_("Only the command centre searches the gazetteer."))


def _near_out(hit: PlaceHit) -> dict[str, Any]:
    out: dict[str, Any] = dict(PlaceOut(hit).data)
    out["distance_m"] = round(hit.distance_m or 0)
    return out


class PlaceSearchView(APIView):
    @extend_schema(
        parameters=[PlaceSearchIn],
        responses={200: PlaceOut(many=True)},
        summary="Search the gazetteer (best first)",
    )
    def get(self, request: Request) -> Response:
        _require_command_centre(request)
        data = PlaceSearchIn(data=request.query_params)
        data.is_valid(raise_exception=True)
        hits = place_search(
            q=data.validated_data["q"],
            near=data.validated_data.get("near"),
            limit=data.validated_data["limit"],
        )
        return Response(PlaceOut(hits, many=True).data)


class PlaceReverseView(APIView):
    @extend_schema(
        parameters=[PointQuery],
        responses={200: PlaceReverseOut},
        summary="What is at a point: nearest places, grid cell, station, staging point",
    )
    def get(self, request: Request) -> Response:
        _require_command_centre(request)
        data = PointQuery(data=request.query_params)
        data.is_valid(raise_exception=True)
        found = place_reverse(lat=data.validated_data["lat"], lon=data.validated_data["lon"])
        cell = found.grid_cell
        station = found.station
        point = found.staging_point
        return Response(
            {
                "places": [_near_out(h) for h in found.places],
                "grid_cell": None if cell is None else {"id": cell.pk, "code": cell.code},
                "station": None
                if station is None
                else {"id": station.pk, "code": station.code, "name": station.name},
                "staging_point": None
                if point is None
                else {
                    "id": point.pk,
                    "code": point.code,
                    "name": point.name,
                    "distance_m": round(found.staging_point_distance_m or 0),
                },
            }
        )
