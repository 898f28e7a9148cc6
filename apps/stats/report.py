"""The summary as the lines of a plain-text report (the stats_report and simulate commands)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from apps.incidents.models import Category, Origin

from .selectors import IntervalFigures, Summary


def category_label(category: str) -> str:
    labels = {
        Category.CRIMINAL: pgettext("report", "criminal"),
        Category.PUBLIC_ORDER: pgettext("report", "public order"),
        Category.DISPUTE: pgettext("report", "dispute"),
        Category.ASSISTANCE: pgettext("report", "assistance"),
        Category.OTHER: pgettext("report", "other"),
    }
    return labels[Category(category)]


def percent(numerator: int, denominator: int) -> str:
    """A percentage with one decimal, from the counts (the 4-decimal rates would round twice:
    2108 ÷ 2239 = 0.94149… is 94.1%, but its rate 0.9415 would print as 94.2%)."""
    return "—" if denominator <= 0 else f"{numerator * 100 / denominator:.1f}%"


def minutes(seconds: int) -> str:
    """A target in minutes: 3, or 2.5 for a target of 150 s."""
    return f"{seconds // 60}" if seconds % 60 == 0 else f"{seconds / 60:.1f}"


def seconds(figures: IntervalFigures) -> str:
    if figures.median_s is None:
        return "—"
    return _("%(median)d s (90%%: %(p90)d s)") % {
        "median": round(figures.median_s),
        "p90": round(figures.p90_s or 0),
    }


def render(result: Summary) -> list[str]:
    """The report's lines in the active language."""
    sep = pgettext("list separator", ", ")
    cats = [c.value for c in Category]

    def counted(field: str) -> str:
        return sep.join(
            pgettext("report", "%(category)s %(count)d")
            % {"category": category_label(c), "count": getattr(result.by_category[c], field)}
            for c in cats
        )

    rates = sep.join(
        pgettext("report", "%(category)s %(rate)s")
        % {
            "category": category_label(c),
            "rate": percent(result.by_category[c].resolved_on_scene, result.by_category[c].closed),
        }
        for c in cats
    )
    r = result.response
    patrol = result.by_origin.get(Origin.PATROL, 0)
    origin = (
        [
            _(
                "Of these, %(patrol)d were raised by crews on patrol (以巡待接) and %(calls)d "
                "came in as 110 calls; response times count the calls only."
            )
            % {"patrol": patrol, "calls": result.by_origin.get(Origin.CALL, 0)}
        ]
        if patrol
        else []
    )
    return [
        _("Calls received: %(total)d, of which %(parts)s.")
        % {"total": result.total, "parts": counted("total")},
        *origin,
        _("Transferred to police stations: %(n)d, of which %(parts)s; transfer share %(share)s.")
        % {
            "n": result.transferred,
            "parts": counted("transferred"),
            "share": percent(result.transferred, result.total),
        },
        _("On-scene resolution rate: %(parts)s.") % {"parts": rates},
        _(
            "Median intake to dispatch %(dispatch)s, dispatch to acknowledge %(ack)s, dispatch "
            "to arrival %(arrival)s, arrival to close %(close)s."
        )
        % {
            "dispatch": seconds(r.intake_to_dispatch),
            "ack": seconds(r.dispatch_to_acknowledge),
            "arrival": seconds(r.dispatch_to_arrival),
            "close": seconds(r.arrival_to_close),
        },
        # As the model reports arrivals: each call against its own target, the two apart.
        _(
            "Acknowledged within target: %(ack)s; arrived within %(zone_min)s minutes (priority "
            "zone) %(zone)s, within %(standard_min)s minutes %(standard)s; escalations: "
            "%(escalations)d; arrival breaches: %(breaches)d; cancelled: %(cancelled)d."
        )
        % {
            "ack": percent(r.acknowledge_within_target, r.acknowledge_due),
            "zone_min": minutes(settings.TARGET_ARRIVAL_PRIORITY_ZONE_S),
            "zone": percent(r.arrival_zone_within_target, r.arrival_zone_due),
            "standard_min": minutes(settings.TARGET_ARRIVAL_S),
            "standard": percent(r.arrival_standard_within_target, r.arrival_standard_due),
            "escalations": r.escalations,
            "breaches": r.breaches,
            "cancelled": result.cancelled,
        },
    ]
