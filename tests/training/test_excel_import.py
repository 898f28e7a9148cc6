"""Excel import of training sessions and attendance through the admin: nothing written when
the file has an invalid row."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from apps.common.roles import Role
from apps.training.models import Attendance, TrainingSession
from tests.support.excel import xlsx
from tests.support.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


def upload(client: Client, model: str, file: SimpleUploadedFile) -> bool:
    """Dry run, then confirm when the report is clean. True when the import was confirmed."""
    dry = client.post(
        reverse(f"admin:training_{model}_import"), {"import_file": file, "format": "0"}
    )
    assert dry.status_code == 200
    result = dry.context["result"]
    if result.has_errors() or result.has_validation_errors():
        return False
    done = client.post(
        reverse(f"admin:training_{model}_process_import"), dry.context["confirm_form"].initial
    )
    assert done.status_code == 302
    return True


@pytest.fixture
def hr() -> Client:
    client = Client()
    client.force_login(UserFactory(roles=[Role.HR], is_staff=True))
    return client


SESSION_HEADER = ["id", "type", "title", "starts_at", "ends_at", "place", "trainer"]


def test_sessions_and_attendance_import(hr: Client) -> None:
    PersonFactory(staff_number="T1", name="教官")
    PersonFactory(staff_number="A1")
    sessions = xlsx(
        SESSION_HEADER,
        [
            [
                "",
                "drill",
                "最小作战单元演练",
                "2026-03-10 09:00:00",
                "2026-03-10 11:00:00",
                "基地",
                "T1",
            ],
        ],
    )
    assert upload(hr, "trainingsession", sessions)
    session = TrainingSession.objects.get()
    assert session.trainer is not None and session.trainer.name == "教官"

    attendance = xlsx(
        ["session", "staff_number", "status", "result"], [[session.pk, "A1", "present", "优"]]
    )
    assert upload(hr, "attendance", attendance)
    assert Attendance.objects.get().result == "优"


def test_a_session_file_with_a_bad_row_writes_nothing(hr: Client) -> None:
    sessions = xlsx(
        SESSION_HEADER,
        [
            ["", "fitness", "体能", "2026-03-10 09:00:00", "2026-03-10 10:00:00", "操场", ""],
            ["", "fitness", "倒挂", "2026-03-10 09:00:00", "2026-03-10 08:00:00", "操场", ""],
            ["", "juggling", "?", "2026-03-10 09:00:00", "2026-03-10 10:00:00", "操场", ""],
        ],
    )
    assert not upload(hr, "trainingsession", sessions)
    assert not TrainingSession.objects.exists()


def test_attendance_for_an_unknown_person_writes_nothing(hr: Client) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    start = datetime(2026, 3, 10, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    session = TrainingSession.objects.create(
        type="fitness", starts_at=start, ends_at=start + timedelta(hours=1)
    )
    PersonFactory(staff_number="A1")
    rows = [[session.pk, "A1", "present", ""], [session.pk, "NOBODY", "present", ""]]
    assert not upload(hr, "attendance", xlsx(["session", "staff_number", "status", "result"], rows))
    assert not Attendance.objects.exists()
