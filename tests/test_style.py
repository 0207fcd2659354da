"""`ruff check` and `ruff format --check` stay clean (STYLE.md): the format was applied once and is kept."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUFF = os.path.join(os.path.dirname(sys.executable), "ruff")
PATHS = ["zsdx", "tests", "scripts", "app.py", "config.py"]


def _ruff(*args):
    return subprocess.run([RUFF, *args, *PATHS], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_ruff_check_is_clean():
    result = _ruff("check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_kept():
    result = _ruff("format", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
