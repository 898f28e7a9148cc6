"""The training sheets in Chinese: sessions and attendance exported with Chinese headers and
values, read back from a Chinese file, and a bad value refused by row and column with nothing
written."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from apps.common.roles import Role
from apps.training.models import Attendance, TrainingSession
from tests.support.excel import xlsx
from tests.support.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

SESSION_HEADER = ["ID", "类型", "标题", "开始时间", "结束时间", "地点", "教官"]
ATTENDANCE_HEADER = ["课程", "警号/工号", "出勤情况", "成绩"]


@pytest.fixture
def hr() -> Client:
    client = Client()
    client.force_login(UserFactory(roles=[Role.HR], is_staff=True))
    return client


def upload(client: Client, model: str, file: SimpleUploadedFile) -> tuple[Any, bool]:
    dry = client.post(
        reverse(f"admin:training_{model}_import"), {"import_file": file, "format": "0"}
    )
    assert dry.status_code == 200
    result = dry.context["result"]
    if result.has_errors() or result.has_validation_errors():
        return result, False
    done = client.post(
        reverse(f"admin:training_{model}_process_import"), dry.context["confirm_form"].initial
    )
    assert done.status_code == 302
    return result, True


def test_a_chinese_sessions_and_attendance_file_is_imported_and_exported(hr: Client) -> None:
    PersonFactory(staff_number="T1", name="教官甲")
    PersonFactory(staff_number="A1")
    sessions = xlsx(
        SESSION_HEADER,
        [
            [
                "",
                "最小作战单元实战演练",
                "演练",
                "2026-03-10 09:00:00",
                "2026-03-10 11:00:00",
                "基地",
                "T1",
            ]
        ],
    )
    assert upload(hr, "trainingsession", sessions)[1]
    session = TrainingSession.objects.get()
    assert session.type == "drill"
    assert session.starts_at == datetime(2026, 3, 10, 9, tzinfo=timezone.get_current_timezone())
    assert upload(hr, "attendance", xlsx(ATTENDANCE_HEADER, [[session.pk, "A1", "出勤", "合格"]]))[
        1
    ]
    assert Attendance.objects.get().status == "present"

    response = hr.post(
        reverse("admin:training_attendance_export"),
        {
            "format": "0",
            "resource": "0",
            **{f"attendanceresource_{f}": "on" for f in ("session", "person", "status", "result")},
        },
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "参训记录"
    assert list(rows[0]) == ATTENDANCE_HEADER
    assert rows[1][1:] == ("A1", "出勤", "合格")


def test_an_unknown_session_type_is_reported_and_nothing_is_written(hr: Client) -> None:
    PersonFactory(staff_number="T1")
    sessions = xlsx(
        SESSION_HEADER,
        [
            ["", "体能", "跑步", "2026-03-10 07:00:00", "2026-03-10 08:00:00", "操场", "T1"],
            ["", "唱歌", "联欢", "2026-03-11 07:00:00", "明天", "礼堂", "T1"],
        ],
    )
    result, done = upload(hr, "trainingsession", sessions)
    assert not done
    [row] = result.invalid_rows
    assert row.number == 2
    assert set(row.error_dict) == {"类型", "结束时间"}
    assert row.error_dict["类型"][0].startswith("“唱歌”不是可选值之一：")
    assert row.error_dict["结束时间"] == ["“明天”不是日期时间（例如 2026-03-01 08:00:00）。"]
    assert not TrainingSession.objects.exists()
