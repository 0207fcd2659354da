"""Real servers for the tests that start them (tests/e2e/conftest.py: the app under gunicorn for the browser;
tests/test_scaleout.py: two gunicorn nodes and rq workers): a free port, a set-up command whose failure shows
its log, waiting for a server to answer, stopping it."""

import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, n=4000):
    """The end of a log file ('' if it cannot be read)."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")[-n:]
    except OSError:
        return ""


def run(cmd, env, log_path, timeout=300):
    """Run a set-up command (flask db upgrade, …) in the repository, its output appended to `log_path`; a
    failure fails the test with the log's end."""
    with open(log_path, "ab") as log:
        log.write(f"\n$ {' '.join(map(str, cmd))}\n".encode())
        log.flush()
        result = subprocess.run(
            cmd, check=False, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout
        )
    if result.returncode:
        pytest.fail(f"{' '.join(map(str, cmd))} failed ({result.returncode}):\n{tail(log_path)}")


def wait_until_up(proc, url, log_path, timeout):
    """Wait until GET `url` answers 200; fail (with the log's end) if the process exits or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            pytest.fail(f"gunicorn exited ({proc.returncode}):\n{tail(log_path)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{url} did not answer within {timeout} s:\n{tail(log_path)}")
        time.sleep(0.2)


def stop(proc, timeout=15):
    """Terminate a server (kill it if it does not stop within `timeout` s)."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
