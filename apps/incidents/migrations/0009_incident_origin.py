import django.db.models
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0008_incident_assignments"),
    ]

    operations = [
        migrations.AddField(
            model_name="incident",
            name="origin",
            field=models.CharField(
                choices=[("call", "110 call (接警)"), ("patrol", "Raised on patrol (以巡待接)")],
                default="call",
                db_default="call",
                max_length=8,
                verbose_name="origin",
            ),
        ),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(
                condition=django.db.models.Q(("origin", "patrol")),
                fields=["received_at"],
                name="incident_patrol_time",
            ),
        ),
    ]
