"""`manage.py load_demo_city [--password demo] [--no-history] [--quiet]`: the Simao demo city, one
account per role and (unless --no-history) its last two months: 61 days of closed incidents with
the model's load and mix, rolled up into the statistics, and the force's assessments, training,
mentoring and care records.

Idempotent (see apps/demo/city.py): a second run adds nothing. Sets the demo accounts' password
to --password on every run. Progress of the history goes to stderr (--quiet: none); stdout is the
summary. Never run it in production unless you want demo accounts there.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from apps.common.progress import add_quiet_argument
from apps.demo.city import DemoSummary, load_demo_city


class Command(BaseCommand):
    help = "Load the Simao demo city (idempotent) and the demo accounts, one per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default="demo",
            help="Password of every demo account, set on each run (default: demo).",
        )
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="Only the city, its force and its accounts: no incidents of the last two "
            "months, no assessments, training, mentoring or care records.",
        )
        add_quiet_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        password: str = options["password"]
        if not password:
            self.stderr.write("The password must not be empty.")
            raise SystemExit(2)
        s = load_demo_city(
            password=password,
            history=not options["no_history"],
            stream=self.stderr,
            quiet=options["quiet"],
        )
        self.stdout.write(
            f"Demo city: {s.stations} police stations, {s.staging_points} staging points, "
            f"{s.cells} grid cells ({s.priority_cells} priority), {s.units} patrol units, "
            f"{s.officers} officers, {s.auxiliaries} auxiliaries, {s.places} places in the "
            f"gazetteer; {s.created} rows created."
        )
        self._history(s)
        self.stdout.write("Demo logins (password: the value of --password):")
        for login in s.logins:
            self.stdout.write(f"  {login.username:<11} {login.role:<15} {login.description}")

    def _history(self, s: DemoSummary) -> None:
        if s.history is not None and s.history.stopped:
            self.stdout.write(s.history.stopped)
        f = s.figures
        if f is not None:
            self.stdout.write(
                _(
                    "History: %(total)d incidents from %(start)s to %(end)s, %(share).1f%% "
                    "transferred to a station, %(ack).1f%% acknowledged within the target, "
                    "%(arrival).1f%% arrived within the target (%(new)d written now)."
                )
                % {
                    "total": f.total,
                    "start": f.start.isoformat(),
                    "end": f.end.isoformat(),
                    "share": 100 * (f.transfer_share or 0),
                    "ack": 100 * (f.response.acknowledge_target_share or 0),
                    "arrival": 100 * (f.response.arrival_target_share or 0),
                    "new": s.history.created if s.history else 0,
                }
            )
        staff = s.staff
        if staff is not None:
            self.stdout.write(
                _(
                    "Personnel: %(periods)d assessment periods (%(assessments)d assessments), "
                    "%(sessions)d training sessions (%(attendance)d attendance records), "
                    "%(mentorships)d mentoring pairs, %(care)d care records."
                )
                % {
                    "periods": staff.periods,
                    "assessments": staff.assessments,
                    "sessions": staff.sessions,
                    "attendance": staff.attendance,
                    "mentorships": staff.mentorships,
                    "care": staff.care_records,
                }
            )
