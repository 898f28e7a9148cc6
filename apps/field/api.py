"""The crews' reports over HTTP: duty status, the emergency button and its acknowledgement, and
backup requests. Views parse, call one service, shape the answer; who may act is the services'."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.http import FileResponse, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.fields import StrictCharField, StrictFloatField, finite
from apps.common.idempotency import idempotent
from apps.incidents.models import Incident
from apps.incidents.selectors import can_read_incidents, incidents_visible_to
from apps.incidents.serializers import IncidentOut
from apps.units.models import Unit

from . import services
from .models import Attachment, Emergency
from .notify import ranked_brief


class DutyStatusIn(serializers.Serializer[None]):
    status = serializers.ChoiceField(choices=sorted(services.DUTY_STATUSES))
    reason = StrictCharField(max_length=200, required=False, allow_blank=True)


class DutyStatusOut(serializers.Serializer[Unit]):
    id = serializers.IntegerField()
    callsign = serializers.CharField()
    status = serializers.CharField()
    status_changed_at = serializers.DateTimeField(allow_null=True)


class EmergencyIn(serializers.Serializer[None]):
    lat = StrictFloatField(min_value=-90, max_value=90, required=False, validators=[finite])
    lon = StrictFloatField(min_value=-180, max_value=180, required=False, validators=[finite])
    accuracy_m = StrictFloatField(
        min_value=0, max_value=100_000, required=False, allow_null=True, validators=[finite]
    )
    occurred_at = serializers.DateTimeField(required=False)
    note = StrictCharField(max_length=200, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("lat" in attrs) != ("lon" in attrs):
            raise serializers.ValidationError(
                {"location": [_("Give both latitude and longitude.")]}
            )
        return attrs


class EmergencyOut(serializers.Serializer[Emergency]):
    id = serializers.IntegerField()
    unit = serializers.IntegerField(source="unit_id")
    raised_at = serializers.DateTimeField()
    lat = serializers.FloatField(allow_null=True)
    lon = serializers.FloatField(allow_null=True)
    accuracy_m = serializers.FloatField(allow_null=True)
    presses = serializers.IntegerField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)


class BackupRequestIn(serializers.Serializer[None]):
    count = serializers.IntegerField(min_value=1, max_value=10, default=1)
    reason = StrictCharField(max_length=1000)


class RankedOut(serializers.Serializer[Any]):
    unit = serializers.IntegerField()
    callsign = serializers.CharField()
    eta_s = serializers.IntegerField()
    distance_m = serializers.IntegerField()


class BackupRequestOut(serializers.Serializer[Any]):
    nearest = RankedOut(many=True)


class UnitDutyStatusView(APIView):
    @extend_schema(
        request=DutyStatusIn,
        responses={200: DutyStatusOut},
        summary="Set a unit's duty status (at post, patrolling, out of service)",
    )
    def post(self, request: Request, pk: int) -> Response:
        unit = get_object_or_404(Unit, pk=pk)
        data = DutyStatusIn(data=request.data)
        data.is_valid(raise_exception=True)
        unit = services.unit_duty_set(
            unit=unit,
            status=data.validated_data["status"],
            reason=data.validated_data.get("reason", ""),
            actor=request.user,
        )
        return Response(DutyStatusOut(unit).data)


@idempotent
class UnitEmergencyView(APIView):
    @extend_schema(
        request=EmergencyIn,
        responses={201: EmergencyOut},
        summary="The emergency button (一键求助)",
    )
    def post(self, request: Request, pk: int) -> Response:
        unit = get_object_or_404(Unit, pk=pk)
        data = EmergencyIn(data=request.data)
        data.is_valid(raise_exception=True)
        emergency = services.unit_emergency_raise(
            unit=unit, actor=request.user, **data.validated_data
        )
        return Response(EmergencyOut(emergency).data, status=status.HTTP_201_CREATED)


class EmergencyAcknowledgeView(APIView):
    @extend_schema(
        request=None,
        responses={200: EmergencyOut},
        summary="A commander takes charge of an emergency",
    )
    def post(self, request: Request, pk: int) -> Response:
        emergency = get_object_or_404(Emergency, pk=pk)
        emergency = services.unit_emergency_acknowledge(emergency=emergency, actor=request.user)
        return Response(EmergencyOut(emergency).data)


@idempotent
class EmergencyIncidentView(APIView):
    @extend_schema(
        request=None,
        responses={200: IncidentOut},
        summary="Open a priority-1 incident at an emergency's position (to send help)",
    )
    def post(self, request: Request, pk: int) -> Response:
        emergency = get_object_or_404(Emergency, pk=pk)
        incident = services.emergency_incident_open(emergency=emergency, actor=request.user)
        fresh = incidents_visible_to(request.user).get(pk=incident.pk)
        return Response(IncidentOut(fresh).data)


@idempotent
class IncidentBackupRequestView(APIView):
    @extend_schema(
        request=BackupRequestIn,
        responses={200: BackupRequestOut},
        summary="Ask for backup (请求增援): the command centre gets the nearest free units",
    )
    def post(self, request: Request, pk: int) -> Response:
        incident = get_object_or_404(
            incidents_visible_to(request.user).select_related(None).only("pk"), pk=pk
        )
        data = BackupRequestIn(data=request.data)
        data.is_valid(raise_exception=True)
        ranked = services.incident_backup_request(
            incident=incident,
            actor=request.user,
            count=data.validated_data["count"],
            reason=data.validated_data["reason"],
        )
        return Response({"nearest": ranked_brief(ranked)})


# --- photos ------------------------------------------------------------------------------------


class AttachmentIn(serializers.Serializer[None]):
    file = serializers.FileField()
    occurred_at = serializers.DateTimeField(required=False)
    caption = StrictCharField(max_length=200, required=False, allow_blank=True)


class AttachmentOut(serializers.Serializer[Attachment]):
    id = serializers.IntegerField()
    incident = serializers.IntegerField(source="incident_id")
    unit = serializers.IntegerField(source="unit_id", allow_null=True)
    uploaded_by = serializers.CharField(source="uploaded_by.username", default=None)
    taken_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField()
    content_type = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    size_bytes = serializers.IntegerField()
    sha256 = serializers.CharField()
    caption = serializers.CharField()
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    def get_url(self, obj: Attachment) -> str:
        return obj.url

    def get_thumbnail_url(self, obj: Attachment) -> str:
        return f"{obj.url}?thumbnail=1"


def _visible_incident(request: Request, pk: int) -> Incident:
    """The incident if this user may see it (as its detail checks); 404 otherwise."""
    if not can_read_incidents(request.user):
        raise PermissionDenied(_("Your role cannot see incidents."))
    visible = incidents_visible_to(request.user).select_related(None).only("pk", "closed_at")
    return get_object_or_404(visible, pk=pk)


@idempotent
class IncidentAttachmentsView(APIView):
    """A photo queued offline and replayed with its Idempotency-Key is stored once."""

    parser_classes = [MultiPartParser]

    @extend_schema(responses={200: AttachmentOut(many=True)}, summary="The incident's photos")
    def get(self, request: Request, pk: int) -> Response:
        incident = _visible_incident(request, pk)
        rows = Attachment.objects.filter(incident=incident).select_related("uploaded_by")
        return Response(AttachmentOut(cast(Any, rows), many=True).data)

    @extend_schema(
        request={"multipart/form-data": AttachmentIn},
        responses={201: AttachmentOut},
        summary="Add a photo (multipart: file, occurred_at?, caption?)",
    )
    def post(self, request: Request, pk: int) -> Response:
        # Refuse an oversized body before it is read (the header is the client's word; the
        # file's own size is checked again after parsing).
        limit = int(settings.ATTACHMENT_MAX_BYTES)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit + 64 * 1024:
            return Response(
                {"file": [_("The photo is larger than %(mb)d MB.") % {"mb": limit // 2**20}]},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        incident = _visible_incident(request, pk)
        data = AttachmentIn(data=request.data)
        data.is_valid(raise_exception=True)
        attachment = services.attachment_add(
            incident=incident,
            actor=request.user,
            upload=data.validated_data["file"],
            occurred_at=data.validated_data.get("occurred_at"),
            caption=data.validated_data.get("caption", ""),
        )
        return Response(AttachmentOut(attachment).data, status=status.HTTP_201_CREATED)


class AttachmentFileView(APIView):
    @extend_schema(
        responses={(200, "image/jpeg"): bytes},
        summary="One photo (or its thumbnail with ?thumbnail=1)",
    )
    def get(self, request: Request, pk: int, attachment_id: int) -> HttpResponseBase:
        incident = _visible_incident(request, pk)
        attachment = get_object_or_404(Attachment, pk=attachment_id, incident=incident)
        thumb = request.query_params.get("thumbnail") in ("1", "true")
        stored = attachment.thumbnail if thumb else attachment.file
        try:
            handle = stored.storage.open(stored.name, "rb")
        except OSError:
            return Response(
                {"detail": _("The stored photo is missing.")}, status=status.HTTP_404_NOT_FOUND
            )
        response = FileResponse(
            handle, content_type="image/jpeg" if thumb else attachment.content_type
        )
        # Personal data: no browser, proxy or service-worker cache keeps it.
        add_never_cache_headers(response)
        response["X-Content-Type-Options"] = "nosniff"
        return response
