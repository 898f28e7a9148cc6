"""The main process's side of bench.wsclients, and the figures of a sample."""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.env import BenchEnv
from tests.support.procs import Proc

SOCKET_JS = Path(__file__).resolve().parent.parent / "frontend/static/common/socket.js"


def app_heartbeat_s() -> float:
    """The patrol app's ping period (`PING_MS` in frontend/static/common/socket.js), so that the
    benchmarks' phones ping as often as the real ones."""
    found = re.search(r"const PING_MS = (\d+);", SOCKET_JS.read_text())
    assert found, f"no PING_MS in {SOCKET_JS}"
    return int(found.group(1)) / 1000


@dataclass
class Arrival:
    unit_id: int
    at_ns: int
    resent: bool


@dataclass
class Back:
    """A socket back after a reconnect and holding the server's head."""

    at_ns: int
    replayed: int  # numbered frames it was sent since it came back
    snapshot: bool


@dataclass
class FleetProc:
    proc: Proc
    arrivals: dict[int, Arrival] = field(default_factory=dict)  # incident id → first arrival
    backs: dict[int, Back] = field(default_factory=dict)  # unit id → its latest return
    replies: queue.Queue[str] = field(default_factory=queue.Queue)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def start(
        cls,
        env: BenchEnv,
        name: str,
        port: int,
        pairs: list[tuple[int, str]],
        heartbeat: float = 0,
        *,
        reconnect: bool = False,
    ) -> FleetProc:
        tokens = env.tmp / f"{name}-tokens.json"
        tokens.write_text(json.dumps(pairs))
        proc = env.spawn(
            name,
            [
                sys.executable,
                "-m",
                "bench.wsclients",
                "--port",
                str(port),
                "--tokens",
                str(tokens),
                "--heartbeat",
                str(heartbeat),
                *(["--reconnect"] if reconnect else []),
            ],
            pipes=True,  # commands in on stdin, alerts and answers out on stdout
        )
        fleet = cls(proc)
        threading.Thread(target=fleet._read, daemon=True).start()
        return fleet

    def _read(self) -> None:
        assert self.proc.popen.stdout is not None
        for raw in self.proc.popen.stdout:
            line = raw.decode().strip()
            if line.startswith("ALERT "):
                _, unit, incident, at_ns, resent = line.split()
                with self.lock:
                    self.arrivals.setdefault(
                        int(incident), Arrival(int(unit), int(at_ns), resent == "1")
                    )
            elif line.startswith("BACK "):
                _, unit, at_ns, replayed, snapshot = line.split()
                with self.lock:
                    self.backs[int(unit)] = Back(int(at_ns), int(replayed), snapshot == "1")
            elif line:
                self.replies.put(line)
        self.replies.put("EOF")

    def command(self, line: str, timeout: float) -> list[str]:
        assert self.proc.popen.stdin is not None
        self.proc.popen.stdin.write((line + "\n").encode())
        self.proc.popen.stdin.flush()
        try:
            reply = self.replies.get(timeout=timeout)
        except queue.Empty as exc:
            raise TimeoutError(f"{self.proc.name}: no answer to {line!r} in {timeout}s") from exc
        if reply == "EOF":
            raise RuntimeError(f"{self.proc.name} exited:\n{self.proc.tail()}")
        return reply.split()

    def connect(self, n: int, timeout: float = 900) -> tuple[int, int, float]:
        _, opened, failed, seconds = self.command(f"CONNECT {n}", timeout)
        return int(opened), int(failed), float(seconds)

    def stats(self) -> dict[str, int]:
        _, opened, pongs, closed, alerts, failures = self.command("STATS", 30)
        return {
            "open": int(opened),
            "pongs": int(pongs),
            "closed": int(closed),
            "alerts": int(alerts),
            "failures": int(failures),
        }

    def quit(self) -> None:
        try:
            assert self.proc.popen.stdin is not None
            self.proc.popen.stdin.write(b"QUIT\n")
            self.proc.popen.stdin.close()
            self.proc.popen.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.proc.stop()


def percentiles(values_ms: list[float]) -> dict[str, float | None]:
    if not values_ms:
        return {"p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    s = sorted(values_ms)

    def pct(p: float) -> float:
        k = min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))  # nearest rank
        return round(s[k], 2)

    return {
        "p50": pct(50),
        "p95": pct(95),
        "p99": pct(99),
        "max": round(s[-1], 2),
        "mean": round(sum(s) / len(s), 2),
    }


def monotonic_ms() -> float:
    return time.monotonic_ns() / 1e6
