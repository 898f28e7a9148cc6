"""The crew's own records through the API (token auth): only their own; 404 without a person."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.common.roles import Role
from apps.common.services import token_issue
from apps.personnel.models import AdjustmentKind
from apps.personnel.services import (
    assessment_add_adjustment,
    assessment_set_scores,
    assessment_start,
    period_open,
)
from apps.training.models import (
    Attendance,
    AttendanceStatus,
    Certification,
    Competency,
    Mentorship,
    SessionType,
    SignOff,
    TrainingSession,
)
from tests.support.factories import PersonFactory, UnitFactory, UserFactory, crew_member

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def token_client(user: object) -> APIClient:
    _token, raw = token_issue(user=user)  # type: ignore[arg-type]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


def test_a_crew_member_sees_only_their_own_assessments() -> None:
    me_user = crew_member(UnitFactory(), role=Role.UNIT_AUXILIARY)
    me = me_user.person  # type: ignore[attr-defined]
    other = PersonFactory()
    period = period_open(month=date(2026, 3, 1))
    mine = assessment_start(period=period, person=me)
    assessment_set_scores(
        assessment=mine, scores={"discipline": Decimal(90), "bearing": Decimal(80)}
    )
    assessment_add_adjustment(
        assessment=mine,
        kind=AdjustmentKind.AWARD,
        points=Decimal(2),
        reason="见义勇为",
        on=date(2026, 3, 8),
        evidence="表彰通报",
    )
    theirs = assessment_start(period=period, person=other)
    assessment_set_scores(assessment=theirs, scores={"discipline": Decimal(50)})

    response = token_client(me_user).get(reverse("me-assessments"))
    assert response.status_code == 200
    [row] = response.json()
    assert row["month"] == "2026-03-01"
    assert {s["item"] for s in row["scores"]} == {"discipline", "bearing"}
    assert row["adjustments"][0]["reason"] == "见义勇为"
    assert row["rank"] == 1
    assert row["call_handling"]["incidents"] == 0


def test_a_user_without_a_person_record_gets_404() -> None:
    client = token_client(UserFactory(roles=[Role.DISPATCHER]))
    assert client.get(reverse("me-assessments")).status_code == 404
    assert client.get(reverse("me-training")).status_code == 404


def test_anonymous_requests_are_refused() -> None:
    assert APIClient().get(reverse("me-training")).status_code in (401, 403)


def test_a_crew_member_sees_their_training_mentoring_and_certifications() -> None:
    me_user = crew_member(UnitFactory(), role=Role.UNIT_AUXILIARY)
    me = me_user.person  # type: ignore[attr-defined]
    other = PersonFactory()
    trainer = PersonFactory(name="教官")
    session = TrainingSession.objects.create(
        type=SessionType.CALL_TAKING,
        starts_at=datetime(2026, 3, 10, 9, tzinfo=SH),
        ends_at=datetime(2026, 3, 10, 11, tzinfo=SH),
        place="训练基地",
        trainer=trainer,
    )
    Attendance.objects.create(
        session=session, person=me, status=AttendanceStatus.PRESENT, result="合格"
    )
    Attendance.objects.create(session=session, person=other, status=AttendanceStatus.ABSENT)
    pair = Mentorship.objects.create(mentor=trainer, mentee=me, started_on=date(2026, 2, 1))
    SignOff.objects.create(
        mentorship=pair,
        competency=Competency.objects.get(code="duties"),
        signed_off_on=date(2026, 3, 1),
    )
    from django.utils import timezone

    Certification.objects.create(
        person=me, name="驾驶证", expires_on=timezone.localdate() + timedelta(days=10)
    )
    Certification.objects.create(person=other, name="别人的证")

    body = token_client(me_user).get(reverse("me-training")).json()
    assert [(s["place"], s["attendance"], s["result"]) for s in body["sessions"]] == [
        ("训练基地", "present", "合格")
    ]
    [mentoring] = body["mentorships"]
    assert mentoring["mentor"] == "教官"
    assert "接警流程" in mentoring["outstanding"] and "职责规范" not in mentoring["outstanding"]
    assert [(c["name"], c["expires_within_30_days"]) for c in body["certifications"]] == [
        ("驾驶证", True)
    ]
