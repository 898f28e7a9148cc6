"""Timers for the embedded setup (no Redis, no Celery worker): the deadline sweeper runs inside the
daphne process, on its event loop, so that what it pushes reaches this process's in-memory
channel layer. With REDIS_URL set, Celery beat runs the sweeper instead and this does nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings

log = logging.getLogger(__name__)


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
        from apps.realtime.sweeper import deadlines_sweep

        log.info("embedded deadline sweeper running every %ss", settings.DEADLINE_SWEEP_S)
        while True:
            try:
                await sync_to_async(deadlines_sweep, thread_sensitive=True)()
            except Exception:  # keep sweeping; the next round retries what failed
                log.exception("embedded deadline sweep failed")
            await asyncio.sleep(settings.DEADLINE_SWEEP_S)


def wrap(app: Any) -> Any:
    return EmbeddedTimers(app) if settings.CELERY_TASK_ALWAYS_EAGER else app
