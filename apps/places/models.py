"""The gazetteer (地名地址库): named places a dispatcher types to locate a call.

A place is a point (WGS-84 lat/lon columns, as in apps.units) with an optional line for roads.
Its search keys are computed once, when it is written (services.place_keys): the normalised
simplified-Chinese name and aliases, their pinyin initials and full pinyin. `Place.search_keys`
holds them whole for the ranking in Python; `PlaceKey` rows hold their suffixes for the SQL
pre-filter, a prefix index that finds a substring anywhere in a name without trigrams (works the
same on PostgreSQL and SQLite).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djgeojson.fields import LineStringField

# Longest stored suffix; longer query fragments are matched on their first KEY_MAX characters in
# SQL and in full by the ranking.
KEY_MAX = 24


class PlaceKind(models.TextChoices):
    ROAD = "road", _("Road")
    INTERSECTION = "intersection", _("Intersection")
    BUILDING = "building", _("Building")
    POI = "poi", _("Point of interest")
    COMMUNITY = "community", _("Residential community")
    LANDMARK = "landmark", _("Landmark")


class Place(models.Model):
    name = models.CharField(_("name"), max_length=100)
    aliases = models.JSONField(_("aliases"), default=list, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=PlaceKind.choices)
    address = models.CharField(_("address"), max_length=200, blank=True)
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    line = LineStringField(_("line"), null=True, blank=True)
    demo = models.BooleanField(
        _("demo data"),
        default=False,
        help_text=_("Demo data: the position is plausible, not surveyed."),
    )
    # The import's natural key: "code:<code>" when the file gives a code, else the kind, the
    # normalised name and the position rounded to 4 decimals (≈ 10 m). See services.place_key.
    key = models.CharField(_("import key"), max_length=200, unique=True)
    # Normalised names, aliases, pinyin initials and full pinyin (services.place_keys), whole,
    # for the ranking; never filtered on in SQL (PlaceKey is).
    search_keys = models.JSONField(default=list, editable=False)

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(lat__gte=-90, lat__lte=90, lon__gte=-180, lon__lte=180),
                name="place_latlon_range",
            ),
            models.CheckConstraint(condition=Q(kind__in=PlaceKind.values), name="place_kind_valid"),
        ]
        indexes = [
            # reverse lookup (selectors.places_near): places in a bounding box around a point;
            # place_search's matches near a point (the id makes it an index-only scan there)
            models.Index(fields=["lat", "lon", "id"], name="place_latlon"),
        ]

    def __str__(self) -> str:
        return self.name


class PlaceKey(models.Model):
    """A suffix of one of a place's search keys (selectors.place_search's SQL pre-filter).

    A query fragment is a substring of a key exactly when it is a prefix of one of the key's
    suffixes, so `key LIKE 'fragment%'` on an ordinary index finds it. `start` marks the whole
    key (the suffix at position 0): prefix matches of a name come from those rows first.
    """

    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="keys")
    key = models.CharField(max_length=KEY_MAX)
    start = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("search key")
        verbose_name_plural = _("search keys")
        indexes = [
            # place_search: exact keys, fragment probes and fragment candidates (key LIKE 'f%';
            # the pattern operator class lets PostgreSQL use it whatever the database collation,
            # SQLite compares the range key >= 'f' AND key < 'g' on it). place_id is in the
            # index so that the candidates are read from it alone (an index-only scan).
            models.Index(
                fields=["key", "place"],
                opclasses=["varchar_pattern_ops", "int8_ops"],
                name="placekey_key",
            ),
            # place_search: names and aliases that start with the query (start AND key LIKE 'q%'),
            # and the substrings inside them (NOT start AND key LIKE 'q%')
            models.Index(
                fields=["start", "key", "place"],
                opclasses=["bool_ops", "varchar_pattern_ops", "int8_ops"],
                name="placekey_start_key",
            ),
        ]

    def __str__(self) -> str:
        return self.key
