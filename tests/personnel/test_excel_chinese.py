"""The HR sheets in Chinese (zh-Hans, the default language): exported with the fields' labels as
headers, choices and flags as their labels and a named sheet; imported back through the admin
from those labels, from English ones and from the codes of older files; a value or a column the
import does not know is reported (by row and column) and nothing of the file is written."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from apps.common.roles import Role
from apps.personnel.models import Assignment, Person, PersonStatus
from apps.personnel.resources import AssessmentResource, AssignmentResource, PersonResource
from apps.training.admin import AttendanceResource, TrainingSessionResource
from apps.units.models import UnitKind
from tests.support.excel import xlsx
from tests.support.factories import PersonFactory, StagingPointFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

PEOPLE_FIELDS = [
    "staff_number",
    "name",
    "kind",
    "status",
    "id_card_number",
    "phone",
    "hire_date",
    "supervisor",
]
PEOPLE_HEADER_ZH = ["警号/工号", "姓名", "类型", "状态", "身份证号", "手机", "入职日期", "上级"]
POSTING_FIELDS = [
    "person",
    "staging_point",
    "unit",
    "shift",
    "team_role",
    "elite_squad",
    "call_taker",
    "valid_from",
    "valid_to",
]


@pytest.fixture
def hr() -> Client:
    client = Client()
    client.force_login(UserFactory(roles=[Role.HR], is_staff=True))
    return client


def export(client: Client, model: str, resource: str, names: list[str]) -> bytes:
    response = client.post(
        reverse(f"admin:personnel_{model}_export"),
        {"format": "0", "resource": "0", **{f"{resource}_{name}": "on" for name in names}},
    )
    assert response.status_code == 200
    content: bytes = response.content
    return content


def sheet_rows(content: bytes) -> tuple[str, list[tuple[Any, ...]]]:
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return sheet.title, list(sheet.iter_rows(values_only=True))


def upload(client: Client, model: str, file: SimpleUploadedFile) -> tuple[Any, bool]:
    """The dry run's result, and whether the import was confirmed (only when it is clean)."""
    dry = client.post(
        reverse(f"admin:personnel_{model}_import"), {"import_file": file, "format": "0"}
    )
    assert dry.status_code == 200
    result = dry.context["result"]
    if result.has_errors() or result.has_validation_errors():
        return result, False
    done = client.post(
        reverse(f"admin:personnel_{model}_process_import"), dry.context["confirm_form"].initial
    )
    assert done.status_code == 302
    return result, True


def people() -> list[tuple[Any, ...]]:
    return list(
        Person.objects.order_by("staff_number").values_list(
            "staff_number", "name", "kind", "status", "phone", "hire_date", "supervisor__name"
        )
    )


def test_people_are_exported_in_chinese_and_the_file_imports_back(hr: Client) -> None:
    boss = PersonFactory(staff_number="M001", name="分管民警", kind="officer")
    PersonFactory(
        staff_number="A100",
        name="张三",
        status=PersonStatus.ACTIVE,
        phone="13800000000",
        hire_date=date(2024, 5, 1),
        supervisor=boss,
    )
    PersonFactory(staff_number="A101", name="李四", status=PersonStatus.LEAVE)
    before = people()

    content = export(hr, "person", "personresource", PEOPLE_FIELDS)
    title, rows = sheet_rows(content)
    assert title == "人员"
    assert list(rows[0]) == PEOPLE_HEADER_ZH
    by_number = {row[0]: row for row in rows[1:]}
    assert by_number["M001"][2] == "民警"
    assert by_number["A100"][2:4] == ("辅警", "在职")
    assert by_number["A100"][7] == "M001"
    assert by_number["A101"][3] == "休假"

    # Someone changes the records; importing the exported file puts them back.
    Person.objects.filter(staff_number="A100").update(name="改名", status=PersonStatus.LEFT)
    Person.objects.filter(staff_number="A101").update(kind="officer", supervisor=boss)
    _result, done = upload(hr, "person", SimpleUploadedFile("人员.xlsx", content))
    assert done
    assert people() == before


def test_a_file_written_in_chinese_is_imported(hr: Client) -> None:
    PersonFactory(staff_number="M001", name="分管民警", kind="officer")
    upload_file = xlsx(
        # Headers in Chinese, one in English, one an older file's code; spacing is ignored.
        [" 警号/工号", "姓名", "类型", "status", "入职日期", "supervisor"],
        [
            ["A100", "张三", "辅警", "在职", date(2024, 5, 1), "M001"],
            ["A101", "李四", "auxiliary", "休假", None, "A100"],  # a code is still read
            [1002, "王五", "Police officer (民警)", "On leave", None, None],  # English labels
        ],
    )
    _result, done = upload(hr, "person", upload_file)
    assert done
    assert people() == [
        ("1002", "王五", "officer", "leave", "", None, None),
        ("A100", "张三", "auxiliary", "active", "", date(2024, 5, 1), "分管民警"),
        ("A101", "李四", "auxiliary", "leave", "", None, "张三"),
        ("M001", "分管民警", "officer", "active", "", None, None),
    ]


def test_an_unknown_value_is_reported_by_row_and_column_and_nothing_is_written(
    hr: Client,
) -> None:
    upload_file = xlsx(
        PEOPLE_HEADER_ZH,
        [
            ["A200", "王五", "辅警", "在职", "", "", None, ""],  # fine on its own
            ["A201", "赵六", "巫师", "在职", "", "", None, ""],  # not a kind
            ["A202", "孙七", "辅警", "退休", "", "", "下周", "NOBODY"],  # three bad cells
        ],
    )
    result, done = upload(hr, "person", upload_file)
    assert not done
    invalid = {row.number: row.error_dict for row in result.invalid_rows}
    assert set(invalid) == {2, 3}
    assert list(invalid[2]) == ["类型"]
    assert invalid[2]["类型"] == ["“巫师”不是可选值之一：民警、辅警。"]
    assert set(invalid[3]) == {"状态", "入职日期", "上级"}
    assert invalid[3]["状态"] == ["“退休”不是可选值之一：在职、休假、已离职。"]
    assert invalid[3]["入职日期"] == ["“下周”不是日期（例如 2026-03-01）。"]
    assert invalid[3]["上级"] == ["NOBODY：无此记录。"]
    assert not Person.objects.exists()


def test_an_unknown_column_refuses_the_whole_file(hr: Client) -> None:
    upload_file = xlsx(["警号/工号", "姓名", "类型", "部门"], [["A300", "周八", "辅警", "巡逻"]])
    dry = hr.post(
        reverse("admin:personnel_person_import"), {"import_file": upload_file, "format": "0"}
    )
    assert dry.status_code == 200 and "confirm_form" not in dry.context
    result = dry.context["result"]
    [error] = result.base_errors
    assert "无法识别的列：部门" in str(error.error)
    assert "警号/工号" in str(error.error)  # the columns it knows are listed
    assert result.totals["new"] == 0 and not result.invalid_rows
    # Told in words, without a Python traceback under them.
    page = dry.content.decode()
    assert "无法识别的列：部门" in page and "Traceback" not in page
    assert not Person.objects.exists()


def test_a_column_given_twice_refuses_the_file(hr: Client) -> None:
    upload_file = xlsx(["警号/工号", "姓名", "类型", "kind"], [["A300", "周八", "辅警", "辅警"]])
    result, done = upload(hr, "person", upload_file)
    assert not done
    [error] = result.base_errors
    assert "列重复：类型" in str(error.error)
    assert not Person.objects.exists()


def test_a_file_without_the_identifying_column_is_refused(hr: Client) -> None:
    result, done = upload(hr, "person", xlsx(["姓名", "类型"], [["周八", "辅警"]]))
    assert not done
    [error] = result.base_errors
    assert str(error.error) == "缺少用于识别记录的列：警号/工号。"
    assert not Person.objects.exists()


def postings() -> list[tuple[Any, ...]]:
    return list(
        Assignment.objects.order_by("valid_from").values_list(
            "person__staff_number",
            "staging_point__code",
            "unit__callsign",
            "shift",
            "team_role",
            "elite_squad",
            "call_taker",
            "valid_from",
            "valid_to",
        )
    )


def test_postings_with_their_squad_unit_go_out_and_back_in_chinese(hr: Client) -> None:
    person = PersonFactory(staff_number="C1")
    point = StagingPointFactory(code="east")
    squad = UnitFactory(callsign="尖刀1组", kind=UnitKind.SQUAD, staging_point=point)
    tz = timezone.get_current_timezone()
    Assignment.objects.create(
        person=person,
        staging_point=point,
        shift=2,
        team_role="group_leader",
        call_taker=True,
        valid_from=datetime(2026, 3, 1, 8, 0, tzinfo=tz),
        valid_to=datetime(2026, 4, 1, 8, 0, tzinfo=tz),
    )
    Assignment.objects.create(
        person=person,
        staging_point=point,
        unit=squad,
        elite_squad=True,
        valid_from=datetime(2026, 4, 1, 8, 0, tzinfo=tz),
    )
    before = postings()

    content = export(hr, "assignment", "assignmentresource", POSTING_FIELDS)
    title, rows = sheet_rows(content)
    assert title == "编组"
    assert list(rows[0]) == [
        "警号/工号",
        "屯警点",
        "所属车组",
        "班次",
        "职务",
        "尖刀队",
        "排班接警员",
        "生效日期",
        "失效日期",
    ]
    by_unit = {row[2]: row for row in rows[1:]}
    assert by_unit["尖刀1组"][5:7] == ("是", "否")
    assert by_unit[None][3:7] == ("第二班", "组长", "否", "是")

    Assignment.objects.all().delete()
    _result, done = upload(hr, "assignment", SimpleUploadedFile("编组.xlsx", content))
    assert done
    assert postings() == before


def test_a_bad_flag_or_an_unknown_unit_is_reported_against_its_column(hr: Client) -> None:
    PersonFactory(staff_number="C1")
    StagingPointFactory(code="east")
    header = ["警号/工号", "屯警点", "所属车组", "班次", "尖刀队", "排班接警员", "生效日期"]
    good = ["C1", "east", "", "第一班", "否", "是", "2026-03-01 08:00:00"]
    bad = ["C1", "east", "无此车组", "第四班", "也许", "1", "2026-04-01 08:00:00"]
    result, done = upload(hr, "assignment", xlsx(header, [good, bad]))
    assert not done
    [row] = result.invalid_rows
    assert row.number == 2
    assert row.error_dict == {
        "所属车组": ["无此车组：无此记录。"],
        "班次": ["“第四班”不是可选值之一：第一班、第二班、第三班。"],
        "尖刀队": ["“也许”既不是“是”也不是“否”。"],
    }
    assert not Assignment.objects.exists()


def test_the_export_and_import_pages_name_the_columns_in_chinese(hr: Client) -> None:
    page = hr.get(reverse("admin:personnel_person_export")).content.decode()
    for header in PEOPLE_HEADER_ZH:
        assert f">{header}</label>" in page
    assert "Staff Number" not in page and "staff_number<" not in page
    assert "全选" in page and "Select all" not in page
    page = hr.get(reverse("admin:personnel_person_import")).content.decode()
    assert ", ".join(PEOPLE_HEADER_ZH) in page


def test_a_reader_in_english_gets_english_headers_and_still_reads_a_chinese_file() -> None:
    PersonFactory(staff_number="M001", kind="officer")
    with translation.override("en"):
        assert PersonResource().get_export_headers()[:3] == ["badge / staff number", "name", "kind"]
        dataset = tablib.Dataset(headers=["警号/工号", "姓名", "类型", "状态"])
        dataset.append(["A100", "张三", "辅警", "在职"])
        result = PersonResource().import_data(
            dataset, use_transactions=True, rollback_on_validation_errors=True
        )
        assert not result.has_errors() and not result.has_validation_errors()
        exported = PersonResource().export(Person.objects.filter(staff_number="A100"))
        assert exported.dict[0]["kind"] == "Auxiliary (辅警)"
    assert Person.objects.get(staff_number="A100").kind == "auxiliary"


@pytest.mark.parametrize(
    "resource",
    [
        PersonResource,
        AssignmentResource,
        AssessmentResource,
        TrainingSessionResource,
        AttendanceResource,
    ],
)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_column_of_an_hr_sheet_has_its_own_header(resource: Any, language: str) -> None:
    with translation.override(language):
        headers = resource().get_export_headers()
        assert len(set(headers)) == len(headers), headers
        # A header the import reads is never another column's spelling.
        aliases = resource().header_aliases()
        assert all(aliases[h.casefold()] == h for h in headers)
