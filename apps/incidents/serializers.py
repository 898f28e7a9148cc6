"""Input and output shapes of the incident API (separate, plain serializers)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.calls.models import Call
from apps.common.fields import LocationIn, PointQuery, StrictCharField, phone_field
from apps.units.models import Station, Unit, UnitKind
from apps.units.selectors import Recommendation

from .models import Category, Event, Incident, IncidentAssignment, IncidentStatus, Origin
from .notify import assignments_brief

# --- input -------------------------------------------------------------------------------------


class IncidentCreateIn(serializers.Serializer[None]):
    category = serializers.ChoiceField(choices=Category.choices)
    priority = serializers.IntegerField(min_value=1, max_value=3)
    location = LocationIn()
    address = StrictCharField(max_length=200)
    description = StrictCharField(max_length=2000, required=False, allow_blank=True)
    caller_name = StrictCharField(max_length=50, required=False, allow_blank=True)
    caller_phone = phone_field()


class IntakeIn(IncidentCreateIn):
    """Taking a call: the incident, and the ringing call it answers (from the telephony link).
    `origin: patrol`: a crew raises it from the phone (以巡待接), `unit` its own (by default the
    unit it crews), the location the phone's."""

    call = serializers.PrimaryKeyRelatedField(
        queryset=Call.objects.all(), required=False, allow_null=True
    )
    origin = serializers.ChoiceField(choices=Origin.choices, required=False, default=Origin.CALL)
    unit = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), required=False, allow_null=True
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("origin") == Origin.PATROL and attrs.get("call") is not None:
            raise serializers.ValidationError(
                {"call": [_("An incident raised on patrol answers no 110 call.")]}
            )
        if attrs.get("origin", Origin.CALL) == Origin.CALL and attrs.get("unit") is not None:
            raise serializers.ValidationError(
                {"unit": [_("A unit is sent by dispatching it, not when the call is taken.")]}
            )
        return attrs


class LinkCallIn(serializers.Serializer[None]):
    """A further call about an open incident: the ringing call, or the caller as typed."""

    call = serializers.PrimaryKeyRelatedField(
        queryset=Call.objects.all(), required=False, allow_null=True
    )
    caller_phone = phone_field()
    caller_name = StrictCharField(max_length=50, required=False, allow_blank=True)
    description = StrictCharField(max_length=2000, required=False, allow_blank=True)


class NoteIn(serializers.Serializer[None]):
    text = StrictCharField(max_length=2000)


class KindQuery(serializers.Serializer[None]):
    """Which units to rank: the patrol units (default) or the elite squad's groups (尖刀队),
    ranked apart and sent deliberately."""

    kind = serializers.ChoiceField(choices=UnitKind.choices, required=False, default="patrol")


class PointKindQuery(PointQuery, KindQuery):
    pass


class NearbyIn(PointQuery):
    radius_m = serializers.IntegerField(min_value=10, max_value=5000, required=False)
    minutes = serializers.IntegerField(min_value=1, max_value=24 * 60, required=False)


class CallerHistoryIn(serializers.Serializer[None]):
    phone = phone_field(required=True)
    days = serializers.IntegerField(min_value=1, max_value=366, required=False)


class IncidentFilterIn(serializers.Serializer[None]):
    status = serializers.ChoiceField(choices=IncidentStatus.choices, required=False)
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    since = serializers.DateTimeField(required=False)


class DispatchIn(serializers.Serializer[None]):
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all())


class OccurredIn(serializers.Serializer[None]):
    """A crew step: when it happened on the phone (a tap queued offline arrives late)."""

    occurred_at = serializers.DateTimeField(required=False)


class ResolveIn(OccurredIn):
    summary = StrictCharField(max_length=2000)


class TransferIn(serializers.Serializer[None]):
    station = serializers.PrimaryKeyRelatedField(
        queryset=Station.objects.all(), required=False, allow_null=True
    )
    reason = StrictCharField(max_length=1000)
    handed_over_at = serializers.DateTimeField(required=False)


class ReasonIn(serializers.Serializer[None]):
    reason = StrictCharField(max_length=1000)


# --- output ------------------------------------------------------------------------------------


class RefOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class GridOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    code = serializers.CharField()
    staging_point = serializers.IntegerField(source="staging_point_id")
    priority_zone = serializers.BooleanField()


class UnitRefOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    callsign = serializers.CharField()


class LocationOut(serializers.Serializer[Any]):
    lat = serializers.FloatField()
    lon = serializers.FloatField()


class ActiveAssignmentOut(serializers.Serializer[Any]):
    unit = serializers.IntegerField()
    callsign = serializers.CharField()
    role = serializers.CharField()
    status = serializers.CharField()
    dispatched_at = serializers.DateTimeField(allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    arrived_at = serializers.DateTimeField(allow_null=True)


class IncidentOut(serializers.Serializer[Incident]):
    id = serializers.IntegerField()
    number = serializers.CharField()
    category = serializers.CharField()
    priority = serializers.IntegerField()
    status = serializers.CharField()
    caller_name = serializers.CharField()
    caller_phone = serializers.CharField()
    address = serializers.CharField()
    description = serializers.CharField()
    location = LocationOut(source="*")
    grid = GridOut(source="grid_cell", allow_null=True)
    station = RefOut(allow_null=True)
    unit = UnitRefOut(allow_null=True)
    received_at = serializers.DateTimeField()
    dispatched_at = serializers.DateTimeField(allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    en_route_at = serializers.DateTimeField(allow_null=True)
    arrived_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    # The primary's missed 1-3-5 targets (cleared when a late report shows they were met): the
    # command map marks the incident by them.
    escalated_at = serializers.DateTimeField(allow_null=True)
    arrival_breached_at = serializers.DateTimeField(allow_null=True)
    summary = serializers.CharField()
    transfer_station = RefOut(allow_null=True)
    transfer_reason = serializers.CharField()
    handed_over_at = serializers.DateTimeField(allow_null=True)
    transfer_received_at = serializers.DateTimeField(allow_null=True)
    transfer_received_by = serializers.CharField(
        source="transfer_received_by.username", allow_null=True, default=None
    )
    cancel_reason = serializers.CharField()
    origin = serializers.CharField()
    # The units working it now, primary first (the detail lists every unit ever sent instead).
    assignments = serializers.SerializerMethodField()

    @extend_schema_field(ActiveAssignmentOut(many=True))
    def get_assignments(self, obj: Incident) -> list[dict[str, Any]]:
        return assignments_brief(obj)


class EventOut(serializers.Serializer[Event]):
    seq = serializers.IntegerField()
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    reason = serializers.CharField()
    payload = serializers.JSONField()
    hash = serializers.CharField()


class CallRefOut(serializers.Serializer[Call]):
    """A call of the incident (the caller's number is the incident's `caller_phone`)."""

    id = serializers.IntegerField()
    status = serializers.CharField()
    line = serializers.CharField()
    received_at = serializers.DateTimeField()
    taken_at = serializers.DateTimeField(allow_null=True)


class AssignmentOut(serializers.Serializer[IncidentAssignment]):
    """A unit sent to the incident, with its own times (the primary's are also the incident's)."""

    unit = serializers.IntegerField(source="unit_id")
    callsign = serializers.CharField(source="unit.callsign")
    role = serializers.CharField()
    status = serializers.CharField()
    dispatched_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    en_route_at = serializers.DateTimeField(allow_null=True)
    arrived_at = serializers.DateTimeField(allow_null=True)
    cleared_at = serializers.DateTimeField(allow_null=True)
    clear_reason = serializers.CharField()


class IncidentDetailOut(IncidentOut):
    events = EventOut(many=True, source="timeline")
    # Every unit sent, in dispatch order: the primary and the backups, released ones included.
    assignments = AssignmentOut(many=True, source="assignment_list")  # type: ignore[assignment]
    # The call that opened the incident (null when it was typed in without the telephony link)
    # and every call about it, the further ones linked to it included.
    call = CallRefOut(source="opening_call", allow_null=True)
    calls = CallRefOut(source="call_list", many=True)


class NearbyOut(IncidentOut):
    distance_m = serializers.IntegerField()
    open = serializers.BooleanField()


class HistoryCallOut(serializers.Serializer[Call]):
    id = serializers.IntegerField()
    status = serializers.CharField()
    received_at = serializers.DateTimeField()
    close_reason = serializers.CharField()
    incident = serializers.IntegerField(source="incident_id", allow_null=True)


class HistoryIncidentOut(serializers.Serializer[Incident]):
    id = serializers.IntegerField()
    number = serializers.CharField()
    category = serializers.CharField()
    status = serializers.CharField()
    address = serializers.CharField()
    received_at = serializers.DateTimeField()
    summary = serializers.CharField()


class CallerHistoryOut(serializers.Serializer[Any]):
    calls = HistoryCallOut(many=True)
    incidents = HistoryIncidentOut(many=True)


class RecommendationOut(serializers.Serializer[Recommendation]):
    unit = serializers.IntegerField(source="unit.pk")
    callsign = serializers.CharField(source="unit.callsign")
    kind = serializers.CharField(source="unit.kind")
    eta_s = serializers.IntegerField()
    distance_m = serializers.IntegerField()
    position_source = serializers.ChoiceField(choices=["position", "staging_point"])
    position_age_s = serializers.IntegerField(allow_null=True)


class IntakeOut(IncidentOut):
    recommendations = RecommendationOut(many=True)
