"""The telephony link's API and the console's calls.

- `POST /api/calls/` by the telephony service account: a call is ringing (201 `{id, …}`); the
  command centre's websocket gets `call.ringing`. Honours `Idempotency-Key` (a gateway retrying
  after a lost answer reports the call once).
- `GET /api/calls/` by the command centre: the calls ringing now, oldest first.
- `POST /api/calls/{id}/close/` by the command centre: closed without an incident, with a reason.

Taking a call into an incident is `POST /api/incidents/` with `call`; linking it to an open
incident is `POST /api/incidents/{id}/calls/` (the incidents API).
"""

from __future__ import annotations

from typing import Any, cast

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.fields import (
    LocationIn,
    StrictCharField,
    StrictFloatField,
    finite,
    phone_field,
)
from apps.common.idempotency import idempotent
from apps.common.roles import is_command_centre

from . import services
from .models import Call, CloseReason
from .notify import call_brief
from .selectors import calls_ringing


class CallerLocationIn(LocationIn):
    accuracy_m = StrictFloatField(
        min_value=0, max_value=100_000, validators=[finite], required=False, allow_null=True
    )


class CallReportIn(serializers.Serializer[None]):
    caller_phone = phone_field()
    received_at = serializers.DateTimeField()
    line = StrictCharField(max_length=20, required=False, allow_blank=True)
    location = CallerLocationIn(required=False, allow_null=True)


class CallOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    caller_phone = serializers.CharField()
    line = serializers.CharField()
    received_at = serializers.DateTimeField()
    location = serializers.JSONField(allow_null=True)
    status = serializers.CharField()
    incident_id = serializers.IntegerField(allow_null=True)


class CallCloseIn(serializers.Serializer[None]):
    reason = serializers.ChoiceField(choices=CloseReason.choices)
    note = StrictCharField(max_length=500, required=False, allow_blank=True)


class CallListView(APIView):
    @extend_schema(responses={200: CallOut(many=True)}, summary="The calls ringing now")
    def get(self, request: Request) -> Response:
        if not is_command_centre(request.user):
            raise PermissionDenied(_("Only the command centre takes calls."))
        return Response([call_brief(c) for c in calls_ringing()[:50]])

    @extend_schema(
        request=CallReportIn, responses={201: CallOut}, summary="Report a ringing call (telephony)"
    )
    @idempotent
    def post(self, request: Request) -> Response:
        if not services.can_report_calls(request.user):
            raise PermissionDenied(_("Only the telephony link reports calls."))
        data = CallReportIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        location = fields.pop("location", None) or {}
        call = services.call_report(
            actor=request.user,
            lat=location.get("lat"),
            lon=location.get("lon"),
            accuracy_m=location.get("accuracy_m"),
            **fields,
        )
        return Response(call_brief(call), status=status.HTTP_201_CREATED)


class CallCloseView(APIView):
    @extend_schema(
        request=CallCloseIn, responses={200: CallOut}, summary="Close a call without an incident"
    )
    def post(self, request: Request, pk: int) -> Response:
        if not is_command_centre(request.user):
            raise PermissionDenied(_("Only the command centre closes calls."))
        call = get_object_or_404(Call, pk=pk)
        data = CallCloseIn(data=request.data)
        data.is_valid(raise_exception=True)
        call = services.call_close(call=call, actor=request.user, **cast(Any, data.validated_data))
        return Response(call_brief(call))
