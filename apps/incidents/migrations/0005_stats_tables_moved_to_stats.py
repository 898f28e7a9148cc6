"""The statistics tables (StatsDay, DailyStats) now belong to the stats app (issue 11): they leave
this app's state only; the tables and their rows stay where they are (apps/stats/migrations/0001).
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0004_alert_deadline"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="DailyStats"),
                migrations.DeleteModel(name="StatsDay"),
            ],
            database_operations=[],
        ),
    ]
