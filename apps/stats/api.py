"""Statistics API (the command centre): summary and street presence."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.roles import is_command_centre
from apps.incidents.models import Category
from apps.units.models import GridCell, StagingPoint, Station, Unit

from .selectors import StatsFilter, street_presence, summary

# A summary reads at most this many days (ten years): beyond, the request is surely a typo.
MAX_PERIOD_DAYS = 3660
MIN_YEAR, MAX_YEAR = 1900, 2999


class PeriodQuery(serializers.Serializer[None]):
    start = serializers.DateField(input_formats=["%Y-%m-%d"])
    end = serializers.DateField(input_formats=["%Y-%m-%d"])

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs["start"], attrs["end"]
        # Dates at the calendar's ends overflow when shifted to UTC (found by schemathesis).
        for name in ("start", "end"):
            if not MIN_YEAR <= attrs[name].year <= MAX_YEAR:
                raise serializers.ValidationError(
                    {
                        name: [
                            _("Dates must be between %(a)d and %(b)d.")
                            % {"a": MIN_YEAR, "b": MAX_YEAR}
                        ]
                    }
                )
        if end < start:
            raise serializers.ValidationError({"end": [_("The end is before the start.")]})
        if (end - start).days + 1 > MAX_PERIOD_DAYS:
            raise serializers.ValidationError(
                {"end": [_("The period is longer than %(days)d days.") % {"days": MAX_PERIOD_DAYS}]}
            )
        return attrs


class SummaryQuery(PeriodQuery):
    station = serializers.PrimaryKeyRelatedField(queryset=Station.objects.all(), required=False)
    staging_point = serializers.PrimaryKeyRelatedField(
        queryset=StagingPoint.objects.all(), required=False
    )
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(), required=False)
    grid_cell = serializers.PrimaryKeyRelatedField(queryset=GridCell.objects.all(), required=False)
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    shift = serializers.ChoiceField(choices=[1, 2, 3], required=False)

    def filters(self) -> StatsFilter:
        data = self.validated_data

        def pk(name: str) -> int | None:
            obj = data.get(name)
            return None if obj is None else int(obj.pk)

        shift = data.get("shift")
        return StatsFilter(
            station_id=pk("station"),
            staging_point_id=pk("staging_point"),
            unit_id=pk("unit"),
            grid_cell_id=pk("grid_cell"),
            category=data.get("category"),
            shift=None if shift is None else int(shift),
        )


def require_command_centre(request: Request) -> None:
    if not is_command_centre(request.user):
        raise PermissionDenied(_("Statistics are for commanders and dispatchers."))


class StatsSummaryView(APIView):
    """Totals, transfers, on-scene rates by category and response figures of a period.

    Commanders and dispatchers only. Definitions: README.md, "Statistics definitions".
    """

    @extend_schema(
        parameters=[SummaryQuery],
        responses={200: OpenApiResponse(description="The summary (see README)."), 400: None},
    )
    def get(self, request: Request) -> Response:
        require_command_centre(request)
        query = SummaryQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = summary(
            start=query.validated_data["start"],
            end=query.validated_data["end"],
            filters=query.filters(),
        )
        return Response(result.to_dict())


class PresenceQuery(PeriodQuery):
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(), required=False)


class StreetPresenceView(APIView):
    """Hours per unit status (patrolling, at post, travelling, on scene) in a period."""

    @extend_schema(parameters=[PresenceQuery], responses={200: OpenApiResponse(), 400: None})
    def get(self, request: Request) -> Response:
        require_command_centre(request)
        query = PresenceQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        unit = query.validated_data.get("unit")
        result = street_presence(
            start=query.validated_data["start"],
            end=query.validated_data["end"],
            unit_id=None if unit is None else int(unit.pk),
        )
        return Response({"units": [p.to_dict() for p in result]})
