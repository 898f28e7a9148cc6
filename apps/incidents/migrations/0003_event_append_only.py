"""On PostgreSQL, refuse UPDATE and DELETE on the event timeline (append-only, even for admins).

SQLite has no such trigger here; the hash chain still makes edits detectable there
(`manage.py verify_timeline`).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION incidents_event_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'incidents_event is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS incidents_event_append_only ON incidents_event;
CREATE TRIGGER incidents_event_append_only
    BEFORE UPDATE OR DELETE ON incidents_event
    FOR EACH ROW EXECUTE FUNCTION incidents_event_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS incidents_event_append_only ON incidents_event;
DROP FUNCTION IF EXISTS incidents_event_refuse_change();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0002_initial"),
        ("incidents", "0002_stats_tables"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
