"""Keyed timeline chains (an HMAC key id per event) and TRUNCATE refused on the timeline.

A statement trigger refuses TRUNCATE on PostgreSQL (row triggers do not see it). Sessions that
set `cad.allow_truncate = on` may truncate: only the test settings do, for the test runner's
flush between tests.
"""

from django.db import migrations, models

CREATE = """
CREATE OR REPLACE FUNCTION incidents_event_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('cad.allow_truncate', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'incidents_event is append-only: TRUNCATE refused'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS incidents_event_no_truncate ON incidents_event;
CREATE TRIGGER incidents_event_no_truncate
    BEFORE TRUNCATE ON incidents_event
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_event_refuse_truncate();
"""

DROP = """
DROP TRIGGER IF EXISTS incidents_event_no_truncate ON incidents_event;
DROP FUNCTION IF EXISTS incidents_event_refuse_truncate();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0005_stats_tables_moved_to_stats"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="key_id",
            field=models.CharField(blank=True, default="", max_length=16, verbose_name="key"),
        ),
        migrations.RunPython(forwards, backwards),
    ]
