"""The people of the force: officers (民警) and auxiliaries (辅警), and who was posted where.

Assignments carry valid-from/valid-to so that "who was on unit X at 03:00 on a given date" is
answerable from history, not only from the current roster.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PersonKind(models.TextChoices):
    OFFICER = "officer", _("Police officer (民警)")
    AUXILIARY = "auxiliary", _("Auxiliary (辅警)")


class PersonStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    LEAVE = "leave", _("On leave")
    LEFT = "left", _("Left the force")


class Person(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="person",
        verbose_name=_("login account"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=PersonKind.choices)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    staff_number = models.CharField(_("badge / staff number"), max_length=32, unique=True)
    # Resident ID card number (18 characters). Shown in full to HR only; masked elsewhere.
    id_card_number = models.CharField(_("ID card number"), max_length=18, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    hire_date = models.DateField(_("hire date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=PersonStatus.choices, default=PersonStatus.ACTIVE
    )
    photo = models.FileField(_("photo"), upload_to="people/", null=True, blank=True)
    # The responsibility chain: each person's direct supervisor (组长 → 分队长 → 责任民警 → …).
    supervisor = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("supervisor"),
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["staff_number"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(supervisor=F("pk")), name="person_not_own_supervisor"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.staff_number})"


class TeamRole(models.TextChoices):
    RESPONSIBLE_OFFICER = "responsible_officer", _("Responsible officer (责任民警)")
    SQUAD_LEADER = "squad_leader", _("Squad leader (分队长)")
    GROUP_LEADER = "group_leader", _("Group leader (组长)")
    MEMBER = "member", _("Member")


class Shift(models.IntegerChoices):
    FIRST = 1, _("Shift 1")
    SECOND = 2, _("Shift 2")
    THIRD = 3, _("Shift 3")


class Assignment(models.Model):
    """A posting of a person, valid over [valid_from, valid_to) (open-ended when valid_to is null).

    A responsible officer is posted to a staging point with no shift (all shifts); an auxiliary
    to a staging point and a shift; an auxiliary of the reserve has no staging point.
    """

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("person")
    )
    staging_point = models.ForeignKey(
        "units.StagingPoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
        verbose_name=_("staging point"),
    )
    shift = models.PositiveSmallIntegerField(
        _("shift"), choices=Shift.choices, null=True, blank=True
    )
    team_role = models.CharField(
        _("team role"), max_length=24, choices=TeamRole.choices, default=TeamRole.MEMBER
    )
    elite_squad = models.BooleanField(_("elite squad (尖刀队)"), default=False)
    # The unit crewed, when it is not simply "the unit of the staging point": a group of the
    # elite squad (its members are its crew wherever it is based).
    unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="crew_postings",
        verbose_name=_("unit crewed"),
    )
    # Rostered as the unit's call taker (接警员) for this posting. A flag on the posting rather
    # than a separate duty roster: the roster already is the assignment history, and a mentee
    # not yet signed off on call-taking is flagged from it (apps.training.selectors).
    call_taker = models.BooleanField(_("rostered as call taker"), default=False)
    valid_from = models.DateTimeField(_("valid from"))
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["person", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="assignment_valid_range",
            ),
        ]
        indexes = [
            # "who was on staging point X at time T": staging point + validity window
            models.Index(fields=["staging_point", "valid_from", "valid_to"], name="assign_sp_time"),
            # a person's current posting
            models.Index(fields=["person", "valid_to"], name="assign_person_current"),
        ]

    def __str__(self) -> str:
        return f"{self.person} @ {self.staging_point or '-'} / {self.shift or '-'}"


# --- Assessment of auxiliaries (考核) -----------------------------------------------------------


class PeriodStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class AssessmentPeriod(models.Model):
    """One month of assessment. A closed period is frozen until an explicit (recorded) reopen."""

    month = models.DateField(_("month"), unique=True, help_text=_("The first day of the month."))
    status = models.CharField(
        _("status"), max_length=8, choices=PeriodStatus.choices, default=PeriodStatus.OPEN
    )
    # Joint responsibility (连带责任): the share of a leader's total taken from the average of
    # the people who report to them.
    joint_share = models.DecimalField(
        _("joint-responsibility share"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.30"),
        help_text=_(
            "0 to 1: a leader's total = (1 − share) × own score + share × reports' average."
        ),
    )
    model_count = models.PositiveSmallIntegerField(
        _("model auxiliaries to propose"),
        default=3,
        help_text=_("Taken from the top of the ranking."),
    )

    class Meta:
        verbose_name = _("assessment period")
        verbose_name_plural = _("assessment periods")
        ordering = ["-month"]
        constraints = [
            models.CheckConstraint(
                condition=Q(joint_share__gte=0, joint_share__lte=1), name="period_joint_share_0_1"
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="period_month_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class PeriodStatusChange(models.Model):
    """History of a period's closing and reopening: who, when, from, to, why."""

    period = models.ForeignKey(
        AssessmentPeriod,
        on_delete=models.CASCADE,
        related_name="status_changes",
        verbose_name=_("period"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"))
    from_status = models.CharField(_("from"), max_length=8, choices=PeriodStatus.choices)
    to_status = models.CharField(_("to"), max_length=8, choices=PeriodStatus.choices)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("period status change")
        verbose_name_plural = _("period status changes")
        ordering = ["period", "at"]

    def __str__(self) -> str:
        return f"{self.period} {self.from_status}→{self.to_status}"


class SchemeItemCode(models.TextChoices):
    DISCIPLINE = "discipline", _("Discipline (遵章守纪)")
    BEARING = "bearing", _("Bearing and appearance (警容风貌)")
    SKILLS = "skills", _("Professional skills (业务技能)")
    CALL_HANDLING = "call_handling", _("Call handling")
    OTHER = "other", _("Other")


class SchemeItem(models.Model):
    """A scored item of a period's scheme, with its weight (data, not code)."""

    period = models.ForeignKey(
        AssessmentPeriod,
        on_delete=models.CASCADE,
        related_name="scheme_items",
        verbose_name=_("period"),
    )
    code = models.CharField(_("item"), max_length=16, choices=SchemeItemCode.choices)
    name = models.CharField(_("name"), max_length=50, blank=True)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2)
    max_score = models.DecimalField(
        _("maximum score"), max_digits=5, decimal_places=2, default=Decimal("100")
    )

    class Meta:
        verbose_name = _("scheme item")
        verbose_name_plural = _("scheme items")
        ordering = ["period", "code"]
        constraints = [
            models.UniqueConstraint(fields=["period", "code"], name="schemeitem_period_code_uniq"),
            models.CheckConstraint(condition=Q(weight__gte=0), name="schemeitem_weight_nonneg"),
            models.CheckConstraint(condition=Q(max_score__gt=0), name="schemeitem_max_positive"),
        ]

    def __str__(self) -> str:
        return self.name or self.get_code_display()


class Grade(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent (优秀)")
    PASS = "pass", _("Pass (合格)")
    BASIC = "basic", _("Basic pass (基本合格)")
    FAIL = "fail", _("Fail (不合格)")


class GradeBand(models.Model):
    """A grade's lower bound of the total, per period."""

    period = models.ForeignKey(
        AssessmentPeriod,
        on_delete=models.CASCADE,
        related_name="grade_bands",
        verbose_name=_("period"),
    )
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices)
    min_total = models.DecimalField(_("minimum total"), max_digits=6, decimal_places=2)

    class Meta:
        verbose_name = _("grade band")
        verbose_name_plural = _("grade bands")
        ordering = ["period", "-min_total"]
        constraints = [
            models.UniqueConstraint(fields=["period", "grade"], name="gradeband_period_grade_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.get_grade_display()} ≥ {self.min_total}"


class ModelStatus(models.TextChoices):
    NONE = "", _("—")
    PROPOSED = "proposed", _("Proposed")
    CONFIRMED = "confirmed", _("Confirmed (标兵)")


class Assessment(models.Model):
    """An auxiliary's assessment in a period. Totals, grade and rank are computed by the service."""

    period = models.ForeignKey(
        AssessmentPeriod,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("period"),
    )
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="assessments", verbose_name=_("person")
    )
    # Computed by assessment_recompute_period, stored for lists, ranking and export.
    own_score = models.DecimalField(
        _("own score"), max_digits=6, decimal_places=2, null=True, blank=True, editable=False
    )
    group_average = models.DecimalField(
        _("group average"), max_digits=6, decimal_places=2, null=True, blank=True, editable=False
    )
    total = models.DecimalField(
        _("total"), max_digits=6, decimal_places=2, null=True, blank=True, editable=False
    )
    grade = models.CharField(
        _("grade"), max_length=10, choices=Grade.choices, blank=True, editable=False
    )
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True, editable=False)
    model_status = models.CharField(
        _("model auxiliary (标兵)"),
        max_length=10,
        choices=ModelStatus.choices,
        default=ModelStatus.NONE,
        blank=True,
        editable=False,
    )
    model_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("confirmed by"),
    )
    model_confirmed_at = models.DateTimeField(
        _("confirmed at"), null=True, blank=True, editable=False
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["period", "rank", "person"]
        constraints = [
            models.UniqueConstraint(fields=["period", "person"], name="assessment_period_person"),
        ]
        indexes = [
            # ranking of a period
            models.Index(fields=["period", "rank"], name="assessment_period_rank"),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.person}"


class AssessmentScore(models.Model):
    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="scores", verbose_name=_("assessment")
    )
    item = models.ForeignKey(
        SchemeItem, on_delete=models.PROTECT, related_name="scores", verbose_name=_("item")
    )
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2)

    class Meta:
        verbose_name = _("item score")
        verbose_name_plural = _("item scores")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "item"], name="score_assessment_item"),
            models.CheckConstraint(condition=Q(score__gte=0), name="score_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.item}: {self.score}"

    def clean(self) -> None:
        # Form validation only (the admin's inline); the services check the same.
        if self.item_id is None or self.score is None:
            return
        if self.score > self.item.max_score:
            raise ValidationError({"score": _("At most %(max)s.") % {"max": self.item.max_score}})
        if self.assessment_id is not None and self.item.period_id != self.assessment.period_id:
            raise ValidationError({"item": _("Not an item of this assessment's period.")})


class AdjustmentKind(models.TextChoices):
    DEDUCTION = "deduction", _("Deduction")
    AWARD = "award", _("Award")


class AssessmentAdjustment(models.Model):
    """An itemised deduction or award, with its reason, date and evidence."""

    assessment = models.ForeignKey(
        Assessment,
        on_delete=models.CASCADE,
        related_name="adjustments",
        verbose_name=_("assessment"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=AdjustmentKind.choices)
    points = models.DecimalField(_("points"), max_digits=5, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=200)
    date = models.DateField(_("date"))
    evidence = models.TextField(_("evidence note"), blank=True)

    class Meta:
        verbose_name = _("deduction or award")
        verbose_name_plural = _("deductions and awards")
        ordering = ["assessment", "date"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="adjustment_points_positive"),
        ]

    def __str__(self) -> str:
        sign = "-" if self.kind == AdjustmentKind.DEDUCTION else "+"
        return f"{sign}{self.points} {self.reason}"


# --- Care (关爱措施) --------------------------------------------------------------------------


class CareKind(models.TextChoices):
    TALK = "talk", _("One-to-one talk (谈心谈话)")
    HOSPITAL_VISIT = "hospital_visit", _("Hospital visit")
    ISSUE = "issue", _("Uniform and equipment issue")
    HONOUR = "honour", _("Honour or award")
    OTHER = "other", _("Other")


class CareRecord(models.Model):
    """A care measure for a person. Visible to HR and the person's supervisors only."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="care_records", verbose_name=_("person")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=CareKind.choices)
    date = models.DateField(_("date"))
    summary = models.TextField(_("summary"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("care record")
        verbose_name_plural = _("care records")
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.person} {self.get_kind_display()} {self.date}"
