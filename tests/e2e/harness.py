"""Real processes for end-to-end tests: daphne, Celery worker and beat, and a private Redis.

Every process is started in its own session and stopped (its whole process group) by the fixture
that started it. Readiness and results are awaited by polling a condition with a generous
deadline, never by fixed sleeps.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
T = TypeVar("T")

# The marks of a test whose servers share the test database (PostgreSQL only: an in-memory SQLite
# test database cannot be shared between processes).
E2E_MARKS = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the processes share the test database, which needs PostgreSQL",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    condition: Callable[[], T | None], *, timeout: float = 60, what: str = "condition"
) -> T:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def database_url() -> str:
    db = settings.DATABASES["default"]
    return "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(
        USER=db.get("USER") or "postgres",
        HOST=db.get("HOST") or "127.0.0.1",
        PORT=db.get("PORT") or 5432,
        NAME=db["NAME"],
    )


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def kill(self, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=15)

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


@dataclass
class Stack:
    """The processes of one test, sharing PostgreSQL (the test database) and a private Redis."""

    tmp: Path
    env_overrides: dict[str, str] = field(default_factory=dict)
    procs: list[Proc] = field(default_factory=list)
    redis_port: int = 0
    redis: Proc | None = None

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def env(self) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="cad_project.settings.test",
            DATABASE_URL=database_url(),
            REDIS_URL=self.redis_url,
            SMS_BACKEND="apps.common.sms.FileBackend",
            SMS_FILE_PATH=str(self.tmp / "sms.jsonl"),
            PYTHONUNBUFFERED="1",
            CELERY_EAGER="0",
        )
        env.update(self.env_overrides)
        return env

    def _spawn(self, name: str, argv: list[str]) -> Proc:
        log = self.tmp / f"{name}.log"
        fh = log.open("ab")
        popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self.env(),
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        fh.close()
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def start_redis(self) -> Proc:
        if not self.redis_port:
            self.redis_port = free_port()
        self.redis = self._spawn(
            f"redis-{len(self.procs)}",
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.tmp),
            ],
        )
        wait_for(self._redis_ping, timeout=30, what="redis")
        return self.redis

    def _redis_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start_daphne(self, name: str = "daphne") -> tuple[Proc, int]:
        port = free_port()
        proc = self._spawn(
            name,
            [
                str(BIN / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "cad_project.asgi:application",
            ],
        )

        def ready() -> bool:
            if proc.popen.poll() is not None:
                raise AssertionError(f"{name} exited:\n{proc.tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/schema/", timeout=2):
                    return True
            except urllib.error.HTTPError:
                return True  # it answers
            except OSError:
                return False

        wait_for(ready, timeout=60, what=f"{name} to listen")
        return proc, port

    def start_worker(self, name: str = "worker") -> Proc:
        proc = self._spawn(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "cad_project",
                "worker",
                "-l",
                "info",
                "--concurrency",
                "2",
                "-n",
                f"{name}-{len(self.procs)}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
        )
        wait_for(lambda: "ready" in proc.tail(200), timeout=60, what=f"{name} ready")
        return proc

    def start_beat(self) -> Proc:
        return self._spawn(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "cad_project",
                "beat",
                "-l",
                "info",
                "-s",
                str(self.tmp / "beat-schedule"),
                "--pidfile",
                str(self.tmp / "beat.pid"),
            ],
        )

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()


@contextlib.contextmanager
def stack(tmp: Path, **env: Any) -> Iterator[Stack]:
    s = Stack(tmp=tmp, env_overrides={k: str(v) for k, v in env.items()})
    try:
        s.start_redis()
        yield s
    finally:
        s.stop_all()
