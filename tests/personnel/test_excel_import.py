"""Excel import through the admin: a row-by-row report, and nothing written for a file with
errors (import-export's dry run, then one transaction)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from apps.common.roles import Role
from apps.personnel.models import Assessment, Assignment, Person
from apps.personnel.services import period_open
from tests.support.excel import xlsx
from tests.support.factories import PersonFactory, StagingPointFactory, UserFactory

pytestmark = pytest.mark.django_db

PEOPLE_HEADER = [
    "staff_number",
    "name",
    "kind",
    "status",
    "id_card_number",
    "phone",
    "hire_date",
    "supervisor",
]


@pytest.fixture
def hr_client() -> Client:
    client = Client()
    client.force_login(UserFactory(roles=[Role.HR], is_staff=True))
    return client


def import_via_admin(client: Client, model: str, upload: SimpleUploadedFile) -> Any:
    """Upload (dry run) and, when the report offers it, confirm. Returns both responses."""
    dry = client.post(
        reverse(f"admin:personnel_{model}_import"), {"import_file": upload, "format": "0"}
    )
    assert dry.status_code == 200
    result = dry.context["result"]
    confirm = dry.context.get("confirm_form")
    if result.has_errors() or result.has_validation_errors() or confirm is None:
        return dry, None
    done = client.post(reverse(f"admin:personnel_{model}_process_import"), confirm.initial)
    return dry, done


def test_a_valid_people_file_is_imported(hr_client: Client) -> None:
    PersonFactory(staff_number="M001", name="分管民警", kind="officer")
    upload = xlsx(
        PEOPLE_HEADER,
        [
            [
                "A100",
                "张三",
                "auxiliary",
                "active",
                "530802199001011234",
                "13800000000",
                date(2024, 5, 1),
                "M001",
            ],
            ["A101", "李四", "auxiliary", "leave", "", "", None, "A100"],
        ],
    )
    _dry, done = import_via_admin(hr_client, "person", upload)
    assert done is not None and done.status_code == 302
    a = Person.objects.get(staff_number="A100")
    assert a.supervisor is not None and a.supervisor.staff_number == "M001"
    assert a.hire_date == date(2024, 5, 1)
    assert Person.objects.get(staff_number="A101").supervisor == a


def test_an_invalid_people_file_writes_nothing_and_reports_each_bad_row(
    hr_client: Client,
) -> None:
    before = Person.objects.count()
    upload = xlsx(
        PEOPLE_HEADER,
        [
            ["A200", "王五", "auxiliary", "active", "", "", None, ""],  # fine on its own
            ["A201", "赵六", "wizard", "active", "", "", None, ""],  # not a kind
            ["A202", "孙七", "auxiliary", "active", "", "", None, "NOBODY"],  # unknown supervisor
        ],
    )
    dry, done = import_via_admin(hr_client, "person", upload)
    assert done is None
    result = dry.context["result"]
    invalid = {r.number: r.error_dict for r in result.invalid_rows}
    assert set(invalid) == {2, 3}
    # Keyed by the column headers the reader sees (zh-Hans, the default language).
    assert "类型" in invalid[2]
    assert "上级" in invalid[3]
    assert Person.objects.count() == before
    assert not Person.objects.filter(staff_number="A200").exists()


def test_a_file_whose_rows_close_a_supervisor_cycle_is_refused(hr_client: Client) -> None:
    boss = PersonFactory(staff_number="B1")
    PersonFactory(staff_number="B2", supervisor=boss)
    upload = xlsx(PEOPLE_HEADER, [["B1", boss.name, "auxiliary", "active", "", "", None, "B2"]])
    _dry, done = import_via_admin(hr_client, "person", upload)
    assert done is None
    boss.refresh_from_db()
    assert boss.supervisor is None


def test_assignments_import_and_a_bad_row_rolls_back_the_file(hr_client: Client) -> None:
    PersonFactory(staff_number="C1")
    StagingPointFactory(code="east")
    header = [
        "staff_number",
        "staging_point",
        "shift",
        "team_role",
        "elite_squad",
        "call_taker",
        "valid_from",
        "valid_to",
    ]
    good = ["C1", "east", 2, "member", 0, 1, "2026-03-01 00:00:00", ""]
    bad = ["C1", "east", 7, "member", 0, 0, "2026-04-01 00:00:00", ""]  # no shift 7
    _dry, done = import_via_admin(hr_client, "assignment", xlsx(header, [good, bad]))
    assert done is None
    assert not Assignment.objects.exists()
    _dry, done = import_via_admin(hr_client, "assignment", xlsx(header, [good]))
    assert done is not None
    posting = Assignment.objects.get()
    assert (posting.shift, posting.call_taker, posting.staging_point.code) == (2, True, "east")


def test_assessment_scores_import_then_export_with_computed_totals(hr_client: Client) -> None:
    period_open(month=date(2026, 3, 1))
    PersonFactory(staff_number="D1")
    PersonFactory(staff_number="D2")
    header = ["month", "staff_number", "discipline", "bearing", "skills", "note"]
    bad = xlsx(header, [["2026-03-01", "D1", 90, 90, 90, ""], ["2026-03-01", "D2", 150, 0, 0, ""]])
    _dry, done = import_via_admin(hr_client, "assessment", bad)
    assert done is None
    assert not Assessment.objects.exists()

    good = xlsx(
        header, [["2026-03-01", "D1", 90, 80, 100, ""], ["2026-03-01", "D2", 60, 60, 60, ""]]
    )
    _dry, done = import_via_admin(hr_client, "assessment", good)
    assert done is not None
    d1 = Assessment.objects.get(person__staff_number="D1")
    assert d1.rank == 1 and d1.total == Decimal("90.67")

    exported = hr_client.post(
        reverse("admin:personnel_assessment_export"),
        {
            "format": "0",
            "resource": "0",
            **{
                f"assessmentresource_{f}": "on"
                for f in (
                    "period",
                    "person",
                    "discipline",
                    "bearing",
                    "skills",
                    "call_handling",
                    "own_score",
                    "total",
                    "grade",
                    "rank",
                    "note",
                )
            },
        },
    )
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert "合计" in rows[0]
    assert any("D1" in row and "90.67" in [str(v) for v in row] for row in rows[1:])


def test_only_hr_may_import_or_export() -> None:
    boss_user = UserFactory(is_staff=True)
    boss = PersonFactory(user=boss_user)
    PersonFactory(supervisor=boss)
    client = Client()
    client.force_login(boss_user)
    assert client.get(reverse("admin:personnel_person_import")).status_code == 403
    assert client.get(reverse("admin:personnel_person_export")).status_code == 403
