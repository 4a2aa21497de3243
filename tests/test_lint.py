"""ruff, configured in pyproject.toml, runs as part of the README's test command, so CI lints what it tests."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ruff(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_ruff_finds_nothing():
    done = ruff(".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_would_say_so():
    """The check above can fail: the same configuration reports an unused import and a line past 130."""
    done = ruff("--stdin-filename", "core/example.py", "-", stdin="import os\nx = '" + "a" * 130 + "'\n")
    assert done.returncode == 1 and "F401" in done.stdout and "E501" in done.stdout, done.stdout + done.stderr
