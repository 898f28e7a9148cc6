"""The roll-ups count the arrivals with the shorter (priority-zone, 3-minute) target apart (issue 15),
so that the report can print the 3- and 5-minute arrival shares of any period.

Rows rolled up before this migration lack those counts: their days would report a 3-minute share
of 0. They are dropped with their StatsDay markers, which leaves those days "not rolled up": the
figures read the incidents until the next roll-up (beat: the last 8 days; older days with
``manage.py stats_rollup --start … --end …``). The roll-ups are a cache of the incidents, so
nothing is lost, and going back needs nothing.
"""

from django.db import migrations, models


def drop_old_rollups(apps, schema_editor):
    db = schema_editor.connection.alias
    apps.get_model("stats", "DailyStats").objects.using(db).all().delete()
    apps.get_model("stats", "StatsDay").objects.using(db).all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="dailystats",
            name="arrival_zone_due",
            field=models.PositiveIntegerField(
                default=0, verbose_name="priority-zone arrival target due"
            ),
        ),
        migrations.AddField(
            model_name="dailystats",
            name="arrival_zone_met",
            field=models.PositiveIntegerField(
                default=0, verbose_name="arrived within the priority-zone target"
            ),
        ),
        migrations.AddConstraint(
            model_name="dailystats",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("arrival_zone_due__lte", models.F("arrival_due")),
                    ("arrival_zone_met__lte", models.F("arrival_met")),
                    ("arrival_zone_met__lte", models.F("arrival_zone_due")),
                ),
                name="dailystats_arrival_zone_within_arrival",
            ),
        ),
        migrations.RunPython(drop_old_rollups, migrations.RunPython.noop),
    ]
