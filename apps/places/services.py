"""Writes of the gazetteer: places created or updated with their search keys.

The search keys (text.search_keys) and the suffix rows of the SQL pre-filter (text.key_suffixes)
are computed here, on write, so a search never computes pinyin or folds characters per row.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .models import Place, PlaceKey, PlaceKind
from .text import key_suffixes, normalise, search_keys

NAME_MAX = 100
ADDRESS_MAX = 200
CODE_MAX = 64


@dataclass(frozen=True)
class PlaceData:
    """A place as an import row, the demo city or a form gives it (WGS-84)."""

    name: str
    kind: str
    lat: float
    lon: float
    address: str = ""
    aliases: tuple[str, ...] = ()
    line: dict[str, Any] | None = None
    code: str = ""
    demo: bool = False


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    places: list[Place] = field(default_factory=list)


def place_key(*, name: str, kind: str, lat: float, lon: float, code: str = "") -> str:
    """The natural key of a place: its code when it has one, else kind, normalised name and
    position rounded to 4 decimals (≈ 10 m). Re-importing a file finds its places again; a place
    that moves further than that without a code is a new place (give it a code)."""
    if code:
        return f"code:{code}"
    return f"{kind}|{normalise(name)}|{lat:.4f}|{lon:.4f}"


def place_errors(data: PlaceData) -> dict[str, str]:
    """What is wrong with a place, per field (empty when it may be written)."""
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = _("This field is required.")
    elif len(data.name) > NAME_MAX:
        errors["name"] = _("At most %(n)d characters.") % {"n": NAME_MAX}
    elif not normalise(data.name):
        errors["name"] = _("The name has no letters or digits.")
    if data.kind not in PlaceKind.values:
        errors["kind"] = _("Unknown kind: %(value)s") % {"value": data.kind}
    if not (math.isfinite(data.lat) and -90 <= data.lat <= 90):
        errors["lat"] = _("Out of range: %(value)s") % {"value": data.lat}
    if not (math.isfinite(data.lon) and -180 <= data.lon <= 180):
        errors["lon"] = _("Out of range: %(value)s") % {"value": data.lon}
    if len(data.address) > ADDRESS_MAX:
        errors["address"] = _("At most %(n)d characters.") % {"n": ADDRESS_MAX}
    if len(data.code) > CODE_MAX:
        errors["code"] = _("At most %(n)d characters.") % {"n": CODE_MAX}
    if any(len(a) > NAME_MAX for a in data.aliases):
        errors["aliases"] = _("At most %(n)d characters.") % {"n": NAME_MAX}
    return errors


def _values(data: PlaceData) -> dict[str, Any]:
    aliases = [a.strip() for a in data.aliases if a.strip()]
    return {
        "name": data.name.strip(),
        "aliases": aliases,
        "kind": data.kind,
        "address": data.address.strip(),
        "lat": data.lat,
        "lon": data.lon,
        "line": data.line,
        "demo": data.demo,
        "search_keys": search_keys(data.name, aliases),
    }


def _key_rows(places: Iterable[Place]) -> list[PlaceKey]:
    return [
        PlaceKey(place=place, key=key, start=start)
        for place in places
        for key, start in sorted(key_suffixes(place.name, list(place.aliases)))
    ]


def places_upsert(*, places: Sequence[PlaceData], batch_size: int = 2000) -> UpsertCounts:
    """Create the places whose key is new, update those whose values differ, leave the rest.

    One transaction; the existing rows of the batch are locked (select_for_update), so two
    writers of the same place do not lose each other's update; two creating the same new place
    meet the unique key (the second fails and writes nothing). A place given twice: the last wins.
    Raises ValidationError (per field) for a place place_errors refuses.
    """
    wanted: dict[str, PlaceData] = {}
    for data in places:
        errors = place_errors(data)
        if errors:
            raise ValidationError(errors)
        key = place_key(name=data.name, kind=data.kind, lat=data.lat, lon=data.lon, code=data.code)
        wanted[key] = data
    counts = UpsertCounts()
    with transaction.atomic():
        existing = {
            p.key: p
            for p in Place.objects.select_for_update().filter(key__in=list(wanted)).order_by("pk")
        }
        new: list[Place] = []
        changed: list[Place] = []
        for key, data in wanted.items():
            values = _values(data)
            place = existing.get(key)
            if place is None:
                new.append(Place(key=key, **values))
                continue
            diff = [k for k, v in values.items() if getattr(place, k) != v]
            if diff:
                for k in diff:
                    setattr(place, k, values[k])
                changed.append(place)
            else:
                counts.unchanged += 1
            counts.places.append(place)
        Place.objects.bulk_create(new, batch_size=batch_size)
        if changed:
            Place.objects.bulk_update(
                changed, [*_values(wanted[changed[0].key])], batch_size=batch_size
            )
            PlaceKey.objects.filter(place__in=changed).delete()
        PlaceKey.objects.bulk_create(_key_rows([*new, *changed]), batch_size=batch_size * 10)
    counts.created, counts.updated = len(new), len(changed)
    counts.places.extend(new)
    return counts


def place_save(*, place: Place) -> Place:
    """Save a place edited in the admin: its import key (when new), search keys and suffix rows
    follow its name, aliases, kind and position. Locks nothing beyond the row it writes."""
    data = PlaceData(
        name=place.name,
        kind=place.kind,
        lat=place.lat,
        lon=place.lon,
        address=place.address,
        aliases=tuple(str(a) for a in place.aliases or ()),
        line=place.line,
        demo=place.demo,
    )
    errors = place_errors(data)
    if errors:
        raise ValidationError(errors)
    for name, value in _values(data).items():
        setattr(place, name, value)
    if not place.key:
        place.key = place_key(name=place.name, kind=place.kind, lat=place.lat, lon=place.lon)
    with transaction.atomic():
        place.save()
        PlaceKey.objects.filter(place=place).delete()
        PlaceKey.objects.bulk_create(_key_rows([place]))
    return place
