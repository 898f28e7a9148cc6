from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles_after_migrate(using: str = "default", **kwargs: Any) -> None:
    """Keep the role groups complete after every migrate (and every test flush, which emits
    post_migrate too): a model added by a later migration gets its role permissions at once,
    as create_permissions gives it its permissions."""
    from .roles import roles_sync  # roles.py imports models: not while the apps load

    roles_sync(using=using)


class CommonConfig(AppConfig):
    name = "apps.common"
    label = "common"
    verbose_name = _("Common")

    def ready(self) -> None:
        # Once per migrate run (sender=self); roles_sync creates every app's permissions first.
        post_migrate.connect(
            _sync_roles_after_migrate, sender=self, dispatch_uid="common.sync_roles"
        )
