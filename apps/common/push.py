"""Side effects after commit: the one helper every service uses to push or queue.

Nothing is pushed for a transaction that rolls back: `after_commit` defers to
`transaction.on_commit`, and outside a transaction runs at once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)


def after_commit(fn: Callable[[], Any]) -> None:
    def run() -> None:
        # Not on_commit(robust=True): Django logs a failure there with fn.__qualname__, which a
        # functools.partial lacks, so a failing side effect (Celery's broker down) became a 500.
        try:
            fn()
        except Exception:
            log.exception("after-commit side effect %r failed", fn)

    transaction.on_commit(run)


def group_sends_now(messages: list[tuple[str, dict[str, Any]]]) -> None:
    """Send each (group, message) in turn, in one hop to the event loop (a hop costs as much CPU
    as a send); a failed send is logged and the next ones still go."""
    layer = get_channel_layer()
    if layer is None or not messages:
        return

    async def sends() -> None:
        for group, message in messages:
            try:
                await layer.group_send(group, message)
            except Exception:  # a push is best effort; delivery is guaranteed by the outbox
                log.warning("group_send to %s failed", group, exc_info=True)

    def send() -> None:
        try:
            async_to_sync(sends)()
        except Exception:  # the loop itself failed (shutting down): the outbox re-sends
            log.warning("group sends failed", exc_info=True)

    if _loop_in_this_thread():
        # Sync code called from a thread that has an event loop (a browser driver's, say):
        # async_to_sync refuses to run here, so the send gets a short-lived thread of its own.
        worker = threading.Thread(target=send, name="group-send")
        worker.start()
        worker.join(timeout=10)
    else:
        send()


def _loop_in_this_thread() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def push_after_commit(group: str, message: dict[str, Any]) -> None:
    pushes_after_commit([(group, message)])


def pushes_after_commit(messages: list[tuple[str, dict[str, Any]]]) -> None:
    """Several pushes after commit, in this order, in one hop to the event loop."""
    after_commit(lambda: group_sends_now(messages))
