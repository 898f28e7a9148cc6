"""The competencies a mentee is signed off on (传帮带), as data HR can change."""

from django.db import migrations

COMPETENCIES = [
    ("call_taking", "接警流程", True),
    ("duties", "职责规范", False),
    ("equipment", "设备应用", False),
    ("on_scene", "现场处置", False),
]


def add(apps, schema_editor):
    Competency = apps.get_model("training", "Competency")
    for code, name, required in COMPETENCIES:
        Competency.objects.get_or_create(
            code=code, defaults={"name": name, "required_for_call_taking": required}
        )


def remove(apps, schema_editor):
    Competency = apps.get_model("training", "Competency")
    Competency.objects.filter(code__in=[c for c, _, _ in COMPETENCIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("training", "0001_initial")]
    operations = [migrations.RunPython(add, remove)]
