"""Excel import and export (django-import-export) of people, assignments and assessments.

Imports run in one transaction after a dry run that shows a row-by-row report; any error or
invalid row rolls the whole file back (see ImportExportHRMixin in admin.py). Model validation
runs on every row (clean_model_instances), so a bad choice, a duplicate or a missing reference
is reported against its row rather than failing in the database.

The sheets are in the reader's language (zh-Hans by default): a column is headed by the field's
label (警号/工号, 姓名, 类型 …), a choice is written as its label (辅警, 在职 …), a yes/no as 是/否,
and the sheet is named after the records. An import reads those labels in Chinese or English and
still reads the codes of older files (staff_number, auxiliary, 1/0). An unknown column is refused
for the whole file, an unknown value for its row and column.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import models
from django.utils import translation
from django.utils.functional import Promise, cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, results, widgets

from apps.units.models import StagingPoint, Unit

from .models import Assessment, AssessmentPeriod, Assignment, Grade, Person, SchemeItemCode
from .services import (
    assessment_recompute_period,
    assessment_set_scores,
    period_require_open,
    validate_supervisor,
)

# The languages a header or a value may be written in, besides the reader's own.
FILE_LANGUAGES = ("zh-hans", "en")


class CellError(ValueError):
    """A cell's value refused, with a message for the reader (already translated)."""


class ReaderError(results.Error):
    """An import error on the admin's report: a refused file is told in words, with no Python
    traceback under it (other errors keep theirs)."""

    @cached_property
    def traceback(self) -> str:
        if isinstance(self.error, CellError):
            return ""
        text: str = super().traceback
        return text


def _key(text: object) -> str:
    """How headers and values are compared: spacing and letter case do not matter."""
    if isinstance(text, float) and text.is_integer():
        text = int(text)  # a spreadsheet's 2.0 is the code 2
    return " ".join(str(text).split()).casefold()


def _spellings(label: str | Promise) -> set[str]:
    """A label as the reader's language and each file language write it (compared by _key)."""
    names = {_key(label)}
    if isinstance(label, Promise):
        for language in FILE_LANGUAGES:
            with translation.override(language):
                names.add(_key(label))
    return names


_MISSING = object()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class ChoicesWidget(widgets.Widget):
    """A choice written as its label (辅警); read as its label in Chinese or English, or as its
    stored code (auxiliary)."""

    def __init__(self, choices: Iterable[tuple[Any, Any]], *, empty: Any = "") -> None:
        super().__init__()
        self.choices = [(code, label) for code, label in choices if code not in ("", None)]
        self.empty = empty
        self._codes: dict[str, dict[str, Any]] = {}  # per active language: spelling → code

    def codes(self) -> dict[str, Any]:
        """Every accepted spelling (by _key) → its code; a code wins over another's label."""
        language = translation.get_language() or ""
        if language not in self._codes:
            table = {_key(code): code for code, _label in self.choices}
            for code, label in self.choices:
                for spelling in _spellings(label):
                    table.setdefault(spelling, code)
            self._codes[language] = table
        return self._codes[language]

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        if _blank(value):
            return self.empty
        code = self.codes().get(_key(value), _MISSING)
        if code is not _MISSING:
            return code
        raise CellError(
            _("“%(value)s” is not one of: %(choices)s.")
            % {"value": value, "choices": "、".join(str(label) for _c, label in self.choices)}
        )

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        for code, label in self.choices:
            if code == value:
                return str(label)
        return "" if value is None else str(value)


YES = gettext_lazy("yes")
NO = gettext_lazy("no")


class YesNoWidget(widgets.Widget):
    """A flag written as 是/否; read as 是/否, yes/no or 1/0 (older files), true/false."""

    TRUE = {"1", "true", "y"}
    FALSE = {"0", "false", "n"}

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> bool | None:
        if _blank(value):
            return None  # the field's default
        if isinstance(value, bool):
            return value
        key = _key(value)
        if key in self.TRUE or key in _spellings(YES):
            return True
        if key in self.FALSE or key in _spellings(NO):
            return False
        raise CellError(
            _("“%(value)s” is neither %(yes)s nor %(no)s.") % {"value": value, "yes": YES, "no": NO}
        )

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        if not isinstance(value, bool):
            return ""
        return str(YES if value else NO)


class LookupWidget(widgets.ForeignKeyWidget):
    """A reference by a natural key; an unknown key is a field error of its row."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a number typed into a spreadsheet: 1001.0 is "1001"
        try:
            return super().clean(value, row, **kwargs)
        except self.model.DoesNotExist:
            raise CellError(_("%(value)s: no such record.") % {"value": value}) from None
        except self.model.MultipleObjectsReturned:
            raise CellError(
                _("%(value)s: more than one record matches.") % {"value": value}
            ) from None


class HRResource(resources.ModelResource):
    """A resource whose sheets are in the reader's language (see the module's docstring).

    A field keeps its code as its name; each instance (one per request) heads its columns with
    the labels of the active language, so the admin's import and export pages, the dry run's
    report and the file agree."""

    # Declared field name → header, where the model field's verbose name is not the header.
    column_labels: ClassVar[dict[str, str | Promise]] = {}

    @classmethod
    def field_from_django_field(
        cls, field_name: str, django_field: Any, readonly: bool
    ) -> fields.Field:
        field: fields.Field = super().field_from_django_field(field_name, django_field, readonly)
        if django_field.choices:
            empty = None if django_field.null else ""
            field.widget = ChoicesWidget(django_field.choices, empty=empty)
        elif isinstance(django_field, models.BooleanField):
            field.widget = YesNoWidget()
        return field

    @classmethod
    def label_of(cls, name: str) -> str | Promise:
        """The header of the declared field `name` (lazy: in the language of its use)."""
        if name in cls.column_labels:
            return cls.column_labels[name]
        field = cls.fields[name]
        try:
            model_field = cls._meta.model._meta.get_field(field.attribute or name)
        except FieldDoesNotExist:
            return str(field.column_name or name)
        label: str | Promise = getattr(model_field, "verbose_name", name)
        return label

    @classmethod
    def get_error_result_class(cls) -> type[results.Error]:
        return ReaderError

    @classmethod
    def get_display_name(cls) -> str:
        return str(cls._meta.model._meta.verbose_name_plural)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._codes = {name: str(field.column_name) for name, field in self.fields.items()}
        for name, field in self.fields.items():
            field.column_name = str(self.label_of(name))

    # --- import ---------------------------------------------------------------------------

    def header_aliases(self) -> dict[str, str]:
        """Every accepted spelling of a header (by _key) → the column it names."""
        aliases: dict[str, str] = {}
        for name, field in self.fields.items():
            for spelling in (_key(name), _key(self._codes[name]), *_spellings(self.label_of(name))):
                aliases.setdefault(spelling, field.column_name)
        return aliases

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        super().before_import(dataset, **kwargs)
        aliases = self.header_aliases()
        headers: list[Any] = []
        unknown: list[str] = []
        twice: list[str] = []
        for header in dataset.headers or []:
            if _blank(header):
                headers.append(header)
                continue
            column = aliases.get(_key(header))
            if column is None:
                unknown.append(str(header))
                headers.append(header)
            elif column in headers:
                twice.append(column)
                headers.append(header)
            else:
                headers.append(column)
        problems = []
        if unknown:
            problems.append(
                _("Unknown columns: %(columns)s. The columns are: %(known)s.")
                % {
                    "columns": "、".join(unknown),
                    "known": "、".join(f.column_name for f in self.get_import_fields()),
                }
            )
        if twice:
            problems.append(_("Columns given twice: %(columns)s.") % {"columns": "、".join(twice)})
        key_columns = [self.fields[name].column_name for name in self.get_import_id_fields()]
        missing = [c for c in key_columns if c not in headers]
        if missing and list(self.get_import_id_fields()) != ["id"]:  # an "id" may be left out
            problems.append(
                _("The columns that identify a record are missing: %(columns)s.")
                % {"columns": "、".join(missing)}
            )
        if problems:
            # The rows are not read: nothing of a file whose columns are wrong is imported.
            del dataset[:]
            raise CellError(" ".join(problems))
        dataset.headers = headers

    def get_instance(self, instance_loader: Any, row: Any) -> Any:
        try:
            return super().get_instance(instance_loader, row)
        except (ValueError, TypeError, ArithmeticError):
            # A bad cell of the row's key: import_instance reports it against its column.
            return None

    def import_field(
        self, field: Any, instance: Any, row: Any, is_m2m: bool = False, **kwargs: Any
    ) -> None:
        try:
            super().import_field(field, instance, row, is_m2m, **kwargs)
        except CellError:
            raise
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise CellError(self._cell_error(field, row.get(field.column_name))) from exc

    @staticmethod
    def _cell_error(field: Any, value: Any) -> str:
        widget = field.widget
        if isinstance(widget, widgets.DateTimeWidget):
            text = _("“%(value)s” is not a date and time (e.g. 2026-03-01 08:00:00).")
        elif isinstance(widget, widgets.DateWidget):
            text = _("“%(value)s” is not a date (e.g. 2026-03-01).")
        elif isinstance(widget, widgets.NumberWidget):
            text = _("“%(value)s” is not a number.")
        else:
            text = _("“%(value)s” is not a valid value.")
        return text % {"value": value}

    def import_row(self, row: Any, instance_loader: Any, **kwargs: Any) -> Any:
        result = super().import_row(row, instance_loader, **kwargs)
        if result.validation_error is not None:
            result.validation_error = self._by_column(result.validation_error)
        return result

    def _by_column(self, error: ValidationError) -> ValidationError:
        """A row's errors keyed by the column headers the reader sees, not by field names."""
        if not hasattr(error, "error_dict"):
            return error
        opts = self._meta.model._meta
        columns: dict[str, str] = {}
        for name, field in self.fields.items():
            columns.setdefault(name, field.column_name)
            if field.attribute:
                columns.setdefault(field.attribute, field.column_name)
                try:
                    model_field = opts.get_field(field.attribute)
                except FieldDoesNotExist:
                    continue
                columns.setdefault(model_field.name, field.column_name)
        by_column: dict[str, list[ValidationError]] = {}
        for key, errors in error.error_dict.items():
            column: str
            if key == NON_FIELD_ERRORS:
                column = NON_FIELD_ERRORS
            elif key in columns:
                column = columns[key]
            else:
                try:
                    column = str(getattr(opts.get_field(key), "verbose_name", key))
                except FieldDoesNotExist:
                    column = key
            by_column.setdefault(column, []).extend(errors)
        return ValidationError(by_column)

    # --- export ---------------------------------------------------------------------------

    def after_export(self, queryset: Any, dataset: Any, **kwargs: Any) -> None:
        super().after_export(queryset, dataset, **kwargs)
        # The sheet's name (tablib's default: "Tablib Dataset"); xlsx allows 31 characters.
        dataset.title = self.get_display_name()[:31]


class PersonResource(HRResource):
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


class AssignmentResource(HRResource):
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
    # The squad group crewed (尖刀队), by call sign; empty for a patrol unit's crew.
    unit = fields.Field(attribute="unit", column_name="unit", widget=LookupWidget(Unit, "callsign"))

    column_labels = {"person": Person._meta.get_field("staff_number").verbose_name}

    class Meta:
        model = Assignment
        # A posting is identified by who, where and from when.
        import_id_fields = ("person", "staging_point", "valid_from")
        fields = (
            "person",
            "staging_point",
            "unit",
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


class AssessmentResource(HRResource):
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
    grade = fields.Field(
        attribute="grade", column_name="grade", readonly=True, widget=ChoicesWidget(Grade.choices)
    )
    rank = fields.Field(attribute="rank", column_name="rank", readonly=True)
    note = fields.Field(attribute="note", column_name="note", widget=widgets.CharWidget())

    column_labels = {
        "period": gettext_lazy("month"),
        "person": Person._meta.get_field("staff_number").verbose_name,
        "discipline": SchemeItemCode.DISCIPLINE.label,
        "bearing": SchemeItemCode.BEARING.label,
        "skills": SchemeItemCode.SKILLS.label,
        "call_handling": SchemeItemCode.CALL_HANDLING.label,
    }

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
        if self.get_field_name(field) in SCORE_COLUMNS:
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
            column = self.fields[str(code)].column_name
            raw = row.get(column)
            if _blank(raw):
                continue
            try:
                scores[str(code)] = Decimal(str(raw).strip())
            except InvalidOperation:
                errors[column] = _("“%(value)s” is not a number.") % {"value": raw}
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
