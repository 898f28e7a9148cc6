"""Training sessions, mentoring (传帮带) and certifications.

The daily roster view (2/3 on the street, 1/3 in training) reads assignments from
apps.personnel and session attendance from here; see apps.training.selectors.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class SessionType(models.TextChoices):
    DRILL = "drill", _("On-scene drill (最小作战单元)")
    CALL_TAKING = "call_taking", _("Call-taking procedure")
    DUTIES = "duties", _("Duties and rules")
    EQUIPMENT = "equipment", _("Equipment")
    FITNESS = "fitness", _("Fitness")
    OTHER = "other", _("Other")


class TrainingSession(models.Model):
    type = models.CharField(_("type"), max_length=16, choices=SessionType.choices)
    title = models.CharField(_("title"), max_length=100, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    place = models.CharField(_("place"), max_length=100, blank=True)
    trainer = models.ForeignKey(
        "personnel.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sessions_trained",
        verbose_name=_("trainer"),
    )

    class Meta:
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after_start"
            ),
        ]
        indexes = [
            # daily roster: sessions overlapping a shift window
            models.Index(fields=["starts_at", "ends_at"], name="session_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.starts_at:%Y-%m-%d %H:%M}"


class AttendanceStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    PRESENT = "present", _("Present")
    ABSENT = "absent", _("Absent")
    EXCUSED = "excused", _("Excused")


class Attendance(models.Model):
    session = models.ForeignKey(
        TrainingSession,
        on_delete=models.CASCADE,
        related_name="attendance",
        verbose_name=_("session"),
    )
    person = models.ForeignKey(
        "personnel.Person",
        on_delete=models.CASCADE,
        related_name="attendance",
        verbose_name=_("person"),
    )
    status = models.CharField(
        _("attendance"),
        max_length=8,
        choices=AttendanceStatus.choices,
        default=AttendanceStatus.PLANNED,
    )
    result = models.CharField(_("result"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["session", "person"]
        constraints = [
            models.UniqueConstraint(fields=["session", "person"], name="attendance_session_person"),
        ]

    def __str__(self) -> str:
        return f"{self.person} @ {self.session}: {self.get_status_display()}"


class Competency(models.Model):
    """A competency a mentee is signed off on (接警流程, 职责规范, 设备应用, …)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50)
    required_for_call_taking = models.BooleanField(
        _("required to take calls"),
        default=False,
        help_text=_("A mentee not signed off on this is flagged when rostered as call taker."),
    )

    class Meta:
        verbose_name = _("competency")
        verbose_name_plural = _("competencies")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Mentorship(models.Model):
    """A mentor–mentee pair (传帮带)."""

    mentor = models.ForeignKey(
        "personnel.Person",
        on_delete=models.PROTECT,
        related_name="mentees",
        verbose_name=_("mentor"),
    )
    mentee = models.ForeignKey(
        "personnel.Person",
        on_delete=models.CASCADE,
        related_name="mentorships",
        verbose_name=_("mentee"),
    )
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    class Meta:
        verbose_name = _("mentorship")
        verbose_name_plural = _("mentorships")
        ordering = ["-started_on"]
        constraints = [
            models.CheckConstraint(condition=~Q(mentor=F("mentee")), name="mentorship_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.mentor} → {self.mentee}"


class SignOff(models.Model):
    """A mentee's competency, signed off by the mentor on a date."""

    mentorship = models.ForeignKey(
        Mentorship,
        on_delete=models.CASCADE,
        related_name="sign_offs",
        verbose_name=_("mentorship"),
    )
    competency = models.ForeignKey(
        Competency, on_delete=models.PROTECT, related_name="sign_offs", verbose_name=_("competency")
    )
    signed_off_on = models.DateField(_("signed off on"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("sign-off")
        verbose_name_plural = _("sign-offs")
        ordering = ["mentorship", "competency"]
        constraints = [
            models.UniqueConstraint(
                fields=["mentorship", "competency"], name="signoff_mentorship_competency"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mentorship.mentee} {self.competency} {self.signed_off_on}"


class Certification(models.Model):
    person = models.ForeignKey(
        "personnel.Person",
        on_delete=models.CASCADE,
        related_name="certifications",
        verbose_name=_("person"),
    )
    name = models.CharField(_("certification"), max_length=100)
    number = models.CharField(_("certificate number"), max_length=50, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)

    class Meta:
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        ordering = ["expires_on"]
        indexes = [
            # "what expires in the next 30 days"
            models.Index(fields=["expires_on"], name="certification_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.name}"


class DailyRoster(TrainingSession):
    """No table: puts the daily roster page (2/3 street, 1/3 training) on the admin index."""

    class Meta:
        proxy = True
        verbose_name = _("daily roster")
        verbose_name_plural = _("daily roster")
