"""Tables of the statistics service: daily aggregates and the record of which days are rolled up.

See apps/stats/selectors.py for the design. The tables keep their names from the time they
belonged to the incidents app (apps/stats/migrations/0001_initial.py).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from apps.incidents.models import Category

__all__ = ["HIST_EDGES_S", "INTERVAL_COLUMNS", "DailyStats", "StatsDay", "hist_columns"]

# Lower edges (seconds) of the histogram buckets of every response interval; the last bucket is
# open-ended. The 60/180/300-second targets are edges, so target shares are exact in any case.
HIST_EDGES_S: tuple[int, ...] = (
    0, 15, 30, 45, 60, 90, 120, 150, 180, 240, 300, 360, 480, 600,
    900, 1200, 1800, 2700, 3600, 5400, 7200, 14400,
)  # fmt: skip

# Response interval (see stats.INTERVALS) → column prefix in DailyStats.
INTERVAL_COLUMNS: dict[str, str] = {
    "intake_to_dispatch": "disp",
    "dispatch_to_acknowledge": "ack",
    "dispatch_to_arrival": "arr",
    "arrival_to_close": "close",
}


def hist_columns(prefix: str) -> list[str]:
    return [f"{prefix}_h{i:02d}" for i in range(len(HIST_EDGES_S))]


class StatsDay(models.Model):
    """A day (Asia/Shanghai) whose DailyStats rows were recomputed at ``rolled_at``.

    The rollup locks this row, so two rollups of the same day never interleave. A day counts as
    aggregated for the summary only if it was rolled up after it ended.
    """

    day = models.DateField(_("day"), primary_key=True)
    rolled_at = models.DateTimeField(_("rolled up at"))
    incidents = models.PositiveIntegerField(_("incidents"), default=0)

    class Meta:
        db_table = "incidents_statsday"
        verbose_name = _("statistics day")
        verbose_name_plural = _("statistics days")
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day}"


class DailyStats(models.Model):
    """Counts and interval histograms of the incidents received on one day, per
    (category, station, staging point, unit, shift). Rebuilt as a whole day by stats_rollup_day.

    Histogram columns (added below): ``<prefix>_n`` incidents having the interval and
    ``<prefix>_hNN`` those whose interval falls in bucket NN (see HIST_EDGES_S).
    """

    day = models.DateField(_("day"))
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    station = models.ForeignKey(
        "units.Station",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("police station"),
    )
    staging_point = models.ForeignKey(
        "units.StagingPoint",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staging point"),
    )
    unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("unit"),
    )
    shift = models.PositiveSmallIntegerField(_("shift"))
    total = models.PositiveIntegerField(_("total"), default=0)
    cancelled = models.PositiveIntegerField(_("cancelled"), default=0)
    transferred = models.PositiveIntegerField(_("transferred"), default=0)
    resolved_on_scene = models.PositiveIntegerField(_("resolved on scene"), default=0)
    escalations = models.PositiveIntegerField(_("escalations"), default=0)
    breaches = models.PositiveIntegerField(_("arrival breaches"), default=0)
    ack_due = models.PositiveIntegerField(_("acknowledge target due"), default=0)
    ack_met = models.PositiveIntegerField(_("acknowledged within target"), default=0)
    arrival_due = models.PositiveIntegerField(_("arrival target due"), default=0)
    arrival_met = models.PositiveIntegerField(_("arrived within target"), default=0)
    # The part of arrival_due / arrival_met with the shorter target (TARGET_ARRIVAL_PRIORITY_ZONE_S:
    # a priority-zone cell or a SHORT_ARRIVAL_PRIORITIES priority); the rest had TARGET_ARRIVAL_S.
    # The report prints the two shares apart ("3分钟到达率 (重点区域)", "5分钟到达率").
    arrival_zone_due = models.PositiveIntegerField(_("priority-zone arrival target due"), default=0)
    arrival_zone_met = models.PositiveIntegerField(
        _("arrived within the priority-zone target"), default=0
    )

    class Meta:
        db_table = "incidents_dailystats"
        verbose_name = _("daily statistics")
        verbose_name_plural = _("daily statistics")
        indexes = [
            # summary over a period (and rollup's delete of a day)
            models.Index(fields=["day", "category"], name="dailystats_day_category"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(arrival_zone_due__lte=F("arrival_due"))
                & Q(arrival_zone_met__lte=F("arrival_met"))
                & Q(arrival_zone_met__lte=F("arrival_zone_due")),
                name="dailystats_arrival_zone_within_arrival",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.category} {self.unit_id}/{self.shift}"


COUNT_COLUMNS: tuple[str, ...] = (
    "total",
    "cancelled",
    "transferred",
    "resolved_on_scene",
    "escalations",
    "breaches",
    "ack_due",
    "ack_met",
    "arrival_due",
    "arrival_met",
    "arrival_zone_due",
    "arrival_zone_met",
)

for _prefix in INTERVAL_COLUMNS.values():
    DailyStats.add_to_class(f"{_prefix}_n", models.PositiveIntegerField(default=0))
    for _col in hist_columns(_prefix):
        DailyStats.add_to_class(_col, models.PositiveIntegerField(default=0))
