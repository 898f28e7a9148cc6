"""The benchmark environment: its own PostgreSQL database, a private redis-server and daphne
processes, configured as in production (DEBUG off, a generated SECRET_KEY, base settings).

The processes are started and stopped by the tests' harness (tests/support/procs.py): each in its
own session, stopped with its whole process group on exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from tests.support.api import Api
from tests.support.procs import ROOT, Servers

RESULTS = ROOT / "bench" / "results"

# Sent with every API request: the TLS proxy in front of daphne in production sets it.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


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
class BenchEnv(Servers):
    db_name: str = "cad_bench"
    pg: str = "postgres://postgres@127.0.0.1:5432"
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(64))

    redis_args: ClassVar[tuple[str, ...]] = ("--maxclients", "20000")
    daphne_args: ClassVar[tuple[str, ...]] = ("--ping-interval", "20")
    probe_headers: ClassVar[dict[str, str]] = PROXY_HEADERS
    many_files: ClassVar[bool] = True

    @property
    def database_url(self) -> str:
        return f"{self.pg}/{self.db_name}"

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

    def api(self, port: int, token: str) -> Api:
        """The HTTP API of one of this environment's daphne processes, as the proxy forwards it."""
        return Api(port, token, headers=PROXY_HEADERS, timeout=60)


@contextlib.contextmanager
def bench_env(tmp: Path, *, db_name: str = "cad_bench") -> Iterator[BenchEnv]:
    env = BenchEnv(tmp=tmp, db_name=db_name)
    try:
        env.start_redis()
        yield env
    finally:
        env.stop_all()
