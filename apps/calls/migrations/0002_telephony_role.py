"""The `telephony` role (the telephony link's service account) and the command centre's view of
calls (apps.common.roles.ROLE_PERMISSIONS)."""

from django.db import migrations


def sync_roles(apps, schema_editor):
    from apps.common.roles import roles_sync

    roles_sync(apps=apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0001_initial"),
        ("common", "0002_roles"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
