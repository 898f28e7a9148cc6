"""The statistics tables move here from the incidents app (issue 11). The tables keep their names
and rows: only Django's state changes (the incidents app's 0005 drops them from its state), and the
content types (hence the role permissions) follow the models.
"""

import django.db.models.deletion
from django.db import migrations, models


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in ("statsday", "dailystats"):
        old = ContentType.objects.using(db).filter(app_label="incidents", model=model).first()
        if old is None:
            continue
        if ContentType.objects.using(db).filter(app_label="stats", model=model).exists():
            continue
        old.app_label = "stats"
        old.save(update_fields=["app_label"])


def restore_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    ContentType.objects.using(db).filter(
        app_label="stats", model__in=["statsday", "dailystats"]
    ).update(app_label="incidents")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("incidents", "0005_stats_tables_moved_to_stats"),
        ("units", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='StatsDay',
                    fields=[
                        ('day', models.DateField(primary_key=True, serialize=False, verbose_name='day')),
                        ('rolled_at', models.DateTimeField(verbose_name='rolled up at')),
                        ('incidents', models.PositiveIntegerField(default=0, verbose_name='incidents')),
                    ],
                    options={
                        'db_table': 'incidents_statsday',
                        'verbose_name': 'statistics day',
                        'verbose_name_plural': 'statistics days',
                        'ordering': ['-day'],
                    },
                ),
                migrations.CreateModel(
                    name='DailyStats',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('day', models.DateField(verbose_name='day')),
                        ('category', models.CharField(choices=[('criminal', 'Criminal (刑事)'), ('public_order', 'Public order (治安)'), ('dispute', 'Dispute (纠纷)'), ('assistance', 'Assistance (救助)'), ('other', 'Other (其它)')], max_length=16, verbose_name='category')),
                        ('shift', models.PositiveSmallIntegerField(verbose_name='shift')),
                        ('total', models.PositiveIntegerField(default=0, verbose_name='total')),
                        ('cancelled', models.PositiveIntegerField(default=0, verbose_name='cancelled')),
                        ('transferred', models.PositiveIntegerField(default=0, verbose_name='transferred')),
                        ('resolved_on_scene', models.PositiveIntegerField(default=0, verbose_name='resolved on scene')),
                        ('escalations', models.PositiveIntegerField(default=0, verbose_name='escalations')),
                        ('breaches', models.PositiveIntegerField(default=0, verbose_name='arrival breaches')),
                        ('ack_due', models.PositiveIntegerField(default=0, verbose_name='acknowledge target due')),
                        ('ack_met', models.PositiveIntegerField(default=0, verbose_name='acknowledged within target')),
                        ('arrival_due', models.PositiveIntegerField(default=0, verbose_name='arrival target due')),
                        ('arrival_met', models.PositiveIntegerField(default=0, verbose_name='arrived within target')),
                        ('disp_n', models.PositiveIntegerField(default=0)),
                        ('disp_h00', models.PositiveIntegerField(default=0)),
                        ('disp_h01', models.PositiveIntegerField(default=0)),
                        ('disp_h02', models.PositiveIntegerField(default=0)),
                        ('disp_h03', models.PositiveIntegerField(default=0)),
                        ('disp_h04', models.PositiveIntegerField(default=0)),
                        ('disp_h05', models.PositiveIntegerField(default=0)),
                        ('disp_h06', models.PositiveIntegerField(default=0)),
                        ('disp_h07', models.PositiveIntegerField(default=0)),
                        ('disp_h08', models.PositiveIntegerField(default=0)),
                        ('disp_h09', models.PositiveIntegerField(default=0)),
                        ('disp_h10', models.PositiveIntegerField(default=0)),
                        ('disp_h11', models.PositiveIntegerField(default=0)),
                        ('disp_h12', models.PositiveIntegerField(default=0)),
                        ('disp_h13', models.PositiveIntegerField(default=0)),
                        ('disp_h14', models.PositiveIntegerField(default=0)),
                        ('disp_h15', models.PositiveIntegerField(default=0)),
                        ('disp_h16', models.PositiveIntegerField(default=0)),
                        ('disp_h17', models.PositiveIntegerField(default=0)),
                        ('disp_h18', models.PositiveIntegerField(default=0)),
                        ('disp_h19', models.PositiveIntegerField(default=0)),
                        ('disp_h20', models.PositiveIntegerField(default=0)),
                        ('disp_h21', models.PositiveIntegerField(default=0)),
                        ('ack_n', models.PositiveIntegerField(default=0)),
                        ('ack_h00', models.PositiveIntegerField(default=0)),
                        ('ack_h01', models.PositiveIntegerField(default=0)),
                        ('ack_h02', models.PositiveIntegerField(default=0)),
                        ('ack_h03', models.PositiveIntegerField(default=0)),
                        ('ack_h04', models.PositiveIntegerField(default=0)),
                        ('ack_h05', models.PositiveIntegerField(default=0)),
                        ('ack_h06', models.PositiveIntegerField(default=0)),
                        ('ack_h07', models.PositiveIntegerField(default=0)),
                        ('ack_h08', models.PositiveIntegerField(default=0)),
                        ('ack_h09', models.PositiveIntegerField(default=0)),
                        ('ack_h10', models.PositiveIntegerField(default=0)),
                        ('ack_h11', models.PositiveIntegerField(default=0)),
                        ('ack_h12', models.PositiveIntegerField(default=0)),
                        ('ack_h13', models.PositiveIntegerField(default=0)),
                        ('ack_h14', models.PositiveIntegerField(default=0)),
                        ('ack_h15', models.PositiveIntegerField(default=0)),
                        ('ack_h16', models.PositiveIntegerField(default=0)),
                        ('ack_h17', models.PositiveIntegerField(default=0)),
                        ('ack_h18', models.PositiveIntegerField(default=0)),
                        ('ack_h19', models.PositiveIntegerField(default=0)),
                        ('ack_h20', models.PositiveIntegerField(default=0)),
                        ('ack_h21', models.PositiveIntegerField(default=0)),
                        ('arr_n', models.PositiveIntegerField(default=0)),
                        ('arr_h00', models.PositiveIntegerField(default=0)),
                        ('arr_h01', models.PositiveIntegerField(default=0)),
                        ('arr_h02', models.PositiveIntegerField(default=0)),
                        ('arr_h03', models.PositiveIntegerField(default=0)),
                        ('arr_h04', models.PositiveIntegerField(default=0)),
                        ('arr_h05', models.PositiveIntegerField(default=0)),
                        ('arr_h06', models.PositiveIntegerField(default=0)),
                        ('arr_h07', models.PositiveIntegerField(default=0)),
                        ('arr_h08', models.PositiveIntegerField(default=0)),
                        ('arr_h09', models.PositiveIntegerField(default=0)),
                        ('arr_h10', models.PositiveIntegerField(default=0)),
                        ('arr_h11', models.PositiveIntegerField(default=0)),
                        ('arr_h12', models.PositiveIntegerField(default=0)),
                        ('arr_h13', models.PositiveIntegerField(default=0)),
                        ('arr_h14', models.PositiveIntegerField(default=0)),
                        ('arr_h15', models.PositiveIntegerField(default=0)),
                        ('arr_h16', models.PositiveIntegerField(default=0)),
                        ('arr_h17', models.PositiveIntegerField(default=0)),
                        ('arr_h18', models.PositiveIntegerField(default=0)),
                        ('arr_h19', models.PositiveIntegerField(default=0)),
                        ('arr_h20', models.PositiveIntegerField(default=0)),
                        ('arr_h21', models.PositiveIntegerField(default=0)),
                        ('close_n', models.PositiveIntegerField(default=0)),
                        ('close_h00', models.PositiveIntegerField(default=0)),
                        ('close_h01', models.PositiveIntegerField(default=0)),
                        ('close_h02', models.PositiveIntegerField(default=0)),
                        ('close_h03', models.PositiveIntegerField(default=0)),
                        ('close_h04', models.PositiveIntegerField(default=0)),
                        ('close_h05', models.PositiveIntegerField(default=0)),
                        ('close_h06', models.PositiveIntegerField(default=0)),
                        ('close_h07', models.PositiveIntegerField(default=0)),
                        ('close_h08', models.PositiveIntegerField(default=0)),
                        ('close_h09', models.PositiveIntegerField(default=0)),
                        ('close_h10', models.PositiveIntegerField(default=0)),
                        ('close_h11', models.PositiveIntegerField(default=0)),
                        ('close_h12', models.PositiveIntegerField(default=0)),
                        ('close_h13', models.PositiveIntegerField(default=0)),
                        ('close_h14', models.PositiveIntegerField(default=0)),
                        ('close_h15', models.PositiveIntegerField(default=0)),
                        ('close_h16', models.PositiveIntegerField(default=0)),
                        ('close_h17', models.PositiveIntegerField(default=0)),
                        ('close_h18', models.PositiveIntegerField(default=0)),
                        ('close_h19', models.PositiveIntegerField(default=0)),
                        ('close_h20', models.PositiveIntegerField(default=0)),
                        ('close_h21', models.PositiveIntegerField(default=0)),
                        ('staging_point', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='units.stagingpoint', verbose_name='staging point')),
                        ('station', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='units.station', verbose_name='police station')),
                        ('unit', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='units.unit', verbose_name='unit')),
                    ],
                    options={
                        'db_table': 'incidents_dailystats',
                        'verbose_name': 'daily statistics',
                        'verbose_name_plural': 'daily statistics',
                        'indexes': [models.Index(fields=['day', 'category'], name='dailystats_day_category')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
