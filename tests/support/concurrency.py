"""Threads for tests: racing workers released together on a barrier (row locks), and an async
scenario run to completion in a thread of its own."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from asgiref.sync import async_to_sync
from django.db import connection, connections

T = TypeVar("T")


def race(n: int, work: Callable[[int], T], *, timeout: float = 60) -> list[T]:
    """Run work(0) … work(n-1) in n threads that start at once; their results, in order.

    Each thread closes its own database connection when done. The first error of any thread is
    raised here, in the test's thread, after all have finished.
    """
    barrier = threading.Barrier(n, timeout=timeout)
    results: list[T | None] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), name=f"racer-{i}") for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]


def run(coro_fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Run an async scenario to completion in a thread of its own.

    Its own thread, because the main thread may already have an event loop set (Playwright's
    sync API keeps one for the browser tests), and async_to_sync refuses to run there.
    """
    result: list[Any] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(async_to_sync(coro_fn)(*args))
        except BaseException as exc:  # re-raised in the test's thread
            error.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target, name="async-scenario")
    thread.start()
    thread.join(timeout=300)
    assert not thread.is_alive(), "the async scenario did not finish within 300 s"
    if error:
        raise error[0]
    return result[0] if result else None
