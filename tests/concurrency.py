"""Racing threads for tests of row locks: n workers released together on a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connection

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
