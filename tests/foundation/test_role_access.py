"""Each role's access to the admin, with the demo accounts and the groups the migration made."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from apps.common.roles import ROLE_PERMISSIONS, Role, can_see_id_numbers, roles_sync
from apps.demo.city import DemoSummary
from apps.units.models import StagingPoint, Unit
from tests.support.factories import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def logged_in(username: str) -> Client:
    client = Client()
    response = client.post(
        reverse("admin:login"),
        {"username": username, "password": DEMO_PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 302, f"{username} could not log into the admin"
    return client


def admin_apps(client: Client) -> set[str]:
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return {app["app_label"] for app in response.context["app_list"]}


def registered(app_label: str) -> list[Any]:
    return [m for m in admin.site._registry if m._meta.app_label == app_label]


def changelist(model: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change_url(obj: Any) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def test_the_migration_created_every_role_group() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= {str(r) for r in Role}
    commander = Group.objects.get(name=Role.COMMANDER)
    assert commander.permissions.filter(codename="change_unit").exists()


def test_sync_gives_hr_every_permission_of_the_personnel_and_training_apps() -> None:
    roles_sync()
    hr = Group.objects.get(name=Role.HR)
    for app_label in ("personnel", "training"):
        everything = Permission.objects.filter(content_type__app_label=app_label)
        assert set(hr.permissions.filter(content_type__app_label=app_label)) == set(everything)
    assert not hr.permissions.filter(content_type__app_label__in=["incidents", "units"]).exists()


def test_sync_removes_grants_outside_the_matrix() -> None:
    dispatcher = Group.objects.get(name=Role.DISPATCHER)
    ct = ContentType.objects.get_for_model(StagingPoint)
    dispatcher.permissions.add(
        Permission.objects.get(content_type=ct, codename="change_stagingpoint")
    )
    roles_sync()
    assert not dispatcher.permissions.filter(codename="change_stagingpoint").exists()


def test_unit_crews_have_no_admin_permissions() -> None:
    assert ROLE_PERMISSIONS[Role.UNIT_OFFICER] == {}
    assert ROLE_PERMISSIONS[Role.UNIT_AUXILIARY] == {}
    roles_sync()
    for role in (Role.UNIT_OFFICER, Role.UNIT_AUXILIARY):
        assert not Group.objects.get(name=role).permissions.exists()


def test_commander_edits_units_and_staging_points(demo_city: DemoSummary) -> None:
    client = logged_in("commander")
    operational = {"units"} | ({"incidents"} if registered("incidents") else set())
    assert operational <= admin_apps(client)
    unit = Unit.objects.get(callsign="巡逻1号")
    response = client.post(
        change_url(unit),
        {"callsign": unit.callsign, "plate": "云J·9999警", "staging_point": unit.staging_point_id},
    )
    assert response.status_code == 302, response.content[:2000]
    unit.refresh_from_db()
    assert unit.plate == "云J·9999警"
    point = StagingPoint.objects.get(code="zhushijie")
    response = client.post(
        change_url(point),
        {
            "name": point.name,
            "code": point.code,
            "station": point.station_id,
            "address": point.address,
            "location": "",
            "lat": "22.7870",
            "lon": "100.9780",
            "approximate": "on",
        },
    )
    assert response.status_code == 302
    point.refresh_from_db()
    assert (point.lat, point.lon) == (22.787, 100.978)


def test_dispatcher_sees_the_board_and_reference_data_but_cannot_change_them(
    demo_city: DemoSummary,
) -> None:
    client = logged_in("dispatcher")
    assert "units" in admin_apps(client)
    assert client.get(changelist(Unit)).status_code == 200
    point = StagingPoint.objects.get(code="zhushijie")
    page = client.get(change_url(point))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="id_location_map-map"' in html  # drawn on a read-only map
    assert 'name="_save"' not in html
    response = client.post(
        change_url(point),
        {"name": "x", "code": point.code, "station": point.station_id, "lat": 1, "lon": 1},
    )
    assert response.status_code == 403
    point.refresh_from_db()
    assert point.name == "珠市街"
    unit = Unit.objects.get(callsign="巡逻1号")
    response = client.post(
        change_url(unit), {"callsign": "x", "plate": "", "staging_point": point.pk}
    )
    assert response.status_code == 403


def test_hr_sees_personnel_but_not_incidents_or_units(demo_city: DemoSummary) -> None:
    client = logged_in("hr")
    apps = admin_apps(client)
    assert "personnel" in apps
    assert not apps & {"incidents", "units"}
    assert registered("personnel")
    for model in registered("personnel"):
        assert client.get(changelist(model)).status_code == 200, model
    assert registered("units")
    for model in registered("units") + registered("incidents"):
        assert client.get(changelist(model)).status_code == 403, model


@pytest.mark.parametrize("username", ["officer", "auxiliary"])
def test_unit_crews_cannot_log_into_the_admin(demo_city: DemoSummary, username: str) -> None:
    client = Client()
    response = client.post(
        reverse("admin:login"),
        {"username": username, "password": DEMO_PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 200  # the login form again, with an error
    assert response.context["form"].errors
    # Even with a session (e.g. from the API's session login), the admin turns them away.
    client.force_login(User.objects.get(username=username))
    assert client.get(reverse("admin:index")).status_code == 302
    assert client.get(changelist(Unit)).status_code == 302


def test_station_sees_incidents_only(demo_city: DemoSummary) -> None:
    client = logged_in("station")
    assert admin_apps(client) <= {"incidents"}
    user = User.objects.get(username="station")
    assert user.has_perm("incidents.view_incident")
    assert not user.has_perm("incidents.change_event")
    # Which incidents a station may open is the incidents admin's call (its own station's
    # transfers); everything else in the admin is closed to it.
    for model in registered("units") + registered("personnel") + registered("common"):
        assert client.get(changelist(model)).status_code == 403, model


def test_only_hr_sees_full_id_card_numbers(demo_city: DemoSummary) -> None:
    seen = {
        username: can_see_id_numbers(User.objects.get(username=username))
        for username in ("commander", "dispatcher", "hr", "station", "officer", "auxiliary")
    }
    assert seen == {
        "commander": False,
        "dispatcher": False,
        "hr": True,
        "station": False,
        "officer": False,
        "auxiliary": False,
    }


def test_sync_roles_command_is_idempotent_and_reports_each_role() -> None:
    import io

    from django.core.management import call_command

    def grants() -> dict[str, set[str]]:
        return {
            g.name: set(g.permissions.values_list("codename", flat=True))
            for g in Group.objects.all()
        }

    out = io.StringIO()
    call_command("sync_roles", stdout=out)
    first = grants()
    call_command("sync_roles", stdout=io.StringIO())
    assert grants() == first
    for role in Role:
        assert f"{role}: " in out.getvalue()
    assert "change_unit" in first[Role.COMMANDER] and "change_unit" not in first[Role.DISPATCHER]
