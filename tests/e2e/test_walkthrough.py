"""The README's walkthrough, run as written against a live server."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "examples" / "walkthrough.sh"


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq")
def test_the_curl_walkthrough_takes_a_case_round_the_whole_loop(live_server: str) -> None:
    run = subprocess.run(
        ["bash", str(SCRIPT)],
        env={**os.environ, "BASE": live_server},
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert any(line.startswith("evaluate") and "state=evaluated" in line for line in lines)
    assert "8. evaluate -> evaluated" in run.stdout
