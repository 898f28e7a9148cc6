"""Excel import and export (django-import-export) of people, assignments and assessments.

Imports run in one transaction after a dry run that shows a row-by-row report; any error or
invalid row rolls the whole file back (see ImportExportHRMixin in admin.py). Model validation
runs on every row (clean_model_instances), so a bad choice, a duplicate or a missing reference
is reported against its row rather than failing in the database.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from apps.units.models import StagingPoint

from .models import Assessment, AssessmentPeriod, Assignment, Person, SchemeItemCode
from .services import (
    assessment_recompute_period,
    assessment_set_scores,
    period_require_open,
    validate_supervisor,
)


class LookupWidget(widgets.ForeignKeyWidget):
    """A reference by a natural key; an unknown key is a field error of its row."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        try:
            return super().clean(value, row, **kwargs)
        except self.model.DoesNotExist:
            raise ValueError(_("%(value)s: no such record.") % {"value": value}) from None
        except self.model.MultipleObjectsReturned:
            raise ValueError(
                _("%(value)s: more than one record matches.") % {"value": value}
            ) from None


class PersonResource(resources.ModelResource):
    supervisor = fields.Field(
        attribute="supervisor",
        column_name="supervisor",
        widget=LookupWidget(Person, "staff_number"),
    )

    class Meta:
        model = Person
        import_id_fields = ("staff_number",)
        fields = (
            "staff_number",
            "name",
            "kind",
            "status",
            "id_card_number",
            "phone",
            "hire_date",
            "supervisor",
        )
        clean_model_instances = True
        skip_unchanged = True

    def before_save_instance(self, instance: Person, row: Any, **kwargs: Any) -> None:
        validate_supervisor(person=instance, supervisor=instance.supervisor)


class AssignmentResource(resources.ModelResource):
    person = fields.Field(
        attribute="person",
        column_name="staff_number",
        widget=LookupWidget(Person, "staff_number"),
    )
    staging_point = fields.Field(
        attribute="staging_point",
        column_name="staging_point",
        widget=LookupWidget(StagingPoint, "code"),
    )

    class Meta:
        model = Assignment
        # A posting is identified by who, where and from when.
        import_id_fields = ("person", "staging_point", "valid_from")
        fields = (
            "person",
            "staging_point",
            "shift",
            "team_role",
            "elite_squad",
            "call_taker",
            "valid_from",
            "valid_to",
        )
        clean_model_instances = True
        skip_unchanged = True


SCORE_COLUMNS = [
    SchemeItemCode.DISCIPLINE,
    SchemeItemCode.BEARING,
    SchemeItemCode.SKILLS,
]


class AssessmentResource(resources.ModelResource):
    """One row per auxiliary and month: the typed item scores (discipline, bearing, skills;
    call handling is computed from incidents). Totals, grades and ranks are exported, and
    recomputed after an import."""

    period = fields.Field(
        attribute="period",
        column_name="month",
        widget=LookupWidget(AssessmentPeriod, "month"),
    )
    person = fields.Field(
        attribute="person",
        column_name="staff_number",
        widget=LookupWidget(Person, "staff_number"),
    )
    discipline = fields.Field(column_name="discipline", readonly=False)
    bearing = fields.Field(column_name="bearing", readonly=False)
    skills = fields.Field(column_name="skills", readonly=False)
    call_handling = fields.Field(column_name="call_handling", readonly=True)
    own_score = fields.Field(attribute="own_score", column_name="own_score", readonly=True)
    total = fields.Field(attribute="total", column_name="total", readonly=True)
    grade = fields.Field(attribute="grade", column_name="grade", readonly=True)
    rank = fields.Field(attribute="rank", column_name="rank", readonly=True)
    note = fields.Field(attribute="note", column_name="note", widget=widgets.CharWidget())

    class Meta:
        model = Assessment
        import_id_fields = ("period", "person")
        fields = (
            "period",
            "person",
            "discipline",
            "bearing",
            "skills",
            "call_handling",
            "own_score",
            "total",
            "grade",
            "rank",
            "note",
        )
        export_order = (
            "period",
            "person",
            "discipline",
            "bearing",
            "skills",
            "call_handling",
            "own_score",
            "total",
            "grade",
            "rank",
            "note",
        )
        clean_model_instances = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._periods: set[int] = set()

    def _score(self, obj: Assessment, code: str) -> str:
        for s in obj.scores.all():
            if s.item.code == code:
                return str(s.score)
        return ""

    def dehydrate_discipline(self, obj: Assessment) -> str:
        return self._score(obj, SchemeItemCode.DISCIPLINE)

    def dehydrate_bearing(self, obj: Assessment) -> str:
        return self._score(obj, SchemeItemCode.BEARING)

    def dehydrate_skills(self, obj: Assessment) -> str:
        return self._score(obj, SchemeItemCode.SKILLS)

    def dehydrate_call_handling(self, obj: Assessment) -> str:
        return self._score(obj, SchemeItemCode.CALL_HANDLING)

    def import_field(
        self, field: Any, instance: Any, row: Any, is_m2m: bool = False, **kwargs: Any
    ) -> None:
        # The score columns are not model attributes: they are read in after_save_instance.
        if field.column_name in SCORE_COLUMNS:
            return
        super().import_field(field, instance, row, is_m2m, **kwargs)

    def before_save_instance(self, instance: Assessment, row: Any, **kwargs: Any) -> None:
        if instance.person.kind != "auxiliary":
            raise ValidationError({"person": _("Only auxiliaries are assessed.")})
        period_require_open(period_id=instance.period_id)

    def after_save_instance(self, instance: Assessment, row: Any, **kwargs: Any) -> None:
        scores: dict[str, Decimal] = {}
        errors: dict[str, str] = {}
        for code in SCORE_COLUMNS:
            raw = row.get(code)
            if raw in (None, ""):
                continue
            try:
                scores[str(code)] = Decimal(str(raw))
            except InvalidOperation:
                errors[str(code)] = _("Not a number.")
        if errors:
            raise ValidationError(errors)
        if scores:
            assessment_set_scores(assessment=instance, scores=scores, recompute=False)
        self._periods.add(instance.period_id)

    def after_import(self, dataset: Any, result: Any, **kwargs: Any) -> None:
        super().after_import(dataset, result, **kwargs)
        if result.has_errors() or result.has_validation_errors():
            return
        for period in AssessmentPeriod.objects.filter(pk__in=self._periods):
            assessment_recompute_period(period=period)

    def get_queryset(self) -> Any:
        return (
            super()
            .get_queryset()
            .select_related("period", "person")
            .prefetch_related("scores__item")
        )
