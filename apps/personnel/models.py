"""The people of the force: officers (民警) and auxiliaries (辅警), and who was posted where.

Assignments carry valid-from/valid-to so that "who was on unit X at 03:00 on a given date" is
answerable from history, not only from the current roster.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


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
    name = models.CharField(_("name"), max_length=50)
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
