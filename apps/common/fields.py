"""Validators and serializer fields every API shares."""

from __future__ import annotations

import math

from django.utils.translation import gettext_lazy
from rest_framework import serializers


def finite(value: float) -> None:
    """Refuse NaN and ±Infinity (JSON parsers accept them; PostgreSQL and the ranking do not)."""
    if not math.isfinite(value):
        raise serializers.ValidationError(gettext_lazy("A finite number is required."))
