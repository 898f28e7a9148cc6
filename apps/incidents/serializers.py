"""Input and output shapes of the incident API (separate, plain serializers)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.common.fields import StrictCharField, StrictFloatField, StrictRegexField, finite
from apps.units.models import Station, Unit
from apps.units.selectors import Recommendation

from .models import Category, Event, Incident, IncidentStatus

# --- input -------------------------------------------------------------------------------------


class LocationIn(serializers.Serializer[None]):
    lat = StrictFloatField(min_value=-90, max_value=90, validators=[finite])
    lon = StrictFloatField(min_value=-180, max_value=180, validators=[finite])


class IncidentCreateIn(serializers.Serializer[None]):
    category = serializers.ChoiceField(choices=Category.choices)
    priority = serializers.IntegerField(min_value=1, max_value=3)
    location = LocationIn()
    address = StrictCharField(max_length=200)
    description = StrictCharField(max_length=2000, required=False, allow_blank=True)
    caller_name = StrictCharField(max_length=50, required=False, allow_blank=True)
    caller_phone = StrictRegexField(
        r"^[0-9+\-() ]*$",
        max_length=20,
        required=False,
        allow_blank=True,
        error_messages={"invalid": _("Digits, spaces and + - ( ) only.")},
    )


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
    summary = serializers.CharField()
    transfer_station = RefOut(allow_null=True)
    transfer_reason = serializers.CharField()
    handed_over_at = serializers.DateTimeField(allow_null=True)
    transfer_received_at = serializers.DateTimeField(allow_null=True)
    transfer_received_by = serializers.CharField(
        source="transfer_received_by.username", allow_null=True, default=None
    )
    cancel_reason = serializers.CharField()


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


class IncidentDetailOut(IncidentOut):
    events = EventOut(many=True, source="timeline")


class RecommendationOut(serializers.Serializer[Recommendation]):
    unit = serializers.IntegerField(source="unit.pk")
    callsign = serializers.CharField(source="unit.callsign")
    eta_s = serializers.IntegerField()
    distance_m = serializers.IntegerField()
    position_source = serializers.ChoiceField(choices=["position", "staging_point"])
    position_age_s = serializers.IntegerField(allow_null=True)


class IntakeOut(IncidentOut):
    recommendations = RecommendationOut(many=True)
