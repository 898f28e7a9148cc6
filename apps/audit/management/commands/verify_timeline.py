"""Check the tamper evidence of the timeline: the keyed chains, the database against the signed
checkpoints written outside it, and every incident row against its events. Prints OK or each
problem; exits non-zero on any."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.audit.checkpoints import checkpoint_write, checkpoints_read, checkpoints_verify
from apps.audit.verify import verify_incident_rows, verify_streams
from apps.incidents.models import Event, Incident


class Command(BaseCommand):
    help = "Verify the tamper-evident event timeline; exits non-zero when anything is wrong."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoint", action="store_true", help="append a checkpoint first (as beat does)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["checkpoint"]:
            checkpoint_write()
        state = checkpoints_read()
        problems: list[str] = []
        for link in verify_streams(legacy_max_id=state.legacy_max_id):
            problems.append(
                f"BROKEN {link.stream}:{link.stream_id} at seq {link.seq} "
                f"(event id {link.event_id}): {link.problem}"
            )
        problems += [f"CHECKPOINT {p}" for p in checkpoints_verify(state)]
        problems += [
            f"ROW {m.number} (id {m.incident_id}): {m.problem}" for m in verify_incident_rows()
        ]
        if state.lines == 0:
            self.stderr.write(
                "WARNING: no checkpoint yet: deleting the newest events or emptying the table "
                "cannot be detected until beat has written one."
            )
        if not problems:
            self.stdout.write(
                f"OK: {Event.objects.count()} events, {Incident.objects.count()} incidents "
                f"verified against {state.lines} checkpoint(s)."
            )
            return
        for problem in problems:
            self.stdout.write(problem)
        raise CommandError(f"{len(problems)} problem(s).")
