"""The deadline sweeper inside every daphne process, so that the 1-3-5 minute timers do not
depend on a Celery worker or on Redis staying up.

Embedded setup (no Redis, no worker): it is the only sweeper, and it runs on the server's event
loop so that what it pushes reaches this process's in-memory channel layer. There is no beat
either, so the same loop also rolls up the statistics of the last week every
EMBEDDED_ROLLUP_S (as beat does in production): the dashboard then reads the daily aggregates.
With REDIS_URL set and DEADLINE_SWEEP_IN_WEB (the default), every daphne process sweeps too, one
at a time under a PostgreSQL advisory lock (apps/realtime/sweeper.py), beside Celery beat's sweep.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings

log = logging.getLogger(__name__)

# How often the embedded demo rolls up its statistics (beat does it every 5 minutes).
EMBEDDED_ROLLUP_S = 300.0


class EmbeddedTimers:
    """ASGI wrapper that starts the sweeper loop on the first connection it sees."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.task: asyncio.Task[None] | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if self.task is None and scope["type"] in ("http", "websocket"):
            self.task = asyncio.get_running_loop().create_task(self._loop())
        return await self.inner(scope, receive, send)

    async def _loop(self) -> None:
        # Imported here: asgi.py imports this module before the apps are loaded.
        from apps.realtime.sweeper import deadlines_sweep_exclusive
        from apps.stats.tasks import stats_rollup_recent

        log.info("embedded deadline sweeper running every %ss", settings.DEADLINE_SWEEP_S)
        # Without Celery (the embedded demo) nothing else rolls the statistics up.
        rolls_up = settings.CELERY_TASK_ALWAYS_EAGER
        next_rollup = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                await sync_to_async(deadlines_sweep_exclusive, thread_sensitive=True)()
            except Exception:  # keep sweeping; the next round retries what failed
                log.exception("embedded deadline sweep failed")
            if rolls_up and loop.time() >= next_rollup:
                next_rollup = loop.time() + EMBEDDED_ROLLUP_S
                try:
                    await sync_to_async(stats_rollup_recent, thread_sensitive=True)(days=8)
                except Exception:
                    log.exception("embedded statistics roll-up failed")
            await asyncio.sleep(settings.DEADLINE_SWEEP_S)


def wrap(app: Any) -> Any:
    sweeps = settings.CELERY_TASK_ALWAYS_EAGER or settings.DEADLINE_SWEEP_IN_WEB
    return EmbeddedTimers(app) if sweeps else app
