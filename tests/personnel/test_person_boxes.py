"""The person boxes of the HR and training admin: a search-as-you-type box (autocomplete) instead
of a raw numeric id, searching only the people the user may see."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.common.roles import Role
from tests.support.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

# Each admin page with a person box: (app, model, field).
PERSON_BOXES = [
    ("personnel", "person", "supervisor"),
    ("personnel", "assignment", "person"),
    ("personnel", "assessment", "person"),
    ("personnel", "carerecord", "person"),
    ("training", "trainingsession", "trainer"),
    ("training", "attendance", "person"),
    ("training", "attendance", "session"),
    ("training", "mentorship", "mentor"),
    ("training", "mentorship", "mentee"),
    ("training", "certification", "person"),
]


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def hr() -> Client:
    return logged_in(UserFactory(roles=[Role.HR], is_staff=True))


def search(client: Client, app: str, model: str, field: str, term: str) -> tuple[int, list[str]]:
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": app, "model_name": model, "field_name": field, "term": term},
    )
    if response.status_code != 200:
        return response.status_code, []
    return 200, [r["text"] for r in response.json()["results"]]


@pytest.mark.parametrize(("app", "model", "field"), PERSON_BOXES)
def test_the_add_page_offers_a_search_box_not_a_raw_id(
    hr: Client, app: str, model: str, field: str
) -> None:
    page = hr.get(reverse(f"admin:{app}_{model}_add"))
    assert page.status_code == 200
    widget = str(page.context["adminform"].form[field])
    assert "admin-autocomplete" in widget
    assert "vForeignKeyRawIdAdminField" not in widget


def test_the_care_record_box_finds_people_by_name_or_number(hr: Client) -> None:
    PersonFactory(name="张三", staff_number="A100")
    PersonFactory(name="李四", staff_number="A101")
    assert search(hr, "personnel", "carerecord", "person", "张") == (200, ["张三 (A100)"])
    assert search(hr, "personnel", "carerecord", "person", "A101") == (200, ["李四 (A101)"])


def test_a_supervisor_finds_only_the_people_below_them() -> None:
    boss_user = UserFactory(is_staff=True)
    boss = PersonFactory(user=boss_user, name="组长甲")
    PersonFactory(name="队员乙", staff_number="B1", supervisor=boss)
    PersonFactory(name="队员丙", staff_number="B2")  # someone else's
    assert search(logged_in(boss_user), "personnel", "carerecord", "person", "队员") == (
        200,
        ["队员乙 (B1)"],
    )


def test_the_assessment_box_offers_auxiliaries_only(hr: Client) -> None:
    PersonFactory(name="辅警甲", staff_number="X1", kind="auxiliary")
    PersonFactory(name="民警乙", staff_number="X2", kind="officer")
    assert search(hr, "personnel", "assessment", "person", "X") == (200, ["辅警甲 (X1)"])
    # Elsewhere officers are offered too.
    _status, found = search(hr, "personnel", "carerecord", "person", "X")
    assert found == ["辅警甲 (X1)", "民警乙 (X2)"]


def test_someone_without_hr_or_people_below_gets_no_search() -> None:
    PersonFactory(name="张三")
    client = logged_in(UserFactory(is_staff=True))
    status, found = search(client, "personnel", "carerecord", "person", "张")
    assert status == 403 and found == []
