"""The role groups and their permissions (apps.common.roles.ROLE_PERMISSIONS).

Depends on the latest migrations of the apps whose models the roles are granted, so that their
permissions can be created here. Models added later: run `manage.py sync_roles`.
"""

from django.db import migrations


def create_roles(apps, schema_editor):
    from apps.common.roles import roles_sync

    roles_sync(apps=apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("common", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("units", "0002_station_duty"),
        ("personnel", "0002_assignment_call_taker_assessmentperiod_assessment_and_more"),
        ("incidents", "0003_event_append_only"),
        ("training", "0002_competencies"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
