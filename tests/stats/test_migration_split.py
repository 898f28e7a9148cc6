"""The statistics tables moved from the incidents app to the stats app (issue 11) without losing a
row: a database migrated on the old layout, with data in it, migrated on to the new one."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from apps.incidents.models import Category
from apps.stats.models import DailyStats

# The last migrations of the layout before the split, for the apps the split touches.
OLD_LAYOUT = [("incidents", "0004_alert_deadline"), ("stats", None)]
# The split itself (later stats migrations rework the rows: test_rollup_columns.py).
SPLIT = [("stats", "0001_initial")]


def _migrate(targets: list[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


def _leaves() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_rows_of_the_old_layout_survive_the_move_to_the_stats_app() -> None:
    old = _migrate(OLD_LAYOUT)
    old_apps = old.loader.project_state(OLD_LAYOUT[:1]).apps
    # In the old layout the models belong to the incidents app.
    OldStatsDay = old_apps.get_model("incidents", "StatsDay")
    OldDailyStats = old_apps.get_model("incidents", "DailyStats")
    assert not any(m._meta.app_label == "stats" for m in old_apps.get_models())
    OldStatsDay.objects.create(day=date(2026, 3, 1), rolled_at=timezone.now(), incidents=7)
    OldDailyStats.objects.create(
        day=date(2026, 3, 1), category=Category.DISPUTE, shift=2, total=7, ack_met=5, ack_n=6
    )
    old_type = ContentType.objects.filter(app_label="incidents", model="dailystats").first()
    assert old_type is not None, "the old layout's content type is there (with its permissions)"
    permissions = set(Permission.objects.filter(content_type=old_type).values_list("codename"))

    split = _migrate(SPLIT)
    split_apps = split.loader.project_state(SPLIT).apps
    SplitStatsDay = split_apps.get_model("stats", "StatsDay")
    SplitDailyStats = split_apps.get_model("stats", "DailyStats")

    assert SplitStatsDay.objects.get(day=date(2026, 3, 1)).incidents == 7
    row = SplitDailyStats.objects.get(day=date(2026, 3, 1))
    assert (row.category, row.shift, row.total, row.ack_met, row.ack_n) == ("dispute", 2, 7, 5, 6)
    assert DailyStats._meta.db_table == "incidents_dailystats"
    moved = ContentType.objects.get_for_model(DailyStats)
    assert moved.pk == old_type.pk and moved.app_label == "stats"
    assert set(Permission.objects.filter(content_type=moved).values_list("codename")) == (
        permissions
    )
    assert not ContentType.objects.filter(app_label="incidents", model="dailystats").exists()
    _migrate(_leaves())  # the schema the other tests expect
