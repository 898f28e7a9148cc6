"""What daphne's websocket library does on every handshake that we need not pay for.

autobahn formats its whole configuration with `pprint.pformat` for a debug log line on every
new connection, whether debug logging is on or not: 23% of a daphne process's main thread while
5,000 phones reconnected (py-spy, bench/storm.py). `lazy_pformat` formats only when the line is
written.
"""

from __future__ import annotations

from pprint import pformat
from typing import Any


class LazyFormat:
    """`pformat(value)` when turned into a string, not before."""

    __slots__ = ("args", "kwargs", "value")

    def __init__(self, value: Any, *args: Any, **kwargs: Any) -> None:
        self.value = value
        self.args = args
        self.kwargs = kwargs

    def __str__(self) -> str:
        return pformat(self.value, *self.args, **self.kwargs)

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def autobahn_lazy_pformat() -> None:
    """Make autobahn's debug formatting lazy (its log lines format their arguments with
    str.format, which calls __format__; with debug logging off they never do)."""
    try:
        from autobahn.websocket import protocol
    except ImportError:  # not under daphne
        return
    protocol.pformat = LazyFormat  # type: ignore[attr-defined,assignment]
    # Its one other use must return a str (Timings.__str__): the real pformat there.
    protocol.Timings.__str__ = lambda self: pformat(self._timings)  # type: ignore[method-assign]
