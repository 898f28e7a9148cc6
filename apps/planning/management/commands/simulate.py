"""python manage.py simulate --days 61 --calls 5046 [--seed 1] [--start YYYY-MM-DD] [--keep]
[--move-up] [--no-patrol] [--no-redispatch] [--compare] [--quiet] [--json]

Replays a synthetic stream of calls through the real dispatch services in simulated time and
prints the statistics (apps/planning/simulation.py). It runs in a private in-memory copy of the
city, so the live system is not disturbed; --keep runs in this database instead and commits the
simulated incidents (a training or test database).
--compare runs the same calls under today's staging points, under the proposed points and with
move-up, and prints the trade-off between the number of units and the calls reached in time.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from apps.common.commands import command_day
from apps.common.progress import Progress, add_quiet_argument
from apps.planning.simulation import (
    Assumptions,
    Comparison,
    SimulationResult,
    compare,
    default_start,
    describe,
    simulate,
)
from apps.stats.report import percent, render
from apps.stats.selectors import local_today


def _reach_lines(result: SimulationResult) -> list[str]:
    r = result.reach
    return [
        _(
            "Reached within 3 minutes of the call in the priority zone: %(zone)s (%(zn)d of "
            "%(zt)d); within 5 minutes elsewhere: %(other)s (%(on)d of %(ot)d); all calls: "
            "%(all3)s within 3 minutes, %(all5)s within 5."
        )
        % {
            "zone": percent(r.zone_within_180s, r.zone_calls),
            "zn": r.zone_within_180s,
            "zt": r.zone_calls,
            "other": percent(r.other_within_300s, r.other_calls),
            "on": r.other_within_300s,
            "ot": r.other_calls,
            "all3": percent(r.within_180s, r.calls),
            "all5": percent(r.within_300s, r.calls),
        }
    ]


def _assumption_lines(a: Assumptions) -> list[str]:
    def span(values: tuple[float, float]) -> str:
        return f"{values[0]:g}–{values[1]:g}"

    return [
        _(
            "Assumed: dispatch %(dispatch)s s after the call; %(on_time)d%% of crews acknowledge "
            "in %(ack)s s, the rest in %(late)s s; turnout %(turnout)s s; travel = the %(router)s "
            "estimate × %(factor)s + %(parking)g s; idle units %(patrol)s; move-up %(move_up)s; "
            "re-dispatch after a missed acknowledge %(redispatch)s; transfers follow each "
            "category's need plus a share per minute late (apps/planning/simulation.py)."
        )
        % {
            "dispatch": span(a.dispatch_s),
            "on_time": round(a.acknowledge_on_time_share * 100),
            "ack": span(a.acknowledge_on_time_s),
            "late": span(a.acknowledge_late_s),
            "turnout": span(a.turnout_s),
            "router": a.router,
            "factor": span(a.travel_factor),
            "parking": a.parking_s,
            "patrol": _("patrol their grid") if a.patrol else _("wait at their staging points"),
            "move_up": _("on") if a.move_up else _("off"),
            "redispatch": _("on") if a.redispatch else _("off"),
        }
    ]


class Command(BaseCommand):
    help = "What-if: replay synthetic calls through the dispatch services and report statistics."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=61)
        parser.add_argument("--calls", type=int, default=5046)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--start",
            help=(
                "first simulated day (default: the DAYS days to yesterday; with --keep, the "
                "first days without incidents)"
            ),
        )
        parser.add_argument("--keep", action="store_true", help="commit the simulated incidents")
        parser.add_argument("--move-up", action="store_true", help="free units move up")
        parser.add_argument(
            "--no-patrol", action="store_true", help="idle units wait at their staging points"
        )
        parser.add_argument(
            "--no-redispatch",
            action="store_true",
            help="no re-dispatch after a missed acknowledge",
        )
        parser.add_argument(
            "--compare",
            action="store_true",
            help="today's points, the proposed points and move-up, on the same calls",
        )
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")
        parser.add_argument("--lang", default="zh-hans", choices=["zh-hans", "en"])
        add_quiet_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        days, calls = options["days"], options["calls"]
        if days < 1 or calls < 1:
            raise CommandError(_("--days and --calls must be at least 1."))
        if options["compare"] and options["keep"]:
            raise CommandError(_("--compare keeps nothing; leave out --keep."))
        if options["start"]:
            start = command_day(options["start"])
        elif options["keep"]:
            start = default_start(days, local_today())
        else:
            # A run in the private copy may overlap real incidents: the period just ended.
            start = local_today() - timedelta(days=days)
        assumptions = Assumptions(
            patrol=not options["no_patrol"],
            move_up=options["move_up"],
            redispatch=not options["no_redispatch"],
        )
        runs = 3 if options["compare"] else 1
        # The live escalation logs a warning when no unit is left to send; in a what-if that is
        # a figure of the report, not an operator's alarm.
        escalation_log = logging.getLogger("apps.realtime.escalation")
        level = escalation_log.level
        escalation_log.setLevel(logging.ERROR)
        try:
            with Progress(
                self.stderr,
                total=calls * runs,
                label=_("Simulating"),
                unit=_("calls"),
                quiet=options["quiet"],
            ) as progress:
                if options["compare"]:
                    comparison = compare(
                        days=days,
                        calls=calls,
                        seed=options["seed"],
                        start=start,
                        assumptions=assumptions,
                        on_call=progress.reach,
                    )
                    result = comparison.today
                else:
                    comparison = None
                    result = simulate(
                        days=days,
                        calls=calls,
                        seed=options["seed"],
                        start=start,
                        keep=options["keep"],
                        assumptions=assumptions,
                        on_call=progress.reach,
                    )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            escalation_log.setLevel(level)
        with translation.override(options["lang"]):
            if progress.stop_requested:
                self.stderr.write(
                    _("Stopped on request after %(n)d calls; nothing was kept.")
                    % {"n": progress.done}
                )
            if options["json"]:
                data: dict[str, Any] = describe(result)
                if comparison is not None:
                    data = self._comparison_json(comparison)
                self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str))
                return
            self._result(result)
            if comparison is not None:
                self._comparison(comparison)

    def _result(self, result: SimulationResult) -> None:
        self.stdout.write(
            _(
                "Simulated %(start)s – %(end)s: %(calls)d calls, %(waited)d waited for a "
                "free unit (longest queue %(queue)d)."
            )
            % {
                "start": result.start,
                "end": result.end,
                "calls": result.calls,
                "waited": result.waited,
                "queue": result.max_queue,
            }
        )
        for line in render(result.summary):
            self.stdout.write(line)
        for line in _reach_lines(result):
            self.stdout.write(line)
        self.stdout.write(
            _("Re-dispatched after a missed acknowledge: %(n)d; moves up: %(m)d.")
            % {"n": result.redispatched, "m": result.moves_up}
        )
        for line in _assumption_lines(result.assumptions):
            self.stdout.write(line)

    def _comparison(self, c: Comparison) -> None:
        self.stdout.write("")
        self.stdout.write(_("Calls reached in time, from the call, on the same calls and crews:"))
        labels = (
            _("today's staging points"),
            _("proposed staging points"),
            _("today's points with move-up"),
        )
        for label, run in zip(labels, c.runs, strict=False):
            r = run.reach
            self.stdout.write(
                _(
                    "  %(label)s: priority zone within 3 minutes %(zone)s, elsewhere within 5 "
                    "minutes %(other)s; all calls within 3 minutes %(all3)s, within 5 %(all5)s"
                )
                % {
                    "label": label,
                    "zone": percent(r.zone_within_180s, r.zone_calls),
                    "other": percent(r.other_within_300s, r.other_calls),
                    "all3": percent(r.within_180s, r.calls),
                    "all5": percent(r.within_300s, r.calls),
                }
            )
        self.stdout.write(
            _(
                "Units and calls reachable in time (placed against the whole response: "
                "%(overhead)d s of each target go before the unit drives):"
            )
            % {"overhead": round(c.overhead_s)}
        )
        for option in c.options:
            self.stdout.write(
                _(
                    "  %(k)d units: %(share)s of calls (priority zone %(zone)s, elsewhere "
                    "%(other)s); sites %(sites)s"
                )
                % {
                    "k": option.k,
                    "share": percent(option.zone_in_time + option.other_in_time, option.calls),
                    "zone": percent(option.zone_in_time, option.zone_calls),
                    "other": percent(option.other_in_time, option.other_calls),
                    "sites": " ".join(s.label for s in option.sites),
                }
            )

    def _comparison_json(self, c: Comparison) -> dict[str, Any]:
        return {
            **{name: describe(run) for name, run in zip(c.SCENARIOS, c.runs, strict=False)},
            "overhead_s": c.overhead_s,
            "options": [asdict(o) for o in c.options],
        }
