"""Assessment of auxiliaries: weighted items, adjustments, joint responsibility, grades, ranking,
frozen periods and the selection of model auxiliaries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.common.roles import Role
from apps.personnel.models import (
    AdjustmentKind,
    Assessment,
    AssessmentPeriod,
    Grade,
    ModelStatus,
    PeriodStatus,
    Person,
)
from apps.personnel.services import (
    PeriodClosed,
    assessment_add_adjustment,
    assessment_set_scores,
    assessment_start,
    model_auxiliaries_propose,
    model_auxiliary_confirm,
    period_close,
    period_open,
    period_reopen,
)
from tests.support.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db
D = Decimal


def scored(period: AssessmentPeriod, person: Person, d: int, b: int, s: int) -> Assessment:
    a = assessment_start(period=period, person=person)
    return assessment_set_scores(
        assessment=a, scores={"discipline": D(d), "bearing": D(b), "skills": D(s)}
    )


@pytest.fixture
def period() -> AssessmentPeriod:
    return period_open(month=date(2026, 3, 17))


def test_a_new_period_gets_the_default_scheme_and_the_next_copies_its_changes(
    period: AssessmentPeriod,
) -> None:
    assert period.month == date(2026, 3, 1)
    assert {i.code for i in period.scheme_items.all()} == {
        "discipline",
        "bearing",
        "skills",
        "call_handling",
    }
    period.scheme_items.filter(code="bearing").update(weight=D("40"))
    period.grade_bands.filter(grade=Grade.EXCELLENT).update(min_total=D("95"))
    april = period_open(month=date(2026, 4, 1))
    assert april.scheme_items.get(code="bearing").weight == D("40")
    assert april.grade_bands.get(grade=Grade.EXCELLENT).min_total == D("95")


def test_own_score_is_the_weighted_mean_plus_awards_minus_deductions(
    period: AssessmentPeriod,
) -> None:
    # weights 30/20/25 over the scored items (call handling has no incidents: left out)
    a = scored(period, PersonFactory(), 90, 80, 100)
    expected = (D(90) * 30 + D(80) * 20 + D(100) * 25) / 75
    assert a.own_score == expected.quantize(D("0.01"))
    assessment_add_adjustment(
        assessment=a, kind=AdjustmentKind.DEDUCTION, points=D(5), reason="迟到", on=date(2026, 3, 3)
    )
    assessment_add_adjustment(
        assessment=a,
        kind=AdjustmentKind.AWARD,
        points=D(2),
        reason="表扬",
        on=date(2026, 3, 9),
        evidence="表扬信",
    )
    a.refresh_from_db()
    assert a.total == (expected - 3).quantize(D("0.01"))


def test_a_score_above_the_items_maximum_is_refused(period: AssessmentPeriod) -> None:
    a = assessment_start(period=period, person=PersonFactory())
    with pytest.raises(ValidationError) as exc:
        assessment_set_scores(assessment=a, scores={"discipline": D(101), "nonsense": D(1)})
    assert set(exc.value.message_dict) == {"discipline", "nonsense"}
    assert not a.scores.exists()


def test_a_leaders_total_includes_the_configured_share_of_the_groups_average(
    period: AssessmentPeriod,
) -> None:
    period.joint_share = D("0.40")
    period.save()
    leader = PersonFactory(name="组长")
    good = PersonFactory(supervisor=leader)
    poor = PersonFactory(supervisor=leader)
    scored(period, good, 80, 80, 80)
    scored(period, poor, 60, 60, 60)
    mine = scored(period, leader, 100, 100, 100)
    assert mine.own_score == D("100.00")
    assert mine.group_average == D("70.00")
    assert mine.total == D("88.00")  # 0.6 × 100 + 0.4 × 70
    # A member's total is their own score.
    assert Assessment.objects.get(person=good).total == D("80.00")


def test_grades_and_competition_ranking_within_a_period(period: AssessmentPeriod) -> None:
    a = scored(period, PersonFactory(), 95, 95, 95)
    b = scored(period, PersonFactory(), 80, 80, 80)
    c = scored(period, PersonFactory(), 80, 80, 80)
    d = scored(period, PersonFactory(), 50, 50, 50)
    for x in (a, b, c, d):
        x.refresh_from_db()
    assert [x.rank for x in (a, b, c, d)] == [1, 2, 2, 4]
    assert [x.grade for x in (a, b, c, d)] == [Grade.EXCELLENT, Grade.PASS, Grade.PASS, Grade.FAIL]


def test_a_closed_period_is_frozen_until_an_explicit_recorded_reopen(
    period: AssessmentPeriod,
) -> None:
    hr = UserFactory(roles=[Role.HR])
    a = scored(period, PersonFactory(), 80, 80, 80)
    period_close(period=period, actor=hr)
    with pytest.raises(PeriodClosed):
        assessment_set_scores(assessment=a, scores={"discipline": D(100)})
    with pytest.raises(PeriodClosed):
        assessment_add_adjustment(
            assessment=a, kind=AdjustmentKind.AWARD, points=D(1), reason="x", on=date(2026, 3, 1)
        )
    with pytest.raises(PeriodClosed):
        assessment_start(period=period, person=PersonFactory())
    a.refresh_from_db()
    assert a.total == D("80.00")

    with pytest.raises(ValidationError):
        period_reopen(period=period, actor=hr, reason="  ")
    period_reopen(period=period, actor=hr, reason="申诉更正")
    assessment_set_scores(assessment=a, scores={"discipline": D(100)})
    period.refresh_from_db()
    assert period.status == PeriodStatus.OPEN
    history = list(period.status_changes.values_list("from_status", "to_status", "reason", "actor"))
    assert history == [("open", "closed", "", hr.pk), ("closed", "open", "申诉更正", hr.pk)]


def test_model_auxiliaries_are_proposed_from_the_top_and_confirmed_by_hr(
    period: AssessmentPeriod,
) -> None:
    period.model_count = 2
    period.save()
    first = scored(period, PersonFactory(), 99, 99, 99)
    second = scored(period, PersonFactory(), 90, 90, 90)
    scored(period, PersonFactory(), 70, 70, 70)
    hr = UserFactory(roles=[Role.HR])
    from apps.common.errors import DomainError

    with pytest.raises(DomainError):
        model_auxiliaries_propose(period=period)  # the ranking is final only when closed
    period_close(period=period, actor=hr)
    proposed = model_auxiliaries_propose(period=period)
    assert [p.pk for p in proposed] == [first.pk, second.pk]
    with pytest.raises(PermissionDenied):
        model_auxiliary_confirm(assessment=first, actor=UserFactory(roles=[Role.DISPATCHER]))
    confirmed = model_auxiliary_confirm(assessment=first, actor=hr)
    assert confirmed.model_status == ModelStatus.CONFIRMED
    assert confirmed.model_confirmed_by == hr
