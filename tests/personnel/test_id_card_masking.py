"""ID-card numbers: in full for HR (and superusers), masked for everyone else."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from apps.common.roles import Role
from apps.personnel.access import id_card_for, mask_id_card
from tests.support.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

ID = "530802199001011234"


def test_mask_keeps_only_the_ends() -> None:
    assert mask_id_card(ID) == "530***********1234"
    assert mask_id_card("") == ""
    assert mask_id_card("12345") == "*****"


def test_hr_and_superuser_see_the_full_number_others_see_it_masked() -> None:
    hr = UserFactory(roles=[Role.HR])
    boss = UserFactory(is_superuser=True)
    dispatcher = UserFactory(roles=[Role.DISPATCHER])
    assert id_card_for(hr, ID) == ID
    assert id_card_for(boss, ID) == ID
    assert id_card_for(dispatcher, ID) == mask_id_card(ID)


def test_hr_sees_the_personnel_admin_with_full_numbers() -> None:
    PersonFactory(name="张三", id_card_number=ID)
    hr = UserFactory(roles=[Role.HR], is_staff=True)
    client = Client()
    client.force_login(hr)
    listing = client.get(reverse("admin:personnel_person_changelist"))
    assert listing.status_code == 200
    assert ID in listing.content.decode()
    assert client.get(reverse("admin:personnel_assignment_changelist")).status_code == 200
    assert client.get(reverse("admin:personnel_person_add")).status_code == 200


def test_a_supervisor_sees_reports_with_masked_numbers_and_cannot_edit() -> None:
    boss_user = UserFactory(is_staff=True, roles=[Role.UNIT_OFFICER])
    boss = PersonFactory(user=boss_user)
    report = PersonFactory(name="李四", supervisor=boss, id_card_number=ID)
    PersonFactory(name="王五", id_card_number="530802199202024321")
    client = Client()
    client.force_login(boss_user)
    listing = client.get(reverse("admin:personnel_person_changelist"))
    assert listing.status_code == 200
    body = listing.content.decode()
    assert "李四" in body and "王五" not in body
    assert ID not in body and mask_id_card(ID) in body
    change = client.get(reverse("admin:personnel_person_change", args=[report.pk]))
    assert change.status_code == 200
    assert ID not in change.content.decode()
    assert mask_id_card(ID) in change.content.decode()
    posted = client.post(
        reverse("admin:personnel_person_change", args=[report.pk]),
        {"name": "改名", "kind": "auxiliary", "staff_number": report.staff_number},
    )
    assert posted.status_code == 403


def test_hr_can_search_by_id_number_but_others_cannot_probe_it() -> None:
    boss_user = UserFactory(is_staff=True)
    boss = PersonFactory(user=boss_user)
    PersonFactory(name="李四", supervisor=boss, id_card_number=ID)
    hr = UserFactory(roles=[Role.HR], is_staff=True)
    url = reverse("admin:personnel_person_changelist")
    client = Client()
    client.force_login(hr)
    assert "李四" in client.get(url, {"q": ID[6:14]}).content.decode()
    client.force_login(boss_user)
    assert "李四" not in client.get(url, {"q": ID[6:14]}).content.decode()
