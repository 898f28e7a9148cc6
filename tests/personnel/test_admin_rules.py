"""The HR admin: frozen periods answer with an error; care records only for HR and supervisors;
the daily roster page."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from apps.common.roles import Role
from apps.personnel.models import CareKind, CareRecord, PeriodStatus
from apps.personnel.services import assessment_start, period_close, period_open
from tests.support.factories import PersonFactory, StagingPointFactory, UserFactory

pytestmark = pytest.mark.django_db


def logged_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_editing_an_assessment_of_a_closed_period_in_the_admin_shows_an_error() -> None:
    hr = UserFactory(roles=[Role.HR], is_staff=True)
    period = period_open(month=date(2026, 3, 1))
    person = PersonFactory()
    assessment = assessment_start(period=period, person=person)
    period_close(period=period, actor=hr)
    client = logged_in(hr)
    url = reverse("admin:personnel_assessment_change", args=[assessment.pk])
    response = client.post(
        url,
        {
            "period": period.pk,
            "person": person.pk,
            "note": "改了",
            "scores-TOTAL_FORMS": "0",
            "scores-INITIAL_FORMS": "0",
            "adjustments-TOTAL_FORMS": "0",
            "adjustments-INITIAL_FORMS": "0",
        },
        follow=True,
    )
    assert response.status_code == 200
    texts = [str(m) for m in response.context["messages"]]
    assert any("closed" in t or "关闭" in t or "reopen" in t for t in texts), texts
    assessment.refresh_from_db()
    assert assessment.note == ""


def test_closing_and_reopening_through_the_admin_actions_records_the_reason() -> None:
    hr = UserFactory(roles=[Role.HR], is_staff=True)
    period = period_open(month=date(2026, 3, 1))
    client = logged_in(hr)
    url = reverse("admin:personnel_assessmentperiod_changelist")
    client.post(url, {"action": "close_periods", "_selected_action": [period.pk], "reason": ""})
    period.refresh_from_db()
    assert period.status == PeriodStatus.CLOSED
    client.post(url, {"action": "reopen_periods", "_selected_action": [period.pk], "reason": ""})
    period.refresh_from_db()
    assert period.status == PeriodStatus.CLOSED  # no reason, no reopen
    client.post(
        url, {"action": "reopen_periods", "_selected_action": [period.pk], "reason": "更正"}
    )
    period.refresh_from_db()
    assert period.status == PeriodStatus.OPEN
    assert period.status_changes.last().reason == "更正"  # type: ignore[union-attr]


def test_care_records_are_visible_to_hr_and_supervisors_up_the_chain_only() -> None:
    top_user = UserFactory(is_staff=True)
    top = PersonFactory(user=top_user)
    mid_user = UserFactory(is_staff=True)
    mid = PersonFactory(user=mid_user, supervisor=top)
    member_user = UserFactory(is_staff=True, roles=[Role.UNIT_AUXILIARY])
    member = PersonFactory(user=member_user, supervisor=mid)
    peer_user = UserFactory(is_staff=True)
    peer = PersonFactory(user=peer_user, supervisor=top)
    PersonFactory(supervisor=peer)  # peer supervises someone, but not the member
    CareRecord.objects.create(
        person=member, kind=CareKind.TALK, date=date(2026, 3, 1), summary="家中困难，谈心谈话"
    )
    url = reverse("admin:personnel_carerecord_changelist")

    def sees(user: object) -> bool:
        response = logged_in(user).get(url)
        return response.status_code == 200 and "谈心" in str(
            [str(r.summary) for r in response.context["cl"].result_list]
        )

    assert sees(UserFactory(roles=[Role.HR], is_staff=True))
    assert sees(top_user)  # two levels up
    assert sees(mid_user)
    assert logged_in(member_user).get(url).status_code == 403  # not their own either
    assert not sees(peer_user)
    assert logged_in(peer_user).get(url).status_code == 200
    assert logged_in(UserFactory(is_staff=True, roles=[Role.COMMANDER])).get(url).status_code == 403


def test_the_daily_roster_page_is_on_the_training_index_and_shows_warnings() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from apps.personnel.models import Assignment

    hr = UserFactory(roles=[Role.HR], is_staff=True)
    point = StagingPointFactory(name="北门点")
    person = PersonFactory()
    Assignment.objects.create(
        person=person,
        staging_point=point,
        shift=1,
        valid_from=datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")),
    )
    client = logged_in(hr)
    index = client.get(reverse("admin:app_list", args=["training"]))
    roster_url = reverse("admin:training_dailyroster_changelist")
    assert roster_url in index.content.decode()
    page = client.get(roster_url, {"day": "2026-03-10", "staging_point": point.pk, "shift": "1"})
    assert page.status_code == 200
    [row] = page.context["rows"]
    assert row.rostered == [person]
    assert "北门点" in page.content.decode()
    assert "errornote" in page.content.decode()  # one on the street: below the minimum crew
    assert client.get(roster_url, {"day": "not-a-date"}).status_code == 200


def test_the_assignment_list_flags_a_call_taker_not_signed_off() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from apps.personnel.models import Assignment
    from apps.training.models import Mentorship

    hr = UserFactory(roles=[Role.HR], is_staff=True)
    mentee = PersonFactory(name="徒弟")
    Mentorship.objects.create(mentor=PersonFactory(), mentee=mentee, started_on=date(2026, 1, 1))
    Assignment.objects.create(
        person=mentee,
        staging_point=StagingPointFactory(),
        shift=1,
        call_taker=True,
        valid_from=datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")),
    )
    body = logged_in(hr).get(reverse("admin:personnel_assignment_changelist")).content.decode()
    assert "徒弟" in body
    assert 'alt="True"' in body  # the flag column's "yes" icon


def test_an_inline_score_above_the_items_maximum_is_a_form_error() -> None:
    hr = UserFactory(roles=[Role.HR], is_staff=True)
    period = period_open(month=date(2026, 3, 1))
    person = PersonFactory()
    assessment = assessment_start(period=period, person=person)
    item = period.scheme_items.get(code="discipline")
    response = logged_in(hr).post(
        reverse("admin:personnel_assessment_change", args=[assessment.pk]),
        {
            "period": period.pk,
            "person": person.pk,
            "note": "",
            "scores-TOTAL_FORMS": "1",
            "scores-INITIAL_FORMS": "0",
            "scores-0-item": item.pk,
            "scores-0-score": "150",
            "adjustments-TOTAL_FORMS": "0",
            "adjustments-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert not assessment.scores.exists()
    ok = logged_in(hr).post(
        reverse("admin:personnel_assessment_change", args=[assessment.pk]),
        {
            "period": period.pk,
            "person": person.pk,
            "note": "",
            "scores-TOTAL_FORMS": "1",
            "scores-INITIAL_FORMS": "0",
            "scores-0-item": item.pk,
            "scores-0-score": "88",
            "adjustments-TOTAL_FORMS": "0",
            "adjustments-INITIAL_FORMS": "0",
        },
    )
    assert ok.status_code == 302
    assessment.refresh_from_db()
    assert assessment.total == 88  # recomputed after the admin save
