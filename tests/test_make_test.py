"""`make test` on a developer's machine: PostgreSQL and Redis when they answer on their
default local ports, the development defaults otherwise, and a closing line that says which
real services ran and why tests skipped (tests/env_defaults.py, tests/conftest.py)."""

import os
import subprocess
import sys
from pathlib import Path

from tests import env_defaults
from tests.services import require_service

BASE_DIR = Path(__file__).resolve().parent.parent


def run_pytest(*args, **env_changes):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "DJANGO_"))
        and key not in ("CI", "DATABASE_URL", "REDIS_URL", "DEBUG", "LOG_LEVEL")
    }
    env.update(env_changes)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout.strip().splitlines()


def test_the_run_ends_with_the_services_used_and_each_skip_reason_counted(tmp_path):
    lines = run_pytest(
        "tests/clinic/test_audit.py",
        "-k",
        "raw_updates or cannot_be_changed",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL="",
    )

    # pytest's own count stays the last line: CI reads it.
    assert lines[-1].startswith("1 passed, 1 skipped"), lines
    assert lines[-2] == (
        "Services: SQLite (from DATABASE_URL), embedded broker (from REDIS_URL). "
        "1 skipped: 1 × PostgreSQL trigger."
    )


def test_without_urls_it_uses_postgresql_and_redis_answering_on_their_default_ports():
    require_service("PostgreSQL on 127.0.0.1:5432", env_defaults._postgresql_answers() is None)
    require_service("Redis on 127.0.0.1:6379", env_defaults._redis_answers() is None)

    # A test that opens no database, so no test database is created by this run.
    lines = run_pytest("tests/test_make_test.py", "-k", "choose")

    assert lines[-2] == (
        "Services: PostgreSQL 127.0.0.1:5432 (answered on its default port), "
        "Redis 127.0.0.1:6379 (answered on its default port). 0 skipped."
    ), lines


def test_choose_keeps_a_url_set_in_the_environment_even_empty(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "")
    monkeypatch.setitem(env_defaults.chosen, "REDIS_URL", None)

    env_defaults._choose("REDIS_URL", "Redis", "redis://127.0.0.1:6379/0", lambda: None)

    assert os.environ["REDIS_URL"] == ""
    assert env_defaults.chosen["REDIS_URL"] == "from REDIS_URL"


def test_choose_falls_back_and_says_why_when_nothing_answers(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setitem(env_defaults.chosen, "DATABASE_URL", None)

    env_defaults._choose(
        "DATABASE_URL",
        "PostgreSQL",
        "postgres://postgres@127.0.0.1:5432/ldn_tracker",
        lambda: "Connection refused",
    )

    assert "DATABASE_URL" not in os.environ
    assert env_defaults.chosen["DATABASE_URL"] == (
        "no PostgreSQL on 127.0.0.1:5432: Connection refused"
    )


def test_choose_uses_the_local_service_when_it_answers(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setitem(env_defaults.chosen, "REDIS_URL", None)

    env_defaults._choose("REDIS_URL", "Redis", "redis://127.0.0.1:6379/0", lambda: None)

    assert os.environ["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert env_defaults.chosen["REDIS_URL"] == "answered on its default port"
