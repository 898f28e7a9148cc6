"""The incident API: intake, lists, and one endpoint per lifecycle transition.

Views parse input, call one service or selector, and shape output. Who may do what is decided in
the services (403); unknown ids are 404; refused transitions 409.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.fields import StrictCharField
from apps.common.idempotency import idempotent
from apps.common.models import AccessLog
from apps.common.roles import UNIT_CREW_ROLES, has_role, is_command_centre
from apps.common.security import mask_phone
from apps.common.services import access_log_record
from apps.units.models import Unit, UnitKind
from apps.units.selectors import unit_recommendations

from . import services
from .models import OWNED_STATUSES, Incident, Origin
from .selectors import (
    caller_history,
    caller_phone_visible,
    can_read_incidents,
    divert_candidates,
    incident_detail,
    incident_fresh,
    incident_list,
    incident_visible,
    incidents_nearby,
)
from .serializers import (
    CallerHistoryIn,
    CallerHistoryOut,
    DispatchIn,
    IncidentDetailOut,
    IncidentFilterIn,
    IncidentOut,
    IntakeIn,
    IntakeOut,
    KindQuery,
    LinkCallIn,
    NearbyIn,
    NearbyOut,
    NoteIn,
    OccurredIn,
    PointKindQuery,
    ReasonIn,
    RecommendationOut,
    ResolveIn,
    TransferIn,
)
from .transitions import TRANSITIONS, Actor, Transition


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

    @extend_schema(request=IntakeIn, responses={201: IntakeOut}, summary="Take a call")
    @idempotent
    def post(self, request: Request) -> Response:
        """Open an incident (with `call`: the ringing call it answers). A double click or a
        retried request with the same `Idempotency-Key` opens one incident."""
        # Refuse a wrong role before looking at the body (403, not a 400 about fields).
        crew = has_role(request.user, *UNIT_CREW_ROLES)
        if not crew and not is_command_centre(request.user):
            raise PermissionDenied(_("Only the command centre takes calls."))
        patrol = isinstance(request.data, dict) and request.data.get("origin") == Origin.PATROL
        if patrol and not crew:
            raise PermissionDenied(_("Only a unit's crew raises an incident on patrol."))
        if not patrol and not is_command_centre(request.user):
            raise PermissionDenied(_("Only the command centre takes calls."))
        data = IntakeIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        location = fields.pop("location")
        actor: Any = request.user
        if fields.pop("origin") == Origin.PATROL:
            fields.pop("call", None)
            incident = services.incident_raise_on_patrol(
                actor=actor, lat=location["lat"], lon=location["lon"], **fields
            )
            body = _masked(IncidentOut(incident).data)
            body["recommendations"] = []
            return Response(body, status=status.HTTP_201_CREATED)
        fields.pop("unit", None)
        result = services.incident_intake(
            actor=actor, lat=location["lat"], lon=location["lon"], **fields
        )
        body = _masked(IncidentOut(result.incident).data)
        body["recommendations"] = RecommendationOut(
            cast(Any, result.recommendations), many=True
        ).data
        return Response(body, status=status.HTTP_201_CREATED)


class IncidentDetailView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "caller",
                str,
                enum=["masked"],
                required=False,
                description="`masked`: the caller's number masked and nothing logged (the "
                "command map's panel; its 'show number' asks without it).",
            )
        ],
        responses={200: IncidentDetailOut},
        summary="One incident with its events",
    )
    def get(self, request: Request, pk: int) -> Response:
        _require_reader(request)
        incident = incident_detail(user=request.user, pk=pk)
        if incident is None:
            return Response({"detail": _("Not found.")}, status=status.HTTP_404_NOT_FOUND)
        body = IncidentDetailOut(incident).data
        if not incident.caller_phone:
            return Response(body)
        wants_masked = request.query_params.get("caller") == "masked"
        if wants_masked or not caller_phone_visible(request.user, incident):
            return Response(_masked(body))
        # The full caller record: who saw it is recorded.
        access_log_record(
            user=request.user,
            action=AccessLog.Action.CALLER_RECORD_VIEWED,
            target=incident,
            via=request.path,
        )
        response = Response(body)
        # Personal data in full: no browser, proxy or service-worker cache may keep it.
        add_never_cache_headers(response)
        return response


class IncidentRecommendationsView(APIView):
    """The free units ranked for an incident now (the command map's dispatch panel)."""

    @extend_schema(
        parameters=[KindQuery],
        responses={200: RecommendationOut(many=True)},
        summary="Free units ranked by estimated travel time to the incident",
    )
    def get(self, request: Request, pk: int) -> Response:
        _require_dispatcher(request)
        kind = KindQuery(data=request.query_params)
        kind.is_valid(raise_exception=True)
        incident = get_object_or_404(Incident.objects.only("pk", "lat", "lon"), pk=pk)
        return _ranked(incident.lat, incident.lon, kind.validated_data["kind"])


def _require_dispatcher(request: Request) -> None:
    if not is_command_centre(request.user):
        raise PermissionDenied(_("Only the command centre dispatches."))


def _ranked(lat: float, lon: float, kind: str = UnitKind.PATROL) -> Response:
    ranked = unit_recommendations(lat=lat, lon=lon, kind=kind)
    return Response(RecommendationOut(cast(Any, ranked), many=True).data)


def _require_command_centre(request: Request) -> None:
    if not is_command_centre(request.user):
        raise PermissionDenied(_("Only the command centre takes calls."))


def _visible_or_404(request: Request, pk: int) -> Incident:
    """The incident if the user may see it: an incident outside the user's scope does not exist
    for them (404, as on GET; a 409 with its status would tell a station about another station's
    incident). Who may change it is the service's to decide."""
    if not can_read_incidents(request.user):
        raise PermissionDenied(_("Your role cannot act on incidents."))
    incident = incident_visible(request.user, pk)
    if incident is None:
        raise Http404
    return incident


def _fresh(request: Request, incident: Incident) -> Response:
    """The incident as it is now, as the user sees it (the caller's number masked)."""
    fresh = incident_fresh(request.user, incident.pk) or incident
    return Response(_masked(IncidentOut(fresh).data))


@idempotent
class IncidentLinkCallView(APIView):
    @extend_schema(
        request=LinkCallIn,
        responses={200: IncidentOut},
        summary="Link a further call to an open incident (counted once)",
    )
    def post(self, request: Request, pk: int) -> Response:
        _require_command_centre(request)
        incident = _visible_or_404(request, pk)
        data = LinkCallIn(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_link_call(
            incident=incident, actor=request.user, **data.validated_data
        )
        return _fresh(request, incident)


@idempotent
class IncidentNoteView(APIView):
    @extend_schema(request=NoteIn, responses={200: IncidentOut}, summary="Add a note (续报)")
    def post(self, request: Request, pk: int) -> Response:
        incident = _visible_or_404(request, pk)
        data = NoteIn(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_note(
            incident=incident, actor=request.user, text=data.validated_data["text"]
        )
        return _fresh(request, incident)


class IncidentNearbyView(APIView):
    @extend_schema(
        parameters=[NearbyIn],
        responses={200: NearbyOut(many=True)},
        summary="Incidents near a point: open, or received lately (duplicate check)",
    )
    def get(self, request: Request) -> Response:
        _require_command_centre(request)
        data = NearbyIn(data=request.query_params)
        data.is_valid(raise_exception=True)
        found = incidents_nearby(
            lat=data.validated_data["lat"],
            lon=data.validated_data["lon"],
            radius_m=data.validated_data.get("radius_m", settings.CALL_NEARBY_RADIUS_M),
            minutes=data.validated_data.get("minutes", settings.CALL_NEARBY_MINUTES),
        )
        rows = []
        for hit in found:
            row = dict(IncidentOut(hit.incident).data)
            row["distance_m"] = round(hit.distance_m)
            row["open"] = hit.open
            rows.append(row)
        return Response(_masked(rows))


class CallerHistoryView(APIView):
    @extend_schema(
        parameters=[CallerHistoryIn],
        responses={200: CallerHistoryOut},
        summary="A caller's calls and incidents of the last days (90 by default)",
    )
    def get(self, request: Request) -> Response:
        _require_command_centre(request)
        data = CallerHistoryIn(data=request.query_params)
        data.is_valid(raise_exception=True)
        history = caller_history(
            phone=data.validated_data["phone"],
            days=data.validated_data.get("days", settings.CALL_HISTORY_DAYS),
        )
        return Response(CallerHistoryOut(history).data)


class PointRecommendationsView(APIView):
    """The free units ranked for a point (the console, as soon as the pin is placed)."""

    @extend_schema(
        parameters=[PointKindQuery],
        responses={200: RecommendationOut(many=True)},
        summary="Free units ranked by estimated travel time to a point",
        operation_id="point_recommendations",
    )
    def get(self, request: Request) -> Response:
        _require_dispatcher(request)
        data = PointKindQuery(data=request.query_params)
        data.is_valid(raise_exception=True)
        return _ranked(
            data.validated_data["lat"], data.validated_data["lon"], data.validated_data["kind"]
        )


class _TransitionView(APIView):
    """POST /api/incidents/{id}/<path>/: parse the body, run the transition, return the incident."""

    action: ClassVar[str]
    input: ClassVar[type[serializers.Serializer[Any]] | None] = None

    def post(self, request: Request, pk: int) -> Response:
        incident = _visible_or_404(request, pk)
        data: dict[str, Any] = {}
        if self.input is not None:
            parsed = self.input(data=request.data)
            parsed.is_valid(raise_exception=True)
            data = dict(parsed.validated_data)
        incident = services.incident_transition(
            action=self.action, incident=incident, actor=request.user, data=data
        )
        return _fresh(request, incident)


# The request body of each transition that takes one (the table's `fields`).
TRANSITION_INPUTS: dict[str, type[serializers.Serializer[Any]]] = {
    "dispatch": DispatchIn,
    "acknowledge": OccurredIn,
    "en_route": OccurredIn,
    "arrive": OccurredIn,
    "resolve": ResolveIn,
    "transfer": TransferIn,
    "cancel": ReasonIn,
    "unassign": ReasonIn,
}


def _transition_view(transition: Transition) -> type[APIView]:
    name = "Incident" + "".join(w.title() for w in transition.action.split("_")) + "View"
    view: type[APIView] = type(
        name,
        (_TransitionView,),
        {
            "action": transition.action,
            "input": TRANSITION_INPUTS.get(transition.action),
            "__doc__": transition.doc,
        },
    )
    view = extend_schema_view(
        post=extend_schema(
            request=TRANSITION_INPUTS.get(transition.action),
            responses={200: IncidentOut},
            summary=transition.doc,
        )
    )(view)
    if transition.actor == Actor.CREW:
        # Crews act from a phone that may replay a queued action: the first answer is kept.
        view = idempotent(view)
    return view


# path segment → view, one per row of the transition table (cad_project/api_urls.py routes them).
TRANSITION_VIEWS: dict[str, type[APIView]] = {t.path: _transition_view(t) for t in TRANSITIONS}


class ReleaseIn(serializers.Serializer[None]):
    reason = StrictCharField(max_length=200, required=False, allow_blank=True)


# A unit's own steps on an incident it works (a backup's, or any unit named by the command
# centre acting for its crew on the radio): /api/incidents/{id}/units/{unit_id}/<step>/.
UNIT_STEPS: dict[str, str] = {
    t.path: t.action for t in TRANSITIONS if t.actor == Actor.CREW and t.to_state in OWNED_STATUSES
}


@idempotent
class IncidentUnitStepView(APIView):
    @extend_schema(
        request=OccurredIn,
        responses={200: IncidentOut},
        summary="One unit's step on the incident (acknowledge, en-route, arrive)",
        operation_id="incident_unit_step",
    )
    def post(self, request: Request, pk: int, unit_id: int, step: str) -> Response:
        action = UNIT_STEPS.get(step)
        if action is None:
            return Response({"detail": _("Not found.")}, status=status.HTTP_404_NOT_FOUND)
        incident = _visible_or_404(request, pk)
        unit = get_object_or_404(Unit.objects.only("pk"), pk=unit_id)
        parsed = OccurredIn(data=request.data)
        parsed.is_valid(raise_exception=True)
        incident = services.incident_transition(
            action=action,
            incident=incident,
            actor=request.user,
            data={**parsed.validated_data, "unit_id": unit.pk},
        )
        return _fresh(request, incident)


@idempotent
class IncidentUnitReleaseView(APIView):
    @extend_schema(
        request=ReleaseIn,
        responses={200: IncidentOut},
        summary="Release a backup unit from the incident (收队)",
    )
    def post(self, request: Request, pk: int, unit_id: int) -> Response:
        incident = _visible_or_404(request, pk)
        unit = get_object_or_404(Unit, pk=unit_id)
        parsed = ReleaseIn(data=request.data)
        parsed.is_valid(raise_exception=True)
        incident = services.incident_release_unit(
            incident=incident,
            unit=unit,
            actor=request.user,
            reason=parsed.validated_data.get("reason", ""),
        )
        return _fresh(request, incident)


class DivertIn(serializers.Serializer[None]):
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all())
    reason = StrictCharField(max_length=1000)


class DivertCandidateOut(serializers.Serializer[Any]):
    unit = serializers.IntegerField(source="unit.pk")
    callsign = serializers.CharField(source="unit.callsign")
    eta_s = serializers.IntegerField()
    distance_m = serializers.IntegerField()
    incident = serializers.IntegerField(source="incident.pk")
    incident_number = serializers.CharField(source="incident.number")
    incident_status = serializers.CharField(source="incident.status")


@idempotent
class IncidentDivertView(APIView):
    """A priority-1 incident takes a unit on its way to a priority-3 one (the dispatcher
    confirms; the other incident goes back to the queue with an event)."""

    @extend_schema(
        responses={200: DivertCandidateOut(many=True)},
        summary="Units a priority-1 incident may divert from priority-3 incidents",
        operation_id="incident_divert_candidates",
    )
    def get(self, request: Request, pk: int) -> Response:
        _require_dispatcher(request)
        incident = get_object_or_404(Incident.objects.only("pk", "lat", "lon", "priority"), pk=pk)
        found = divert_candidates(incident=incident)
        return Response(DivertCandidateOut(cast(Any, found), many=True).data)

    @extend_schema(
        request=DivertIn,
        responses={200: IncidentOut},
        summary="Divert a unit from a priority-3 incident to this priority-1 incident",
    )
    def post(self, request: Request, pk: int) -> Response:
        _require_dispatcher(request)
        incident = _visible_or_404(request, pk)
        data = DivertIn(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_divert(
            incident=incident,
            unit=data.validated_data["unit"],
            reason=data.validated_data["reason"],
            actor=request.user,
        )
        return _fresh(request, incident)
