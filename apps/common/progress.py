"""How a long command shows that its work is moving, and how it stops cleanly on Ctrl-C.

On a terminal: a live bar (tqdm) with the count, the rate and the time left. Anywhere else (a
log, CI, a pipe): one plain line at most every ``every_s`` seconds and a last one at the end, so
a log is readable and not flooded. ``quiet`` shows nothing. Progress goes to the command's
stderr, so its stdout stays the report a script reads.

Ctrl-C: while a ``Progress`` is open, the first SIGINT only asks the work to stop
(``progress.stop_requested``); the loop checks it at its next batch boundary, where everything
before is committed and nothing after is started, and the command says how far it got. A second
Ctrl-C interrupts at once (the transaction in flight rolls back).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from types import FrameType, TracebackType
from typing import Any, TextIO

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

PLAIN_EVERY_S = 5.0


def add_quiet_argument(parser: CommandParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="do not show progress")


def _columns(stream: Any) -> int:
    """The terminal's width; 0 when it does not say (a fresh pseudo-terminal, a serial console)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, AttributeError, ValueError):
        return 0


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """A progress display for ``total`` items (None: unknown) named ``label``.

    Use as a context manager; call ``update(n)`` as items are done and read ``stop_requested``
    at batch boundaries.
    """

    def __init__(
        self,
        stream: Any,
        *,
        total: int | None,
        label: str,
        unit: str = "",
        quiet: bool = False,
        every_s: float = PLAIN_EVERY_S,
        clock: Any = time.monotonic,
        stoppable: bool = True,
    ) -> None:
        # A command's OutputWrapper ends every write with a newline, which would break the
        # bar's carriage-return redraws: write to the stream it wraps.
        self.stream: TextIO = getattr(stream, "_out", stream)
        self.total = total
        self.label = label
        self.unit = unit
        self.quiet = quiet
        self.every_s = every_s
        self.clock = clock
        self.done = 0
        self.stop_requested = False
        # Work that writes nothing (a report) has no batch boundary: Ctrl-C stops it at once.
        self.stoppable = stoppable
        self._bar: tqdm[Any] | None = None
        self._started = 0.0
        self._last_line = 0.0
        self._previous_handler: Any = None
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty())

    # -- context: the bar and the Ctrl-C handler ------------------------------------------------
    def __enter__(self) -> Progress:
        self._started = self._last_line = self.clock()
        if not self.quiet and self.tty:
            columns = _columns(self.stream)
            self._bar = tqdm(
                total=self.total,
                desc=self.label,
                unit=f" {self.unit}" if self.unit else "it",
                file=self.stream,
                # Follow the window's width; where the terminal gives none, draw 80 wide (tqdm
                # would draw nothing at all).
                dynamic_ncols=columns > 0,
                ncols=None if columns > 0 else 80,
                mininterval=0.2,
            )
        if self.stoppable and threading.current_thread() is threading.main_thread():
            self._previous_handler = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._previous_handler is not None:
            signal.signal(signal.SIGINT, self._previous_handler)
            self._previous_handler = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif not self.quiet and exc_type is None:
            self._line()

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_requested:
            # The second Ctrl-C: stop now.
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        self.stop_requested = True
        self.write(_("Stopping after the current batch (Ctrl-C again to stop at once)…"))

    # -- reporting ------------------------------------------------------------------------------
    def update(self, n: int = 1) -> None:
        self.done += n
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.update(n)
            return
        now = self.clock()
        if now - self._last_line >= self.every_s:
            self._line(now)

    def reach(self, done: int) -> bool:
        """Progress to ``done`` items in all; True when Ctrl-C asked to stop (the callback of a
        batched loop: ``on_batch=progress.reach``)."""
        self.update(done - self.done)
        return self.stop_requested

    def write(self, message: str) -> None:
        """A message that does not break the bar."""
        if self._bar is not None:
            self._bar.write(message, file=self.stream)
        else:
            self.stream.write(message + ("" if message.endswith("\n") else "\n"))
            flush = getattr(self.stream, "flush", None)
            if flush is not None:
                flush()

    def _line(self, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        self._last_line = now
        elapsed = max(now - self._started, 1e-9)
        rate = self.done / elapsed
        values = {
            "label": self.label,
            "done": self.done,
            "unit": self.unit,
            "rate": f"{rate:.1f}",
            "elapsed": _duration(elapsed),
        }
        if self.total:
            left = (self.total - self.done) / rate if rate > 0 else 0.0
            values |= {
                "total": self.total,
                "percent": f"{100 * self.done / self.total:.0f}",
                "left": _duration(left),
            }
            text = (
                _(
                    "%(label)s: %(done)d/%(total)d %(unit)s (%(percent)s%%), %(rate)s/s, "
                    "%(elapsed)s elapsed, about %(left)s left"
                )
                % values
            )
        else:
            text = _("%(label)s: %(done)d %(unit)s, %(rate)s/s, %(elapsed)s elapsed") % values
        self.write(text)

    def stopped_note(self) -> str:
        """What a command prints when it stopped on request."""
        if self.total:
            return _(
                "Stopped on request after %(done)d of %(total)d; what was done is kept, and "
                "running the command again continues."
            ) % {"done": self.done, "total": self.total}
        return _(
            "Stopped on request after %(done)d; what was done is kept, and running the command "
            "again continues."
        ) % {"done": self.done}
