"""Mentoring (传帮带): a mentee not signed off on call-taking is flagged when rostered as call
taker; and certifications about to expire."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from apps.personnel.models import Assignment, Person
from apps.training.models import Certification, Competency, Mentorship, SignOff
from apps.training.selectors import call_taking_gaps, daily_roster, expiring_certifications
from apps.units.models import StagingPoint
from tests.support.factories import PersonFactory, StagingPointFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 3, 10)


def post(person: Person, point: StagingPoint, *, call_taker: bool) -> None:
    Assignment.objects.create(
        person=person,
        staging_point=point,
        shift=1,
        call_taker=call_taker,
        valid_from=datetime(2026, 1, 1, tzinfo=SH),
    )


def test_the_competencies_are_data_with_call_taking_required() -> None:
    assert Competency.objects.get(code="call_taking").required_for_call_taking
    assert set(Competency.objects.values_list("name", flat=True)) >= {
        "接警流程",
        "职责规范",
        "设备应用",
    }


def test_a_mentee_rostered_as_call_taker_without_sign_off_is_flagged() -> None:
    point = StagingPointFactory()
    mentor = PersonFactory(name="师傅")
    mentee = PersonFactory(name="徒弟")
    veteran = PersonFactory(name="老兵")  # no mentorship: not a mentee, not flagged
    Mentorship.objects.create(mentor=mentor, mentee=mentee, started_on=date(2026, 2, 1))
    for p in (mentor, mentee, veteran):
        post(p, point, call_taker=p is not mentor)
    post(PersonFactory(), point, call_taker=False)

    with translation.override("en"):  # the warning is asserted in the source language
        [row] = daily_roster(day=DAY, staging_point=point, shift=1)
    assert {p.name for p in row.call_takers} == {"徒弟", "老兵"}
    assert [p.name for p in row.unsigned_call_takers] == ["徒弟"]
    assert any("徒弟" in w and "call-taking" in w for w in row.warnings)


def test_signing_off_call_taking_clears_the_flag_from_that_day_on() -> None:
    mentor = PersonFactory()
    mentee = PersonFactory()
    pair = Mentorship.objects.create(mentor=mentor, mentee=mentee, started_on=date(2026, 2, 1))
    SignOff.objects.create(
        mentorship=pair,
        competency=Competency.objects.get(code="duties"),
        signed_off_on=date(2026, 2, 20),
    )
    assert call_taking_gaps(people=[mentee.pk], on=DAY) == {mentee.pk}
    SignOff.objects.create(
        mentorship=pair,
        competency=Competency.objects.get(code="call_taking"),
        signed_off_on=DAY,
    )
    assert call_taking_gaps(people=[mentee.pk], on=DAY) == set()
    assert call_taking_gaps(people=[mentee.pk], on=date(2026, 3, 9)) == {mentee.pk}


def test_certifications_expiring_in_the_next_30_days() -> None:
    p = PersonFactory()
    soon = Certification.objects.create(person=p, name="驾驶证", expires_on=date(2026, 3, 25))
    edge = Certification.objects.create(person=p, name="急救", expires_on=date(2026, 4, 9))
    Certification.objects.create(person=p, name="已过期", expires_on=date(2026, 3, 9))
    Certification.objects.create(person=p, name="远期", expires_on=date(2026, 4, 10))
    Certification.objects.create(person=p, name="长期", expires_on=None)
    assert list(expiring_certifications(today=DAY)) == [soon, edge]
