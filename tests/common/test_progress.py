"""Long commands show their progress: a live bar on a terminal, plain lines in a log, nothing with
--quiet; Ctrl-C stops at a batch boundary and a second run finishes the work exactly once."""

from __future__ import annotations

import csv
import io
import os
import pty
import re
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.common.progress import Progress
from apps.incidents.models import Incident
from apps.stats.importer import import_incidents
from tests.support.factories import small_city
from tests.support.procs import ROOT, database_url, wait_for

pytestmark = pytest.mark.django_db


def _csv(path: Path, rows: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["number", "received_at", "category", "lat", "lon", "outcome"])
        start = datetime(2026, 3, 1, 8, 0)
        for i in range(rows):
            writer.writerow(
                [
                    f"P{i:07d}",
                    (start + timedelta(minutes=7 * i)).isoformat(),
                    "纠纷",
                    22.7800 + (i % 17) * 0.0005,
                    100.9700 + (i % 13) * 0.0005,
                    "resolved_on_scene",
                ]
            )
    return path


class _Terminal:
    """A pseudo-terminal whose output is read as it comes (a full pty buffer would block the
    writer)."""

    def __init__(self) -> None:
        self.master, slave = pty.openpty()
        self.slave = os.fdopen(slave, "w", buffering=1, encoding="utf-8")
        self.chunks: list[bytes] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            if not data:
                return
            self.chunks.append(data)

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", "replace")

    def close(self) -> None:
        self.slave.close()
        self.reader.join(timeout=10)
        os.close(self.master)


def test_an_import_on_a_terminal_draws_a_live_bar(tmp_path: Path) -> None:
    small_city()
    path = _csv(tmp_path / "calls.csv", 1200)
    term = _Terminal()
    out = io.StringIO()
    try:
        assert term.slave.isatty()
        call_command(
            "import_incidents", str(path), "--batch-size", "100", stdout=out, stderr=term.slave
        )
        term.slave.flush()
        wait_for(lambda: "1200/1200" in term.text(), timeout=30, what="the bar's last state")
    finally:
        term.close()
    drawn = term.text()
    # The bar is redrawn in place (carriage returns), with count, rate and time left.
    assert drawn.count("\r") >= 3
    assert re.search(r"\d+/1200", drawn) and "/s" in drawn and "100%" in drawn
    # The report stays on stdout, apart from the bar.
    assert "1200" in out.getvalue() and "\r" not in out.getvalue()
    assert Incident.objects.count() == 1200


def test_a_simulation_on_a_terminal_draws_a_live_bar() -> None:
    small_city()
    term = _Terminal()
    try:
        call_command(
            "simulate", "--days", "1", "--calls", "12", "--start", "2026-03-01",
            stdout=io.StringIO(), stderr=term.slave,
        )  # fmt: skip
        term.slave.flush()
        wait_for(lambda: "12/12" in term.text(), timeout=30, what="the bar's last state")
    finally:
        term.close()
    assert term.text().count("\r") >= 2


def test_without_a_terminal_progress_is_plain_lines_at_most_every_few_seconds() -> None:
    now = [0.0]
    out = io.StringIO()
    with Progress(out, total=100, label="导入", unit="行", every_s=5, clock=lambda: now[0]) as p:
        for _ in range(12):
            now[0] += 1
            p.update(8)
    lines = out.getvalue().splitlines()
    # At 5 s, at 10 s, and the last state at the end: never a line per update.
    assert len(lines) == 3
    assert lines[0].startswith("导入") and "40/100 行" in lines[0] and "40%" in lines[0]
    assert "96/100 行" in lines[-1] and "96%" in lines[-1]
    assert "\r" not in out.getvalue()


def test_an_import_in_a_log_writes_plain_lines_and_quiet_writes_none(tmp_path: Path) -> None:
    small_city()
    path = _csv(tmp_path / "calls.csv", 300)
    err = io.StringIO()
    call_command("import_incidents", str(path), stdout=io.StringIO(), stderr=err)
    assert re.search(r"300/300", err.getvalue()) and "\r" not in err.getvalue()
    Incident.objects.all().delete()
    quiet = io.StringIO()
    call_command("import_incidents", str(path), "--quiet", stdout=io.StringIO(), stderr=quiet)
    assert quiet.getvalue() == ""


def test_the_first_ctrl_c_asks_to_stop_and_the_second_interrupts() -> None:
    out = io.StringIO()
    with pytest.raises(KeyboardInterrupt), Progress(out, total=10, label="x") as p:
        signal.raise_signal(signal.SIGINT)
        assert p.stop_requested  # the work goes on to its batch boundary
        signal.raise_signal(signal.SIGINT)
    assert out.getvalue().strip()  # it said it would stop
    # The handler is put back when the block ends.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_import_stopped_after_its_first_batch_and_run_again_has_every_row_once(
    tmp_path: Path,
) -> None:
    small_city()
    path = _csv(tmp_path / "calls.csv", 250)
    with path.open(encoding="utf-8") as fh:
        first = import_incidents(fh, batch_size=100, on_batch=lambda rows: True)
    assert first.stopped and first.imported == 100
    assert Incident.objects.count() == 100
    with path.open(encoding="utf-8") as fh:
        second = import_incidents(fh, batch_size=100)
    assert not second.stopped
    assert (second.imported, second.skipped_existing) == (150, 100)
    numbers = list(Incident.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 250


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_ctrl_c_stops_a_real_import_at_a_batch_boundary_and_a_rerun_completes(
    tmp_path: Path,
) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the command's process shares the test database, which needs PostgreSQL")
    small_city()
    rows = 40_000
    path = _csv(tmp_path / "calls.csv", rows)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    env.update(DJANGO_SETTINGS_MODULE="cad_project.settings.test", DATABASE_URL=database_url())
    command = [sys.executable, "manage.py", "import_incidents", str(path), "--batch-size", "200"]
    log = tmp_path / "err.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err,
            start_new_session=True,
        )  # fmt: skip
        try:
            # A batch is written: stop it.
            wait_for(lambda: Incident.objects.exists(), timeout=120, what="a first batch")
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    written = Incident.objects.count()
    assert code != 0
    assert 0 < written < rows and written % 200 == 0  # whole batches only
    again = subprocess.run(
        [*command, "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 0, again.stderr
    numbers = list(Incident.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == rows


def test_a_stopped_import_command_says_how_far_it_got(tmp_path: Path, monkeypatch: Any) -> None:
    small_city()
    path = _csv(tmp_path / "calls.csv", 500)
    err = io.StringIO()

    # As if Ctrl-C came while the first batch was written.
    def update(self: Progress, n: int = 1) -> None:
        self.done += n
        self.stop_requested = True

    monkeypatch.setattr(Progress, "update", update)
    with pytest.raises(CommandError, match="100"):
        call_command(
            "import_incidents", str(path), "--batch-size", "100", stdout=io.StringIO(), stderr=err
        )
    assert Incident.objects.count() == 100
    assert "100 of 500" in err.getvalue() or "100/500" in err.getvalue()  # how far it got


def _places_csv(path: Path, rows: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", "kind", "lat", "lon", "code"])
        for i in range(rows):
            writer.writerow(
                [f"测试地点{i}", "兴趣点", 22.77 + i * 1e-5, 100.96 + i * 1e-5, f"T{i}"]
            )
    return path


@pytest.mark.parametrize(
    "command",
    ["import_places", "coverage_report", "stats_rollup", "load_demo_city"],
)
def test_every_long_command_draws_a_bar_on_a_terminal_and_lines_in_a_log(
    command: str, tmp_path: Path
) -> None:
    if command == "load_demo_city":
        args = ["load_demo_city", "--password", "x"]  # with its two months of history
    else:
        small_city()
        if command == "import_places":
            args = ["import_places", str(_places_csv(tmp_path / "p.csv", 2500))]
        elif command == "stats_rollup":
            args = ["stats_rollup", "--start", "2026-03-01", "--end", "2026-03-20"]
        else:
            args = ["coverage_report", "--propose", "2"]
    term = _Terminal()
    try:
        call_command(*args, stdout=io.StringIO(), stderr=term.slave)
        term.slave.flush()
        wait_for(lambda: "100%" in term.text(), timeout=30, what="the bar's last state")
    finally:
        term.close()
    assert term.text().count("\r") >= 2
    if command == "load_demo_city":
        return  # loaded once is enough; its log lines are the same helper's
    log = io.StringIO()
    call_command(*args, stdout=io.StringIO(), stderr=log)
    assert "100%" in log.getvalue() and "\r" not in log.getvalue()
