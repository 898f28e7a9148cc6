"""`manage.py load_demo_city [--password demo]`: the Simao demo city and one account per role.

Idempotent (see apps/units/demo.py). Sets the demo accounts' password to --password on every run.
Never run it in production unless you want demo accounts there.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.demo.city import load_demo_city


class Command(BaseCommand):
    help = "Load the Simao demo city (idempotent) and the demo accounts, one per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default="demo",
            help="Password of every demo account, set on each run (default: demo).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password: str = options["password"]
        if not password:
            self.stderr.write("The password must not be empty.")
            raise SystemExit(2)
        s = load_demo_city(password=password)
        self.stdout.write(
            f"Demo city: {s.stations} police stations, {s.staging_points} staging points, "
            f"{s.cells} grid cells ({s.priority_cells} priority), {s.units} patrol units, "
            f"{s.officers} officers, {s.auxiliaries} auxiliaries, {s.places} places in the "
            f"gazetteer; {s.created} rows created."
        )
        self.stdout.write("Demo logins (password: the value of --password):")
        for login in s.logins:
            self.stdout.write(f"  {login.username:<11} {login.role:<15} {login.description}")
