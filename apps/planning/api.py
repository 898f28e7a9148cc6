"""Coverage API (the command centre): the period's coverage by the staging points, a proposed
placement, and the live coverage gap with move-up suggestions."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.stats.api import PeriodQuery, require_command_centre
from apps.stats.selectors import period_bounds

from .coverage import coverage_gap, coverage_report, period_incidents

MAX_PROPOSED_SITES = 50


class CoverageQuery(PeriodQuery):
    propose = serializers.IntegerField(min_value=1, max_value=MAX_PROPOSED_SITES, required=False)
    target_s = serializers.IntegerField(min_value=30, max_value=3600, required=False)


class CoverageView(APIView):
    """Coverage of the period's incidents by the staging points (3 and 5 minutes), each point's
    reach and the uncovered locations (for the map); ``propose=k`` adds an MCLP placement."""

    @extend_schema(parameters=[CoverageQuery], responses={200: OpenApiResponse(), 400: None})
    def get(self, request: Request) -> Response:
        require_command_centre(request)
        query = CoverageQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        lo, hi = period_bounds(data["start"], data["end"])
        report = coverage_report(
            period_incidents(lo, hi),
            propose=data.get("propose"),
            target_s=data.get("target_s", 300),
        )
        return Response(report.to_dict())


class CoverageGapView(APIView):
    """Live: the areas no free unit reaches within 5 minutes now, and suggested move-ups."""

    @extend_schema(responses={200: OpenApiResponse()})
    def get(self, request: Request) -> Response:
        require_command_centre(request)
        return Response(coverage_gap().to_dict())
