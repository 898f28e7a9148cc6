"""Validators and serializer fields every API shares."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy
from rest_framework import serializers


def finite(value: float) -> None:
    """Refuse NaN and ±Infinity (JSON parsers accept them; PostgreSQL and the ranking do not)."""
    if not math.isfinite(value):
        raise serializers.ValidationError(gettext_lazy("A finite number is required."))


class StrictFloatField(serializers.FloatField):
    """A JSON number only. DRF's FloatField takes `true` as 1.0 and `"22.7"` as 22.7: a phone
    sending the wrong type would be stored at a made-up place instead of being told."""

    default_error_messages: ClassVar[dict[str, Any]] = {
        "not_a_number": gettext_lazy("A JSON number is required.")
    }

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("not_a_number")
        return super().to_internal_value(data)


class _TextOnly:
    """Refuses anything but a JSON string (DRF's CharField turns 12 into "12")."""

    default_error_messages: ClassVar[dict[str, Any]] = {
        "not_a_string": gettext_lazy("A JSON string is required.")
    }

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")  # type: ignore[attr-defined]
        value: str = super().to_internal_value(data)  # type: ignore[misc]
        return value


class StrictCharField(_TextOnly, serializers.CharField):
    """A CharField that takes a JSON string only."""


class StrictRegexField(_TextOnly, serializers.RegexField):
    """A RegexField that takes a JSON string only."""


# The characters of a caller's phone number, as typed or as the telephony link sends it.
_PHONE_CHARS = r"[0-9+\-() ]"


def phone_field(*, required: bool = False) -> StrictRegexField:
    """Digits, spaces and + - ( ), at most 20 characters; blank allowed unless `required`."""
    return StrictRegexField(
        rf"^{_PHONE_CHARS}{'+' if required else '*'}$",
        max_length=20,
        required=required,
        allow_blank=not required,
        # Lazy: translated for each request's language, not once at import.
        error_messages={"invalid": gettext_lazy("Digits, spaces and + - ( ) only.")},
    )


class LocationIn(serializers.Serializer[None]):
    """A WGS-84 point in a JSON body: numbers only, in range, finite."""

    lat = StrictFloatField(min_value=-90, max_value=90, validators=[finite])
    lon = StrictFloatField(min_value=-180, max_value=180, validators=[finite])


class PointQuery(serializers.Serializer[None]):
    """A WGS-84 point in a query string (`?lat=…&lon=…`): in range, finite."""

    lat = serializers.FloatField(min_value=-90, max_value=90, validators=[finite])
    lon = serializers.FloatField(min_value=-180, max_value=180, validators=[finite])
