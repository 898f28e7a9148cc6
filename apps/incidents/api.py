"""The incident API: intake, lists, and one endpoint per lifecycle transition.

Views parse input, call one service or selector, and shape output. Who may do what is decided in
the services (403); unknown ids are 404; refused transitions 409.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.idempotency import idempotent
from apps.common.models import AccessLog
from apps.common.security import mask_phone
from apps.common.services import access_log_record
from apps.units.selectors import unit_recommendations

from . import services
from .models import Incident
from .selectors import (
    caller_phone_visible,
    can_read_incidents,
    incident_detail,
    incident_list,
    incidents_visible_to,
)
from .serializers import (
    DispatchIn,
    IncidentCreateIn,
    IncidentDetailOut,
    IncidentFilterIn,
    IncidentOut,
    IntakeOut,
    ReasonIn,
    RecommendationOut,
    ResolveIn,
    TransferIn,
)


class IncidentPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class IncidentPageOut(serializers.Serializer[Any]):
    """One page of the incident list (IncidentPagination's answer)."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = IncidentOut(many=True)


def _masked(data: Any) -> Any:
    """Caller phone numbers masked (138****0000): lists and answers to actions. The full number
    is in the incident detail, for those who need it (`caller_phone_visible`), and logged."""
    for row in data if isinstance(data, list) else [data]:
        row["caller_phone"] = mask_phone(row["caller_phone"])
    return data


def _require_reader(request: Request) -> None:
    if not can_read_incidents(request.user):
        raise PermissionDenied(_("Your role cannot see incidents."))


class IncidentListCreateView(APIView):
    @extend_schema(
        parameters=[IncidentFilterIn],
        responses={200: IncidentPageOut},
        summary="List incidents",
        operation_id="incidents_list",
    )
    def get(self, request: Request) -> Response:
        _require_reader(request)
        filters = IncidentFilterIn(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = incident_list(user=request.user, **filters.validated_data)
        paginator = IncidentPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        rows = _masked(IncidentOut(cast(Any, page), many=True).data)
        return paginator.get_paginated_response(rows)

    @extend_schema(request=IncidentCreateIn, responses={201: IntakeOut}, summary="Take a call")
    def post(self, request: Request) -> Response:
        # Refuse a wrong role before looking at the body (403, not a 400 about fields).
        if not services.is_operations(request.user):
            raise PermissionDenied(_("Only the command centre takes calls."))
        data = IncidentCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        location = fields.pop("location")
        actor: Any = request.user
        result = services.incident_intake(
            actor=actor, lat=location["lat"], lon=location["lon"], **fields
        )
        body = _masked(IncidentOut(result.incident).data)
        body["recommendations"] = RecommendationOut(
            cast(Any, result.recommendations), many=True
        ).data
        return Response(body, status=status.HTTP_201_CREATED)


class IncidentDetailView(APIView):
    @extend_schema(responses={200: IncidentDetailOut}, summary="One incident with its events")
    def get(self, request: Request, pk: int) -> Response:
        _require_reader(request)
        incident = incident_detail(user=request.user, pk=pk)
        if incident is None:
            return Response({"detail": _("Not found.")}, status=status.HTTP_404_NOT_FOUND)
        body = IncidentDetailOut(incident).data
        if not incident.caller_phone:
            return Response(body)
        if not caller_phone_visible(request.user, incident):
            return Response(_masked(body))
        # The full caller record: who saw it is recorded.
        access_log_record(
            user=request.user,
            action=AccessLog.Action.CALLER_RECORD_VIEWED,
            target=incident,
            via=request.path,
        )
        return Response(body)


class IncidentRecommendationsView(APIView):
    """The free units ranked for an incident now (the command map's dispatch panel)."""

    @extend_schema(
        responses={200: RecommendationOut(many=True)},
        summary="Free units ranked by estimated travel time to the incident",
    )
    def get(self, request: Request, pk: int) -> Response:
        if not services.is_operations(request.user):
            raise PermissionDenied(_("Only the command centre dispatches."))
        incident = get_object_or_404(Incident.objects.only("pk", "lat", "lon"), pk=pk)
        ranked = unit_recommendations(lat=incident.lat, lon=incident.lon)
        return Response(RecommendationOut(cast(Any, ranked), many=True).data)


class _TransitionView(APIView):
    """POST /api/incidents/{id}/<action>/: parse the body, run one service, return the incident."""

    input: ClassVar[type[serializers.Serializer[Any]] | None] = None

    def run(self, incident: Incident, actor: Any, data: dict[str, Any]) -> Incident:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        # Who may see the incident at all; the service decides who may change it.
        if not can_read_incidents(request.user):
            raise PermissionDenied(_("Your role cannot act on incidents."))
        incident = get_object_or_404(Incident.objects.only("pk"), pk=pk)
        data: dict[str, Any] = {}
        if self.input is not None:
            parsed = self.input(data=request.data)
            parsed.is_valid(raise_exception=True)
            data = dict(parsed.validated_data)
        incident = self.run(incident, request.user, data)
        fresh = incidents_visible_to(request.user).filter(pk=incident.pk).first() or incident
        return Response(_masked(IncidentOut(fresh).data))


def _doc(request: type[serializers.Serializer[Any]] | None, summary: str) -> Any:
    return extend_schema_view(
        post=extend_schema(request=request, responses={200: IncidentOut}, summary=summary)
    )


@_doc(DispatchIn, "Dispatch a unit")
class IncidentDispatchView(_TransitionView):
    input = DispatchIn

    def run(self, incident: Incident, actor: Any, data: dict[str, Any]) -> Incident:
        return services.incident_dispatch(incident=incident, unit=data["unit"], actor=actor)


@idempotent
@_doc(None, "The crew acknowledges the dispatch")
class IncidentAcknowledgeView(_TransitionView):
    def run(self, incident: Incident, actor: Any, data: dict[str, Any]) -> Incident:
        return services.incident_acknowledge(incident=incident, actor=actor)


@idempotent
@_doc(None, "The unit sets off")
class IncidentEnRouteView(_TransitionView):
    def run(self, incident: Incident, actor: Any, data: dict[str, Any]) -> Incident:
        return services.incident_en_route(incident=incident, actor=actor)


@idempotent
@_doc(None, "The unit is on scene")
class IncidentArriveView(_TransitionView):
    def run(self, incident: Incident, actor: Any, data: dict[str, Any]) -> Incident:
        return services.incident_arrive(incident=incident, actor=actor)


@idempotent
@_doc(ResolveIn, "Resolved on scene")
class IncidentResolveView(_TransitionView):
    input = ResolveIn

    def run(self, incident: Incident, actor: Any, data: dict[str, Any]) -> Incident:
        return services.incident_resolve(incident=incident, summary=data["summary"], actor=actor)


@idempotent
@_doc(TransferIn, "Transfer to a police station")
class IncidentTransferView(_TransitionView):
    input = TransferIn

    def run(self, incident: Incident, actor: Any, data: dict[str, Any]) -> Incident:
        return services.incident_transfer(
            incident=incident,
            reason=data["reason"],
            station=data.get("station"),
            handed_over_at=data.get("handed_over_at"),
            actor=actor,
        )


@_doc(None, "The receiving station confirms receipt")
class IncidentReceiveTransferView(_TransitionView):
    def run(self, incident: Incident, actor: Any, data: dict[str, Any]) -> Incident:
        return services.incident_receive_transfer(incident=incident, actor=actor)


@_doc(ReasonIn, "Cancel an open incident")
class IncidentCancelView(_TransitionView):
    input = ReasonIn

    def run(self, incident: Incident, actor: Any, data: dict[str, Any]) -> Incident:
        return services.incident_cancel(incident=incident, reason=data["reason"], actor=actor)


@_doc(ReasonIn, "Take the unit off the incident (reassignment)")
class IncidentUnassignView(_TransitionView):
    input = ReasonIn

    def run(self, incident: Incident, actor: Any, data: dict[str, Any]) -> Incident:
        return services.incident_unassign(incident=incident, reason=data["reason"], actor=actor)
