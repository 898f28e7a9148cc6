"""The unit API: the unit list (board) and position reports from a unit's crew."""

from __future__ import annotations

from typing import Any, cast

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.fields import LocationIn, StrictFloatField, finite
from apps.common.roles import OPERATIONS_ROLES, UNIT_CREW_ROLES, Role, has_role

from .models import Unit
from .selectors import is_crew, position_age_s, unit_board
from .services import unit_position_record

BOARD_ROLES = (*OPERATIONS_ROLES, *UNIT_CREW_ROLES, Role.STATION)


class PositionIn(LocationIn):
    accuracy_m = StrictFloatField(
        min_value=0, max_value=100_000, required=False, allow_null=True, validators=[finite]
    )
    recorded_at = serializers.DateTimeField()


class PositionOut(serializers.Serializer[Any]):
    updated = serializers.BooleanField()
    breadcrumb = serializers.BooleanField()


class StagingPointRefOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class LatLonOut(serializers.Serializer[Any]):
    lat = serializers.FloatField()
    lon = serializers.FloatField()


class UnitOut(serializers.Serializer[Unit]):
    id = serializers.IntegerField()
    callsign = serializers.CharField()
    kind = serializers.CharField()
    staging_point = StagingPointRefOut()
    status = serializers.CharField()
    position = serializers.SerializerMethodField()
    position_age_s = serializers.SerializerMethodField()
    current_incident = serializers.IntegerField(source="current_incident_id", allow_null=True)

    @extend_schema_field(LatLonOut(allow_null=True))
    def get_position(self, obj: Unit) -> dict[str, float] | None:
        if obj.lat is None or obj.lon is None:
            return None
        return {"lat": obj.lat, "lon": obj.lon}

    def get_position_age_s(self, obj: Unit) -> int | None:
        return position_age_s(obj, self.context["now"])


class UnitListView(APIView):
    @extend_schema(
        responses={200: UnitOut(many=True)}, summary="All units with status and position"
    )
    def get(self, request: Request) -> Response:
        if not (request.user.is_superuser or has_role(request.user, *BOARD_ROLES)):
            raise PermissionDenied(_("Your role cannot see the unit board."))
        units = unit_board()
        return Response(UnitOut(cast(Any, units), many=True, context={"now": timezone.now()}).data)


class UnitPositionView(APIView):
    @extend_schema(request=PositionIn, responses={200: PositionOut}, summary="Report a position")
    def post(self, request: Request, pk: int) -> Response:
        unit = get_object_or_404(Unit, pk=pk)
        # Positions come from the unit's own device: its crew only, not the command centre.
        if not is_crew(request.user, unit):
            raise PermissionDenied(_("Only the unit's crew may report its position."))
        data = PositionIn(data=request.data)
        data.is_valid(raise_exception=True)
        result = unit_position_record(
            unit=unit,
            lat=data.validated_data["lat"],
            lon=data.validated_data["lon"],
            accuracy_m=data.validated_data.get("accuracy_m"),
            recorded_at=data.validated_data["recorded_at"],
        )
        return Response(
            PositionOut({"updated": result.updated, "breadcrumb": result.breadcrumb}).data,
            status=status.HTTP_200_OK,
        )
