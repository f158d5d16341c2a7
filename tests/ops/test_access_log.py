"""gunicorn's access log, with README's production command line, names paths without their
query strings: whatever someone typed into a URL stays out of the log."""

import os
import runpy
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - local server
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_configured_format_has_no_request_line_query_or_referrer():
    fmt = runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))["access_log_format"]
    assert "%(U)s" in fmt  # the path alone
    for atom in ("%(r)s", "%(q)s", "%(f)s", "{raw_uri}e", "{query_string}e"):
        assert atom not in fmt


@pytest.mark.integration
@pytest.mark.slow
def test_a_query_string_never_reaches_the_access_log(tmp_path):
    port = free_port()
    log = tmp_path / "access.log"
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "a-production-like-key-for-this-test-only-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "EMAIL_URL": "consolemail://",
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        "SECURE_SSL_REDIRECT": "false",
        "ENV_FILE": "/dev/null",
    }
    # README's production command, plus an access log file and a free port.
    server = subprocess.Popen(
        [str(GUNICORN), "ldn_tracker.wsgi", "--workers", "1", "--bind", f"127.0.0.1:{port}"]
        + ["--access-logfile", str(log)],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        status = None
        while status is None and time.monotonic() < deadline:
            try:
                status = get(f"http://127.0.0.1:{port}/healthz?x=secret&name=Alex+Smith")
            except OSError:
                time.sleep(0.2)
        assert status is not None, "gunicorn did not answer"
        deadline = time.monotonic() + 10
        while "/healthz" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "no access log line"
            time.sleep(0.1)
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=20)
    [line] = [line for line in log.read_text().splitlines() if "/healthz" in line]
    assert f'"GET /healthz HTTP/1.1" {status} ' in line
    assert "secret" not in line and "Alex" not in line and "?" not in line
    assert "secret" not in errors.decode()
