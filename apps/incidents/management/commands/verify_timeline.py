"""Check the hash chains of the event timeline: prints OK, or the first broken link per stream."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.incidents.models import Event
from apps.incidents.timeline import verify_streams


class Command(BaseCommand):
    help = "Verify the tamper-evident event timeline; exits non-zero when a chain is broken."

    def handle(self, *args: Any, **options: Any) -> None:
        broken = list(verify_streams())
        if not broken:
            self.stdout.write(f"OK: {Event.objects.count()} events verified.")
            return
        for link in broken:
            self.stdout.write(
                f"BROKEN {link.stream}:{link.stream_id} at seq {link.seq} "
                f"(event id {link.event_id}): {link.problem}"
            )
        raise CommandError(f"{len(broken)} broken stream(s).")
