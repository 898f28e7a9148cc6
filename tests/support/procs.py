"""Real processes: daphne, Celery worker and beat, and a private redis-server, for the end-to-end,
fault and browser tests and for the benchmarks (bench/env.py); and manage.py in a fresh process.

Every process is started in its own session, so in a process group of its own, and stopped with
its whole group by whoever started it (`Servers.stop_all`, from a fixture or a context manager).
Readiness and results are awaited by polling a condition with a deadline (`wait_for`), never by
fixed sleeps.

Nothing here reads Django's settings when imported: the benchmarks import this module before they
configure Django.
"""

from __future__ import annotations

import contextlib
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]  # the checkout these tests belong to
BIN = Path(sys.executable).parent
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    condition: Callable[[], T | None], *, timeout: float = 60, what: str = "condition"
) -> T:
    """Poll `condition` until it returns something truthy and return that; raise TimeoutError
    after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def database_url() -> str:
    """The database this process uses (under pytest: the test database), for processes that share
    it."""
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def raise_nofile() -> int:
    """Raise the open-files limit as far as the hard limit allows; returns the new soft limit."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@dataclass
class Proc:
    """A process in its own process group, its output in `log`."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(
        cls,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str],
        log: Path,
        pipes: bool = False,
        preexec_fn: Callable[[], Any] | None = None,
    ) -> Proc:
        """Start `argv` in the checkout's root. Its output goes to `log`; with `pipes`, its stdin
        and stdout are pipes to this process and only its stderr goes to `log`."""
        with log.open("ab") as fh:
            popen = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE if pipes else subprocess.DEVNULL,
                stdout=subprocess.PIPE if pipes else fh,
                stderr=fh if pipes else subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=preexec_fn,
            )
        return cls(name, popen, log)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the whole group and wait for the process to end."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=15)

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM to the group; SIGKILL if the process has not ended within `timeout` seconds."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class Servers:
    """The processes of one test or one benchmark run, in one environment (`env()`, which a
    subclass defines); their logs in `tmp`."""

    tmp: Path
    procs: list[Proc] = field(default_factory=list)
    redis_port: int = 0
    redis: Proc | None = None

    # What a subclass may add: redis-server and daphne arguments, headers for daphne's readiness
    # probe, and a raised open-files limit in every process.
    redis_args: ClassVar[tuple[str, ...]] = ()
    daphne_args: ClassVar[tuple[str, ...]] = ()
    probe_headers: ClassVar[dict[str, str]] = {}
    many_files: ClassVar[bool] = False

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def env(self) -> dict[str, str]:
        raise NotImplementedError

    def spawn(self, name: str, argv: list[str], *, pipes: bool = False) -> Proc:
        proc = Proc.start(
            name,
            argv,
            env=self.env(),
            log=self.tmp / f"{name}.log",
            pipes=pipes,
            preexec_fn=raise_nofile if self.many_files else None,
        )
        self.procs.append(proc)
        return proc

    def start_redis(self) -> Proc:
        """A private redis-server without persistence; again on the same port after a kill."""
        if not self.redis_port:
            self.redis_port = free_port()
        self.redis = self.spawn(
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
                *self.redis_args,
                "--dir",
                str(self.tmp),
            ],
        )
        wait_for(lambda: redis_ping(self.redis_port), timeout=30, what="redis")
        return self.redis

    def start_daphne(
        self,
        name: str = "daphne",
        *,
        probe: str = "/api/schema/",
        port: int | None = None,
        app: str = "cad_project.asgi:application",
    ) -> tuple[Proc, int]:
        """daphne serving `app` on `port` (default: a free one; the same one to stand in for a
        restarted process), once it answers `probe` (any HTTP answer will do)."""
        port = port or free_port()
        proc = self.spawn(
            name,
            [
                str(BIN / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                *self.daphne_args,
                app,
            ],
        )

        def ready() -> bool:
            if not proc.alive():
                raise RuntimeError(f"{name} exited:\n{proc.tail()}")
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{probe}", headers=self.probe_headers
            )
            try:
                with urllib.request.urlopen(request, timeout=2):
                    return True
            except urllib.error.HTTPError:
                return True  # it answers
            except OSError:
                return False

        wait_for(ready, timeout=60, what=f"{name} to listen")
        return proc, port

    def start_worker(self, name: str = "worker") -> Proc:
        proc = self.spawn(
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
        return self.spawn(
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
        self.procs.clear()


@dataclass
class Stack(Servers):
    """The processes of one end-to-end or fault test: the test settings, the test database (shared
    with the test), a private Redis, Celery tasks queued for real workers, SMS to a file."""

    env_overrides: dict[str, str] = field(default_factory=dict)

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


@contextlib.contextmanager
def stack(tmp: Path, **env: Any) -> Iterator[Stack]:
    """A `Stack` with its Redis started; `env` overrides settings of its processes."""
    s = Stack(tmp=tmp, env_overrides={k: str(v) for k, v in env.items()})
    try:
        s.start_redis()
        yield s
    finally:
        s.stop_all()


# --- manage.py in a fresh process, configured as production ---------------------------------

# The README's production variables (a database and Redis that need not exist: checks only).
PRODUCTION = {
    "DEBUG": "0",
    "ALLOWED_HOSTS": "cad.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://cad.example.org",
    "DATABASE_URL": "postgres://cad@db.example.org/cad",
    "REDIS_URL": "redis://redis.example.org:6379/0",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """manage.py with the base settings and only `env` (and PATH, HOME, the locale) set."""
    # A clean environment: the test run's own SECRET_KEY/DEBUG must not leak into the child.
    clean = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL") if k in os.environ}
    clean["DJANGO_SETTINGS_MODULE"] = "cad_project.settings.base"
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def strong_key() -> str:
    return secrets.token_urlsafe(64)
