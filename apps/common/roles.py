"""The roles of the dispatch model, as Django groups, and what each role may do in the admin.

`ROLE_PERMISSIONS` is the permission matrix, as data. `roles_sync()` makes the groups match it;
the data migration `common.0002_roles` calls it once, and the `sync_roles` management command (also
run by `load_demo_city`) calls it again. **When you add a model, add it to the matrix if a role
needs it and run `manage.py sync_roles`** (a migration of yours may also call `roles_sync`): a
group's permissions are set to exactly what the matrix says, so hand-made grants are removed.

Entries are `"app_label.model": actions` for one model, or `"app_label.*": actions` for every model
of an app, present and future (HR's grant of the personnel and training apps). Actions are the
default ones (view, add, change, delete); "*" means every permission, custom ones included.

Unit crews (`unit_officer`, `unit_auxiliary`) have no admin permissions and are never staff: they
use the phone app and the API, whose views check roles with `has_role`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from django.apps import apps as global_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.management import create_permissions
from django.db import DEFAULT_DB_ALIAS


class Role(StrEnum):
    COMMANDER = "commander"
    DISPATCHER = "dispatcher"
    HR = "hr"
    UNIT_OFFICER = "unit_officer"
    UNIT_AUXILIARY = "unit_auxiliary"
    STATION = "station"
    # The telephony link's service account: reports ringing calls (POST /api/calls/), nothing else.
    TELEPHONY = "telephony"


UNIT_CREW_ROLES = frozenset({Role.UNIT_OFFICER, Role.UNIT_AUXILIARY})
OPERATIONS_ROLES = frozenset({Role.COMMANDER, Role.DISPATCHER})
# Roles whose accounts log into the Django admin (is_staff). Unit crews never do.
STAFF_ROLES = frozenset({Role.COMMANDER, Role.DISPATCHER, Role.HR, Role.STATION})

ALL = frozenset({"view", "add", "change", "delete"})
# Every permission, custom ones (Meta.permissions) included.
EVERYTHING = frozenset({"*"})
VIEW = frozenset({"view"})
EDIT = frozenset({"view", "add", "change"})

ROLE_PERMISSIONS: Mapping[Role, Mapping[str, frozenset[str]]] = {
    # Everything operational: the reference data of the grid, the units, the incidents.
    Role.COMMANDER: {
        "units.station": ALL,
        "units.stagingpoint": ALL,
        "units.gridcell": ALL,
        "units.unit": ALL,
        "units.positionfix": VIEW,
        "units.stationduty": ALL,  # which accounts receive a station's transferred incidents
        "places.place": ALL,  # the gazetteer
        "incidents.incident": EDIT,
        "incidents.event": VIEW,  # the timeline is append-only, even for commanders
        "calls.call": VIEW,
        "personnel.person": VIEW,  # who is on which unit; ID numbers stay masked
        "personnel.assignment": VIEW,
        "common.apitoken": frozenset({"view", "change"}),  # revoke a lost phone's tokens
        "common.accesslog": VIEW,  # who saw a caller's phone in full
    },
    # Incidents and the unit board; reference data read-only.
    Role.DISPATCHER: {
        "incidents.incident": EDIT,
        "incidents.event": VIEW,
        "calls.call": VIEW,
        "units.unit": VIEW,
        "units.station": VIEW,
        "units.stagingpoint": VIEW,
        "units.gridcell": VIEW,
        "places.place": VIEW,
    },
    # Personnel, assessment and training; no incidents, no dispatch.
    Role.HR: {
        "personnel.*": EVERYTHING,
        "training.*": EVERYTHING,
    },
    # A station's duty officer: incidents (the incidents admin limits them to their station).
    Role.STATION: {
        "incidents.incident": VIEW,
        "incidents.event": VIEW,
    },
    Role.UNIT_OFFICER: {},
    Role.UNIT_AUXILIARY: {},
    Role.TELEPHONY: {},
}


def roles_of(user: Any) -> frozenset[str]:
    """The role names of a user (cached on the user object for the request)."""
    if not user.is_authenticated:
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_cad_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._cad_roles = cached
    return cached


def roles_prefetch(users: Iterable[Any]) -> None:
    """Fill roles_of's cache of many users with one query (the websocket handshakes of a
    reconnect storm are authenticated together)."""
    todo = {u.pk: u for u in users if u.is_authenticated and getattr(u, "_cad_roles", None) is None}
    if not todo:
        return
    names: dict[int, set[str]] = {pk: set() for pk in todo}
    # The user model's, not type(user)'s: a websocket's session user is a lazy wrapper.
    through = get_user_model().groups.through
    for user_id, name in through.objects.filter(user_id__in=todo).values_list(
        "user_id", "group__name"
    ):
        names[user_id].add(name)
    for pk, user in todo.items():
        user._cad_roles = frozenset(names[pk])


def has_role(user: Any, *roles: Role) -> bool:
    return bool(roles_of(user) & {str(r) for r in roles})


def is_command_centre(user: Any) -> bool:
    """The command centre: a commander or dispatcher, or a superuser. The one answer for the
    services, the API, the admin, the pages, the statistics and the websockets. (Logging in checks
    that the account is active; the system account that acts on timers cannot log in.)"""
    return bool(user.is_authenticated and (user.is_superuser or has_role(user, *OPERATIONS_ROLES)))


def can_see_id_numbers(user: Any) -> bool:
    """Whether the user may see full ID-card numbers: HR only (not even commanders)."""
    return bool(getattr(user, "is_active", False)) and has_role(user, Role.HR)


def _permission_ids(
    grants: Mapping[str, Iterable[str]], permission_model: Any, using: str
) -> set[int]:
    ids: set[int] = set()
    for target, actions in grants.items():
        app_label, _, model = target.partition(".")
        actions = frozenset(actions)
        qs = permission_model.objects.using(using).filter(content_type__app_label=app_label)
        if model != "*":
            qs = qs.filter(content_type__model=model)
        for pk, codename, ct_model in qs.values_list("pk", "codename", "content_type__model"):
            if "*" in actions or codename in {f"{action}_{ct_model}" for action in actions}:
                ids.add(pk)
    return ids


def roles_sync(
    *, apps: Any = global_apps, using: str = DEFAULT_DB_ALIAS, verbosity: int = 0
) -> dict[str, int]:
    """Create the role groups and set their permissions to exactly ROLE_PERMISSIONS.

    Creates the permissions of every installed app first (they normally appear only after
    `migrate` finishes), so it works inside a migration with the historical `apps` too.
    Returns the number of permissions of each group.
    """

    for app_config in global_apps.get_app_configs():
        create_permissions(
            app_config, verbosity=verbosity, interactive=False, using=using, apps=apps
        )
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    counts: dict[str, int] = {}
    for role, grants in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.using(using).get_or_create(name=str(role))
        wanted = _permission_ids(grants, permission_model, using)
        current = set(group.permissions.values_list("pk", flat=True))
        if wanted != current:
            group.permissions.set(wanted)
        counts[str(role)] = len(wanted)
    return counts
