"""The JavaScript GCJ-02 transform (frontend/static/common/gcj02.js) under node."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def test_js_wgs84_to_gcj02_matches_the_reference_pairs() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    result = subprocess.run(
        [node, str(HERE / "gcj02.test.mjs")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "5 passed, 0 failed" in result.stdout
