"""The benchmark environment: its own PostgreSQL database, a private redis-server and daphne
processes, configured as in production (DEBUG off, a generated SECRET_KEY, base settings).

Every process is started in its own session and stopped (its whole process group) on exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
T = TypeVar("T")

# Sent with every API request: the TLS proxy in front of daphne in production sets it.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], T | None], *, timeout: float, what: str) -> T:
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


def raise_nofile() -> int:
    """Raise the open-files limit as far as the hard limit allows; returns the new soft limit."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with contextlib.suppress(OSError):
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    pg = ""
    with contextlib.suppress(Exception):
        from django.db import connection

        with connection.cursor() as c:
            c.execute("show server_version")
            pg = c.fetchone()[0]
    redis_v = ""
    with contextlib.suppress(Exception):
        redis_v = subprocess.run(
            ["redis-server", "--version"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": pg,
        "redis": redis_v,
        "load_average_at_start": os.getloadavg(),
        "servers": "DEBUG=0, cad_project.settings.base, DB_POOL_MAX_SIZE="
        + os.environ.get("DB_POOL_MAX_SIZE", "10 (default)"),
    }


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    return path


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 10) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, 15)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, 9)
                self.popen.wait(timeout=timeout)

    def tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


@dataclass
class BenchEnv:
    tmp: Path
    db_name: str = "cad_bench"
    pg: str = "postgres://postgres@127.0.0.1:5432"
    redis_port: int = 0
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(64))
    procs: list[Proc] = field(default_factory=list)

    @property
    def database_url(self) -> str:
        return f"{self.pg}/{self.db_name}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
        env.update(
            DJANGO_SETTINGS_MODULE="cad_project.settings.base",
            DEBUG="0",
            SECRET_KEY=self.secret_key,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            STATIC_MANIFEST="0",
            SMS_BACKEND="apps.common.sms.FileBackend",
            SMS_FILE_PATH=str(self.tmp / "sms.jsonl"),
            PYTHONUNBUFFERED="1",
            # The settings' default: a psycopg pool per process (persistent connections leaked
            # one per daphne request thread and exhausted PostgreSQL's max_connections here).
            DB_POOL_MAX_SIZE=os.environ.get("DB_POOL_MAX_SIZE", "10"),
        )
        return env

    def spawn(self, name: str, argv: list[str]) -> Proc:
        log = self.tmp / f"{name}.log"
        with log.open("ab") as fh:
            popen = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=self.env(),
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=raise_nofile,
            )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    # --- the database ---------------------------------------------------------------------

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(f"{self.pg}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.db_name}"')

    def setup_django(self) -> None:
        """Configure this process like the servers and migrate the bench database."""
        os.environ.update(self.env())
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)

    # --- servers --------------------------------------------------------------------------

    def start_redis(self) -> Proc:
        if not self.redis_port:
            self.redis_port = free_port()
        proc = self.spawn(
            "redis",
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
                "--maxclients",
                "20000",
                "--dir",
                str(self.tmp),
            ],
        )

        def ping() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    return s.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        wait_for(ping, timeout=30, what="redis")
        return proc

    def start_daphne(self, name: str = "daphne") -> tuple[Proc, int]:
        port = free_port()
        proc = self.spawn(
            name,
            [
                str(BIN / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "--ping-interval",
                "20",
                "cad_project.asgi:application",
            ],
        )

        def ready() -> bool:
            if not proc.alive():
                raise RuntimeError(f"{name} exited:\n{proc.tail()}")
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/schema/", headers=PROXY_HEADERS
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

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()


@contextlib.contextmanager
def bench_env(tmp: Path, *, db_name: str = "cad_bench") -> Iterator[BenchEnv]:
    env = BenchEnv(tmp=tmp, db_name=db_name)
    try:
        env.start_redis()
        yield env
    finally:
        env.stop_all()
