"""The commanders' dashboard: /command/stats/ (a page of the admin's session).

Commanders and dispatchers only (others 403; anonymous → the admin login). The query string
holds the filters (start, end, station, staging_point, unit, category, shift; default: the last
30 days) and, for an export, ``format=csv|xlsx`` and
``table=category|staging_points|units|incidents`` (the last: the period's incidents one by one,
streamed); ``format=json`` answers the figures as JSON. Bad input → 400 with a message per
field (JSON for exports and JSON, the page with the form's errors otherwise).

The page itself computes nothing: it answers at once with the filters and a notice of what is
being computed, and its script loads the figures (``format=fragment``: the cards, charts and
tables as HTML, with the charts' figures embedded), so a long period never shows a blank page,
and a failed request shows a message.

Every figure comes from the statistics service through apps/stats/dashboard.py;
the charts are drawn by static/stats/dashboard.js as SVG from the figures embedded in the
fragment.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import (
    HttpRequest,
    HttpResponseBase,
    HttpResponseForbidden,
    JsonResponse,
)
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.common.geo import wgs84_to_gcj02
from apps.common.maps import map_config
from apps.common.roles import is_command_centre
from apps.incidents.models import Category
from apps.units.models import StagingPoint, Station, Unit

from .api import MAX_PERIOD_DAYS
from .dashboard import Dashboard, dashboard
from .exports import Table, incidents_response, table_response
from .selectors import StatsFilter, local_today

DEFAULT_DAYS = 30
FORMATS = ("html", "fragment", "json", "csv", "xlsx")
TABLES = ("category", "staging_points", "units", "incidents")


def _shift_choices() -> list[tuple[str, str]]:
    starts = settings.SHIFT_START_HOURS
    return [
        (
            str(i + 1),
            _("Shift %(n)d (from %(hour)02d:00)") % {"n": i + 1, "hour": starts[i]},
        )
        for i in range(3)
    ]


class DashboardFilterForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), required=False, input_formats=["%Y-%m-%d"])
    end = forms.DateField(label=gettext_lazy("To"), required=False, input_formats=["%Y-%m-%d"])
    station = forms.ModelChoiceField(
        label=gettext_lazy("Station"),
        queryset=Station.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("All"),
    )
    staging_point = forms.ModelChoiceField(
        label=gettext_lazy("Staging point"),
        queryset=StagingPoint.objects.order_by("code"),
        required=False,
        empty_label=gettext_lazy("All"),
    )
    unit = forms.ModelChoiceField(
        label=gettext_lazy("Unit"),
        queryset=Unit.objects.order_by("callsign"),
        required=False,
        empty_label=gettext_lazy("All"),
    )
    category = forms.ChoiceField(
        label=gettext_lazy("Category"),
        required=False,
        choices=[("", gettext_lazy("All")), *Category.choices],
    )
    shift = forms.ChoiceField(label=gettext_lazy("Shift"), required=False)
    format = forms.ChoiceField(
        choices=[(f, f) for f in FORMATS], required=False, widget=forms.HiddenInput
    )
    table = forms.ChoiceField(
        choices=[(t, t) for t in TABLES], required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        shift = self.fields["shift"]
        assert isinstance(shift, forms.ChoiceField)
        # The shift hours are settings: read them per form, not at import.
        shift.choices = [("", _("All")), *_shift_choices()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        end: date = data.get("end") or local_today()
        start: date = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if end < start:
            self.add_error("end", _("The end is before the start."))
        elif (end - start).days + 1 > MAX_PERIOD_DAYS:
            self.add_error(
                "end", _("The period is longer than %(days)d days.") % {"days": MAX_PERIOD_DAYS}
            )
        if data.get("format") in ("csv", "xlsx") and not data.get("table"):
            self.add_error("table", _("Choose the table to export."))
        data["start"], data["end"] = start, end
        return data

    def stats_filter(self) -> StatsFilter:
        data = self.cleaned_data

        def pk(name: str) -> int | None:
            obj = data.get(name)
            return None if obj is None else int(obj.pk)

        return StatsFilter(
            station_id=pk("station"),
            staging_point_id=pk("staging_point"),
            unit_id=pk("unit"),
            category=data.get("category") or None,
            shift=int(data["shift"]) if data.get("shift") else None,
        )


def _wants_json(request: HttpRequest) -> bool:
    """Anything but the page (an export, JSON, an unknown format) gets its errors as JSON."""
    return request.GET.get("format", "html") != "html" or "application/json" in (
        request.headers.get("Accept", "")
    )


@require_GET
@never_cache
def dashboard_page(request: HttpRequest) -> HttpResponseBase:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not is_command_centre(request.user):
        return HttpResponseForbidden(_("The dashboard is for commanders and dispatchers."))
    form = DashboardFilterForm(request.GET)
    if not form.is_valid():
        errors = {field: [str(m) for m in msgs] for field, msgs in form.errors.items()}
        if _wants_json(request):
            return JsonResponse({"errors": errors}, status=400)
        return render(request, "stats/dashboard.html", {"form": form}, status=400)
    query = request.GET.copy()
    for key in ("format", "table"):
        query.pop(key, None)
    fmt = form.cleaned_data.get("format") or "html"
    if fmt == "html":
        fragment = query.copy()
        fragment["format"] = "fragment"
        return render(
            request,
            "stats/dashboard.html",
            {
                "form": form,
                "start": form.cleaned_data["start"],
                "end": form.cleaned_data["end"],
                "fragment_query": fragment.urlencode(),
                "strings": _strings(),
            },
        )
    if fmt in ("csv", "xlsx") and form.cleaned_data["table"] == "incidents":
        # The incidents one by one, streamed; nothing of the dashboard is computed for them.
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        return incidents_response(
            start=start,
            end=end,
            filters=form.stats_filter(),
            fmt=fmt,
            filename=f"incidents_{start:%Y%m%d}-{end:%Y%m%d}.{fmt}",
        )
    data = dashboard(
        start=form.cleaned_data["start"],
        end=form.cleaned_data["end"],
        filters=form.stats_filter(),
    )
    if fmt in ("csv", "xlsx"):
        return _export(data.tables[form.cleaned_data["table"]], data, fmt)
    if fmt == "json":
        return JsonResponse(_figures(data))
    return render(
        request,
        "stats/dashboard_figures.html",
        {
            "data": data,
            "tables": list(data.tables.values()),
            "figures": _figures(data),
            "map": _map_config(data),
            "export_query": query.urlencode(),
        },
    )


def _export(table: Table, data: Dashboard, fmt: str) -> HttpResponseBase:
    name = f"{table.key}_{data.start:%Y%m%d}-{data.end:%Y%m%d}.{fmt}"
    return table_response(table, fmt, name)


def _figures(data: Dashboard) -> dict[str, Any]:
    """The figures as JSON (the charts' input and ``format=json``)."""
    labels = dict(Category.choices)
    return {
        "start": data.start.isoformat(),
        "end": data.end.isoformat(),
        "summary": data.summary.to_dict(),
        "imported": data.imported,
        "categories": [{"code": str(c), "label": str(labels[c])} for c in Category.values],
        "days": [{**asdict(d), "day": d.day.isoformat()} for d in data.days],
        "histograms": {name: asdict(h) for name, h in data.histograms.items()},
        "tables": {
            key: {"columns": t.headers(), "keys": [c.key for c in t.columns], "rows": t.rows}
            for key, t in data.tables.items()
        },
    }


def _map_point(lat: float, lon: float) -> tuple[float, float]:
    if settings.MAP_TILE_CRS == "gcj02":
        return wgs84_to_gcj02(lat, lon)
    return lat, lon


def _map_config(data: Dashboard) -> dict[str, Any]:
    return {
        **map_config(),
        "cellDeg": 10**-3,
        "heat": [[*_map_point(c.lat, c.lon), c.n] for c in data.heat],
        "points": [
            {"code": p.code, "name": p.name, "latlon": list(_map_point(p.lat, p.lon))}
            for p in data.points
        ],
    }


def _strings() -> dict[str, str]:
    return {
        "volume": _("Daily calls by category"),
        "histogramAck": _("Dispatch → acknowledge (calls per interval)"),
        "histogramArrival": _("Dispatch → arrival (calls per interval)"),
        "compliance": _("Daily share meeting the targets"),
        "ackTarget": _("Acknowledged within 1 minute"),
        "arrivalTarget": _("Arrived within 3/5 minutes"),
        "transferShare": _("Transfer share"),
        "onSceneRate": _("On-scene resolution rate"),
        "byCategory": _("Transfer share and on-scene resolution by category"),
        "noData": _("No calls in this period."),
        "seconds": _("s"),
        "calls": _("calls"),
        "heat": _("Calls"),
        "stagingPoint": _("Staging point"),
        "moveUp": _("Move-up: free units to cover busy staging points"),
        "moveUpNone": _("Every staging point's area is covered by a free unit."),
        "moveUpRow": _("Send %(unit)s from %(from)s to %(to)s (about %(eta)s min)"),
        "moveUpShare": _("Covered within 5 minutes now: %(now)s; after the moves: %(after)s"),
        "moveUpGap": _("No free unit reaches these staging points' areas in time: %(points)s"),
        "listSeparator": _(", "),
        "moveUpError": _("The coverage gap could not be loaded."),
        "loadError": _(
            "The figures could not be computed (%(reason)s). Try again, or choose a shorter period."
        ),
        "httpError": _("the server answered %(status)s"),
        "networkError": _("no answer from the server"),
        "retry": _("Try again"),
    }
