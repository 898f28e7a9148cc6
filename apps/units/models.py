"""Where the force stands: police stations, staging points (屯警点), grid cells and patrol units.

Points are latitude/longitude columns (WGS-84) so that both SQLite and PostgreSQL answer
bounding-box queries; areas are GeoJSON polygons with a stored bounding box as the SQL pre-filter.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djgeojson.fields import PolygonField

from apps.common.geo import BBox, rectangle


def _lat_ok(field: str) -> Q:
    return Q(**{f"{field}__gte": -90, f"{field}__lte": 90})


def _lon_ok(field: str) -> Q:
    return Q(**{f"{field}__gte": -180, f"{field}__lte": 180})


class BBoxMixin(models.Model):
    min_lat = models.FloatField(_("south"), editable=False, default=0)
    min_lon = models.FloatField(_("west"), editable=False, default=0)
    max_lat = models.FloatField(_("north"), editable=False, default=0)
    max_lon = models.FloatField(_("east"), editable=False, default=0)

    class Meta:
        abstract = True

    @property
    def bbox(self) -> BBox:
        return BBox(self.min_lat, self.min_lon, self.max_lat, self.max_lon)


class Station(BBoxMixin):
    """A police station (派出所) and its jurisdiction. Transferred incidents go to a station."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.SlugField(_("code"), max_length=32, unique=True)
    phone = models.CharField(_("duty phone"), max_length=32, blank=True)
    jurisdiction = PolygonField(_("jurisdiction"))

    class Meta:
        verbose_name = _("police station")
        verbose_name_plural = _("police stations")
        ordering = ["code"]
        indexes = [
            # jurisdiction lookup: stations whose bounding box contains a point
            models.Index(fields=["min_lat", "max_lat", "min_lon", "max_lon"], name="station_bbox"),
        ]

    def __str__(self) -> str:
        return self.name


class StagingPoint(models.Model):
    """A staging point (屯警点): the post of one patrol unit and the centre of its grid cells."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.SlugField(_("code"), max_length=32, unique=True)
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    station = models.ForeignKey(
        Station,
        on_delete=models.PROTECT,
        related_name="staging_points",
        verbose_name=_("police station"),
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    approximate = models.BooleanField(
        _("approximate position"),
        default=False,
        help_text=_("Demo data: the position is plausible, not surveyed."),
    )

    class Meta:
        verbose_name = _("staging point")
        verbose_name_plural = _("staging points")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=_lat_ok("lat") & _lon_ok("lon"), name="stagingpoint_latlon_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class GridCell(BBoxMixin):
    """A cell of the patrol grid (网格), assigned to one staging point.

    Cells are rectangles in latitude/longitude; their bounds are the cell's geometry.
    """

    code = models.CharField(_("code"), max_length=32, unique=True)
    row = models.PositiveSmallIntegerField(_("row"))
    col = models.PositiveSmallIntegerField(_("column"))
    staging_point = models.ForeignKey(
        StagingPoint,
        on_delete=models.PROTECT,
        related_name="cells",
        verbose_name=_("staging point"),
    )
    priority_zone = models.BooleanField(
        _("priority zone"),
        default=False,
        help_text=_("Key area: the arrival target is the shorter (3-minute) one."),
    )

    class Meta:
        verbose_name = _("grid cell")
        verbose_name_plural = _("grid cells")
        ordering = ["row", "col"]
        constraints = [
            models.UniqueConstraint(fields=["row", "col"], name="gridcell_row_col_uniq"),
            models.CheckConstraint(
                condition=Q(min_lat__lt=models.F("max_lat")) & Q(min_lon__lt=models.F("max_lon")),
                name="gridcell_bounds_ordered",
            ),
        ]
        indexes = [
            # cell lookup at intake: the cell whose bounds contain the incident's location
            models.Index(fields=["min_lat", "max_lat", "min_lon", "max_lon"], name="gridcell_bbox"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def geometry(self) -> dict[str, Any]:
        return rectangle(self.min_lat, self.min_lon, self.max_lat, self.max_lon)


class UnitStatus(models.TextChoices):
    AVAILABLE = "available", _("Available (at post)")
    PATROLLING = "patrolling", _("Patrolling")
    DISPATCHED = "dispatched", _("Dispatched")
    EN_ROUTE = "en_route", _("En route")
    ON_SCENE = "on_scene", _("On scene")
    OUT_OF_SERVICE = "out_of_service", _("Out of service")


# Statuses in which a unit can take a new call.
UNIT_FREE_STATUSES = (UnitStatus.AVAILABLE, UnitStatus.PATROLLING)
# Statuses of a unit that owns an incident.
UNIT_BUSY_STATUSES = (UnitStatus.DISPATCHED, UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE)


class UnitKind(models.TextChoices):
    PATROL = "patrol", _("Patrol unit (巡逻车组)")
    SQUAD = "squad", _("Elite squad group (尖刀队)")


class Unit(models.Model):
    """A dispatchable unit: a patrol car and its crew posted at a staging point (the nearest
    one answers each call), or a group of the elite squad (尖刀队) with its vehicle, sent
    deliberately (security, emergencies, backup) and ranked apart. A patrol unit's crew are the
    people posted to its staging point; a squad's, the people posted to the squad itself
    (personnel.Assignment.unit); its staging point is its base."""

    callsign = models.CharField(_("call sign"), max_length=32, unique=True)
    kind = models.CharField(
        _("kind"),
        max_length=8,
        choices=UnitKind.choices,
        default=UnitKind.PATROL,
        db_default="patrol",
    )
    plate = models.CharField(_("plate"), max_length=16, blank=True)
    staging_point = models.ForeignKey(
        StagingPoint,
        on_delete=models.PROTECT,
        related_name="units",
        verbose_name=_("staging point"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=UnitStatus.choices, default=UnitStatus.AVAILABLE
    )
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    # From when the unit exists: its street presence is never counted before (stats). Units from
    # before this column got the migration's time, their status records reaching further back.
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    # The incident this unit works, as its primary ("who handles is responsible") or as a backup;
    # at most one at a time.
    current_incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="working_units",
        verbose_name=_("current incident"),
    )
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    position_accuracy_m = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    position_at = models.DateTimeField(_("position time"), null=True, blank=True)

    class Meta:
        verbose_name = _("patrol unit")
        verbose_name_plural = _("patrol units")
        ordering = ["callsign"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(lat__isnull=True) & Q(lon__isnull=True) & Q(position_at__isnull=True))
                | (
                    Q(lat__isnull=False)
                    & Q(lon__isnull=False)
                    & Q(position_at__isnull=False)
                    & _lat_ok("lat")
                    & _lon_ok("lon")
                ),
                name="unit_position_complete",
            ),
            # A unit is busy exactly when it owns an incident.
            models.CheckConstraint(
                condition=(
                    Q(current_incident__isnull=True)
                    & Q(status__in=[*UNIT_FREE_STATUSES, UnitStatus.OUT_OF_SERVICE])
                )
                | (Q(current_incident__isnull=False) & Q(status__in=UNIT_BUSY_STATUSES)),
                name="unit_busy_iff_incident",
            ),
        ]
        indexes = [
            # recommendation: free units; command map: units in a bounding box
            models.Index(fields=["status"], name="unit_status"),
            models.Index(fields=["lat", "lon"], name="unit_latlon"),
        ]

    def __str__(self) -> str:
        return self.callsign


class PositionFix(models.Model):
    """A breadcrumb of a unit's track (bounded per unit by the position service)."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="fixes")
    lat = models.FloatField()
    lon = models.FloatField()
    accuracy_m = models.FloatField(null=True, blank=True)
    recorded_at = models.DateTimeField()
    received_at = models.DateTimeField()

    class Meta:
        verbose_name = _("position fix")
        verbose_name_plural = _("position fixes")
        indexes = [
            # a unit's recent track, newest first; trimming the oldest
            models.Index(fields=["unit", "-recorded_at"], name="positionfix_unit_time"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.recorded_at:%H:%M:%S} {self.lat:.5f},{self.lon:.5f}"


class StationDuty(models.Model):
    """Links a login account to a police station it acts for (station users, 派出所值班).

    A station user confirms the receipt of incidents transferred to a station they are linked to
    (the formal hand-off receipt). A plain link rather than a personnel Assignment: station staff
    are not part of the patrol roster, and one account may serve more than one station.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="station_duties",
        verbose_name=_("user"),
    )
    station = models.ForeignKey(
        Station,
        on_delete=models.CASCADE,
        related_name="duties",
        verbose_name=_("police station"),
    )

    class Meta:
        verbose_name = _("station duty")
        verbose_name_plural = _("station duties")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "station"], name="stationduty_user_station_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.station}"
