"""Writes for personnel: the responsibility chain and the assessment of auxiliaries.

Assessment writes lock the period row (select_for_update) and refuse a closed period with
PeriodClosed (409 in the API, an error message in the admin). Totals, grades and ranks are
recomputed for the whole period in the same transaction: a period is a few hundred rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.common.errors import DomainError

from .access import is_hr
from .models import (
    AdjustmentKind,
    Assessment,
    AssessmentAdjustment,
    AssessmentPeriod,
    AssessmentScore,
    Grade,
    GradeBand,
    ModelStatus,
    PeriodStatus,
    PeriodStatusChange,
    Person,
    PersonKind,
    SchemeItem,
    SchemeItemCode,
)
from .selectors import people_call_handling

CENT = Decimal("0.01")
HUNDRED = Decimal("100")

DEFAULT_SCHEME: dict[str, Decimal] = {
    SchemeItemCode.DISCIPLINE: Decimal("30"),
    SchemeItemCode.BEARING: Decimal("20"),
    SchemeItemCode.SKILLS: Decimal("25"),
    SchemeItemCode.CALL_HANDLING: Decimal("25"),
}
DEFAULT_BANDS: dict[str, Decimal] = {
    Grade.EXCELLENT: Decimal("90"),
    Grade.PASS: Decimal("75"),
    Grade.BASIC: Decimal("60"),
    Grade.FAIL: Decimal("0"),
}


class PeriodClosed(DomainError):
    code = "period_closed"


# --- Responsibility chain -----------------------------------------------------------------------


def validate_supervisor(*, person: Person, supervisor: Person | None) -> None:
    """Refuse a supervisor that would make the chain a cycle (ValidationError on the field)."""
    if supervisor is None:
        return
    if person.pk is not None and supervisor.pk == person.pk:
        raise ValidationError({"supervisor": _("A person cannot supervise themselves.")})
    if person.pk is None:
        return
    seen: set[int] = set()
    current: Person | None = supervisor
    while current is not None and current.pk not in seen:
        if current.pk == person.pk:
            raise ValidationError(
                {
                    "supervisor": _("%(name)s is below this person in the chain.")
                    % {"name": supervisor.name}
                }
            )
        seen.add(current.pk)
        current = current.supervisor


def person_set_supervisor(*, person: Person, supervisor: Person | None) -> Person:
    """Set a person's supervisor. Locks the person's row; refuses cycles (ValidationError)."""
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        validate_supervisor(person=locked, supervisor=supervisor)
        locked.supervisor = supervisor
        locked.save(update_fields=["supervisor"])
    person.supervisor = supervisor
    return locked


# --- Assessment periods --------------------------------------------------------------------------


def _lock_period(period_id: int, *, require_open: bool = True) -> AssessmentPeriod:
    period = AssessmentPeriod.objects.select_for_update().get(pk=period_id)
    if require_open and period.status != PeriodStatus.OPEN:
        raise PeriodClosed(
            _("The assessment period %(month)s is closed; reopen it first.")
            % {"month": str(period)},
            period=str(period),
        )
    return period


def period_require_open(*, period_id: int) -> AssessmentPeriod:
    """Lock a period for an edit; PeriodClosed when it is closed. Call inside a transaction."""
    return _lock_period(period_id)


def period_open(*, month: date) -> AssessmentPeriod:
    """Create a month's period, copying the scheme and grade bands of the latest earlier period
    (or the defaults when there is none)."""
    first = month.replace(day=1)
    with transaction.atomic():
        period, created = AssessmentPeriod.objects.get_or_create(month=first)
        if not created:
            return period
        previous = AssessmentPeriod.objects.filter(month__lt=first).order_by("-month").first()
        if previous is not None:
            period.joint_share = previous.joint_share
            period.model_count = previous.model_count
            period.save(update_fields=["joint_share", "model_count"])
            items = [
                SchemeItem(
                    period=period, code=i.code, name=i.name, weight=i.weight, max_score=i.max_score
                )
                for i in previous.scheme_items.all()
            ]
            bands = [
                GradeBand(period=period, grade=b.grade, min_total=b.min_total)
                for b in previous.grade_bands.all()
            ]
        else:
            items = [SchemeItem(period=period, code=c, weight=w) for c, w in DEFAULT_SCHEME.items()]
            bands = [
                GradeBand(period=period, grade=g, min_total=m) for g, m in DEFAULT_BANDS.items()
            ]
        SchemeItem.objects.bulk_create(items)
        GradeBand.objects.bulk_create(bands)
    return period


def _change_status(
    *, period: AssessmentPeriod, to: PeriodStatus, actor: Any, reason: str
) -> AssessmentPeriod:
    old = period.status
    period.status = to
    period.save(update_fields=["status"])
    PeriodStatusChange.objects.create(
        period=period,
        actor=actor if getattr(actor, "pk", None) else None,
        at=timezone.now(),
        from_status=old,
        to_status=to,
        reason=reason,
    )
    return period


def period_close(*, period: AssessmentPeriod, actor: Any, reason: str = "") -> AssessmentPeriod:
    """Close (freeze) a period: compute call handling from the incidents, recompute totals,
    grades and ranks, then close. Locks the period row; writes the history row."""
    with transaction.atomic():
        locked = _lock_period(period.pk)
        _compute_call_handling(locked)
        _recompute(locked)
        return _change_status(period=locked, to=PeriodStatus.CLOSED, actor=actor, reason=reason)


def period_reopen(*, period: AssessmentPeriod, actor: Any, reason: str) -> AssessmentPeriod:
    """Reopen a closed period for corrections. The reason is required and recorded."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the period is reopened.")})
    with transaction.atomic():
        locked = _lock_period(period.pk, require_open=False)
        if locked.status != PeriodStatus.CLOSED:
            raise DomainError(_("The period is not closed."), code="period_not_closed")
        return _change_status(period=locked, to=PeriodStatus.OPEN, actor=actor, reason=reason)


# --- Assessments ------------------------------------------------------------


def assessment_start(*, period: AssessmentPeriod, person: Person) -> Assessment:
    """The person's assessment in the period (created when missing). Auxiliaries only."""
    if person.kind != PersonKind.AUXILIARY:
        raise ValidationError({"person": _("Only auxiliaries are assessed.")})
    with transaction.atomic():
        _lock_period(period.pk)
        assessment, _created = Assessment.objects.get_or_create(period=period, person=person)
    return assessment


def assessment_set_scores(
    *, assessment: Assessment, scores: Mapping[str, Decimal], recompute: bool = True
) -> Assessment:
    """Set item scores by item code (an item missing from the scheme or a score outside
    0..max is a ValidationError). Locks the period; recomputes the period (an import passes
    recompute=False and recomputes once at the end)."""
    with transaction.atomic():
        period = _lock_period(assessment.period_id)
        items = {i.code: i for i in period.scheme_items.all()}
        errors: dict[str, str] = {}
        for code, score in scores.items():
            item = items.get(code)
            if item is None:
                errors[code] = _("Not an item of this period's scheme.")
            elif not Decimal(0) <= score <= item.max_score:
                errors[code] = _("Between 0 and %(max)s.") % {"max": item.max_score}
        if errors:
            raise ValidationError(errors)
        for code, score in scores.items():
            AssessmentScore.objects.update_or_create(
                assessment=assessment, item=items[code], defaults={"score": score}
            )
        if recompute:
            _recompute(period)
    assessment.refresh_from_db()
    return assessment


def assessment_add_adjustment(
    *,
    assessment: Assessment,
    kind: AdjustmentKind,
    points: Decimal,
    reason: str,
    on: date,
    evidence: str = "",
) -> AssessmentAdjustment:
    """Record a deduction or an award. Locks the period; recomputes the period."""
    if points <= 0:
        raise ValidationError({"points": _("Points must be positive.")})
    with transaction.atomic():
        period = _lock_period(assessment.period_id)
        row = AssessmentAdjustment.objects.create(
            assessment=assessment,
            kind=kind,
            points=points,
            reason=reason,
            date=on,
            evidence=evidence,
        )
        _recompute(period)
    return row


def assessment_recompute_period(*, period: AssessmentPeriod) -> None:
    """Recompute totals, grades and ranks of an open period (after admin edits)."""
    with transaction.atomic():
        _recompute(_lock_period(period.pk))


def period_compute_call_handling(*, period: AssessmentPeriod) -> None:
    """Fill the call-handling item of every assessment from the incident data."""
    with transaction.atomic():
        locked = _lock_period(period.pk)
        _compute_call_handling(locked)
        _recompute(locked)


def _compute_call_handling(period: AssessmentPeriod) -> None:
    """Score = item maximum × mean of the shares within the acknowledge and arrival targets and
    the on-scene resolution rate (those that exist). No incidents: no score, and the item drops
    out of the weighting for that auxiliary."""
    item = period.scheme_items.filter(code=SchemeItemCode.CALL_HANDLING).first()
    if item is None:
        return
    assessments = list(period.assessments.select_related("person"))
    figures_of = people_call_handling(people=[a.person for a in assessments], month=period.month)
    for assessment in assessments:
        figures = figures_of[assessment.person_id]
        parts = [
            p
            for p in (
                figures.acknowledge_within_target,
                figures.arrival_within_target,
                figures.on_scene_resolution_rate,
            )
            if p is not None
        ]
        if not parts:
            AssessmentScore.objects.filter(assessment=assessment, item=item).delete()
            continue
        score = (item.max_score * Decimal(str(sum(parts) / len(parts)))).quantize(CENT)
        AssessmentScore.objects.update_or_create(
            assessment=assessment, item=item, defaults={"score": score}
        )


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _recompute(period: AssessmentPeriod) -> None:
    """Own score = weighted mean of item scores (each on a 0–100 scale) + awards − deductions.
    A leader's total = (1 − share) × own + share × mean own score of their direct reports
    assessed in the period (连带责任). Grades from the period's bands; competition ranking."""
    items = {i.pk: i for i in period.scheme_items.all()}
    assessments = list(period.assessments.select_related("person"))
    scores: dict[int, list[AssessmentScore]] = defaultdict(list)
    for score in AssessmentScore.objects.filter(assessment__period=period):
        scores[score.assessment_id].append(score)
    adjust: dict[int, Decimal] = defaultdict(Decimal)
    for adj in AssessmentAdjustment.objects.filter(assessment__period=period):
        adjust[adj.assessment_id] += adj.points if adj.kind == AdjustmentKind.AWARD else -adj.points

    own: dict[int, Decimal | None] = {}
    for a in assessments:
        weighted = Decimal(0)
        weights = Decimal(0)
        for score in scores[a.pk]:
            item = items[score.item_id]
            weighted += score.score / item.max_score * HUNDRED * item.weight
            weights += item.weight
        own[a.pk] = _q(weighted / weights + adjust[a.pk]) if weights else None

    by_person = {a.person_id: a for a in assessments}
    reports: dict[int, list[Decimal]] = defaultdict(list)
    for a in assessments:
        boss = by_person.get(a.person.supervisor_id) if a.person.supervisor_id else None
        value = own[a.pk]
        if boss is not None and value is not None:
            reports[boss.pk].append(value)

    share = period.joint_share
    bands = sorted(period.grade_bands.all(), key=lambda b: b.min_total, reverse=True)
    totals: dict[int, Decimal] = {}
    for a in assessments:
        own_score = own[a.pk]
        group = reports.get(a.pk)
        group_average = _q(sum(group, Decimal(0)) / len(group)) if group else None
        a.own_score = own_score
        a.group_average = group_average
        a.total = None
        a.grade = ""
        if own_score is not None:
            total = (
                own_score
                if group_average is None
                else _q((1 - share) * own_score + share * group_average)
            )
            a.total = totals[a.pk] = total
            a.grade = next((b.grade for b in bands if total >= b.min_total), "")
    # Competition ranking: equal totals share a rank (1, 1, 3).
    a_rank: dict[int, int] = {}
    previous: Decimal | None = None
    rank = 0
    for position, (pk, total) in enumerate(
        sorted(totals.items(), key=lambda kv: kv[1], reverse=True), start=1
    ):
        if total != previous:
            rank, previous = position, total
        a_rank[pk] = rank
    for a in assessments:
        a.rank = a_rank.get(a.pk)
    Assessment.objects.bulk_update(
        assessments, ["own_score", "group_average", "total", "grade", "rank"]
    )


# --- Model auxiliaries (标兵) --------------------------------------------------


def model_auxiliaries_propose(*, period: AssessmentPeriod) -> list[Assessment]:
    """Propose the top of a closed period's ranking (rank ≤ model_count, ties included) as model
    auxiliaries; replaces earlier unconfirmed proposals. Confirmation is HR's (below)."""
    with transaction.atomic():
        locked = _lock_period(period.pk, require_open=False)
        if locked.status != PeriodStatus.CLOSED:
            raise DomainError(
                _("Close the period first: model auxiliaries come from the final ranking."),
                code="period_not_closed",
            )
        locked.assessments.filter(model_status=ModelStatus.PROPOSED).update(
            model_status=ModelStatus.NONE
        )
        top = locked.assessments.filter(rank__isnull=False, rank__lte=locked.model_count).exclude(
            model_status=ModelStatus.CONFIRMED
        )
        top.update(model_status=ModelStatus.PROPOSED)
        return list(
            locked.assessments.filter(
                model_status__in=[ModelStatus.PROPOSED, ModelStatus.CONFIRMED]
            ).order_by("rank")
        )


def model_auxiliary_confirm(*, assessment: Assessment, actor: Any) -> Assessment:
    """HR confirms a proposed model auxiliary. Locks the assessment row."""
    if not is_hr(actor):
        raise PermissionDenied(_("Only HR confirms model auxiliaries."))
    with transaction.atomic():
        row = Assessment.objects.select_for_update().get(pk=assessment.pk)
        if row.model_status != ModelStatus.PROPOSED:
            raise DomainError(_("Only a proposed model auxiliary can be confirmed."))
        row.model_status = ModelStatus.CONFIRMED
        row.model_confirmed_by = actor
        row.model_confirmed_at = timezone.now()
        row.save(update_fields=["model_status", "model_confirmed_by", "model_confirmed_at"])
    return row
