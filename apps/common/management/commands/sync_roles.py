"""`manage.py sync_roles`: make the role groups match apps.common.roles.ROLE_PERMISSIONS.

Run it after adding models (new models get no role permissions until it runs); it is idempotent
and `load_demo_city` runs it too.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from apps.common.roles import roles_sync


class Command(BaseCommand):
    help = "Create the role groups and set their permissions from the permission matrix."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            counts = roles_sync(verbosity=options["verbosity"])
        for role, count in counts.items():
            self.stdout.write(f"{role}: {count} permissions")
