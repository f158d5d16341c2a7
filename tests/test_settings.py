"""Production settings, checked the way production starts: `manage.py` in a fresh process
with only the environment a deployment would give it."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent

# Every variable ldn_tracker/settings.py reads. The test run's own values (DEBUG=true from
# tests/env_defaults.py, CI's DATABASE_URL and REDIS_URL) must not leak into "production".
SETTINGS_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "CONN_MAX_AGE",
    "DATABASE_PREPARED_STATEMENTS",
    "SESSION_COOKIE_AGE",
    "STATIC_ROOT",
    "EMAIL_TIMEOUT",
    "EMAIL_URL",
    "DEFAULT_FROM_EMAIL",
    "REDIS_URL",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "BEHIND_TLS_PROXY",
    "TRUSTED_PROXY_COUNT",
    "REDIS_CACHE_DB",
    "CACHE_URL",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "WORKER_HEARTBEAT_MAX_AGE",
    "SESSION_IDLE_SECONDS_STAFF",
    "SESSION_ABSOLUTE_SECONDS",
    "SITE_URL",
    "REMINDER_MESSAGE_ID_DOMAIN",
    "REMINDER_BATCH_SIZE",
    "REMINDER_LEASE_SECONDS",
    "REMINDER_RETRY_BASE_SECONDS",
    "REMINDER_RETRY_MAX_SECONDS",
    "REMINDER_MAX_ATTEMPTS",
    "ENV_FILE",
}


@pytest.fixture
def production_env(tmp_path):
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in SETTINGS_VARIABLES and not name.startswith("CELERY_")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="ldn_tracker.settings",
        ENV_FILE="/dev/null",  # a developer's .env must not fill in what production lacks
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(45),  # 60 characters
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        ALLOWED_HOSTS="ldn.example.org",
        EMAIL_URL="smtp+tls://u:p@mail.example.org:587",
        # Not contacted by `check`; set so the settings do not fall back to the local broker.
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    return env


def manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_deploy_checks_pass_with_a_production_environment(production_env):
    assert len(production_env["SECRET_KEY"]) == 60

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "name", ["SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "EMAIL_URL", "REDIS_URL"]
)
def test_start_up_stops_with_debug_off_when_a_required_variable_is_missing(production_env, name):
    del production_env[name]

    result = manage("check", env=production_env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"The environment variable {name} is required" in result.stderr


def test_makemigrations_check_runs_in_a_bare_checkout_and_finds_nothing_to_do(production_env):
    # A developer's shell: none of the settings' variables, not even DEBUG.
    env = {name: value for name, value in production_env.items() if name not in SETTINGS_VARIABLES}
    env["ENV_FILE"] = "/dev/null"

    result = manage("makemigrations", "--check", "--dry-run", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


def test_other_commands_in_a_bare_checkout_still_ask_for_the_secret_key(production_env):
    env = {name: value for name, value in production_env.items() if name not in SETTINGS_VARIABLES}
    env["ENV_FILE"] = "/dev/null"

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "The environment variable SECRET_KEY is required" in result.stderr


DATABASE_OPTIONS = (
    "from django.conf import settings; print(sorted(settings.DATABASES['default']"
    "['OPTIONS'].items()))"
)


@pytest.mark.parametrize(
    "setting, expected",
    [
        (None, "[('prepare_threshold', 5), ('server_side_binding', True)]"),
        ("true", "[('prepare_threshold', 5), ('server_side_binding', True)]"),
        ("false", "[]"),
    ],
)
def test_postgresql_prepares_repeated_statements_unless_told_not_to(
    production_env, setting, expected
):
    production_env["DATABASE_URL"] = "postgres://ldn@db.example.org:5432/ldn"  # not contacted
    if setting is not None:
        production_env["DATABASE_PREPARED_STATEMENTS"] = setting
    done = manage("shell", "-v", "0", "-c", DATABASE_OPTIONS, env=production_env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected


LOG_LINE = "import logging; logging.getLogger('ops').warning('started')"


def test_production_logs_json_lines_and_development_readable_text(production_env):
    done = manage("shell", "-v", "0", "-c", LOG_LINE, env=production_env)
    assert done.returncode == 0, done.stderr
    line = json.loads(done.stderr.strip().splitlines()[-1])
    assert line["level"] == "WARNING" and line["logger"] == "ops" and line["message"] == "started"

    production_env["LOG_FORMAT"] = "text"
    done = manage("shell", "-v", "0", "-c", LOG_LINE, env=production_env)
    assert done.stderr.strip().splitlines()[-1].endswith("WARNING ops started")


def test_an_unknown_log_format_stops_start_up(production_env):
    production_env["LOG_FORMAT"] = "xml"
    done = manage("check", env=production_env)
    assert done.returncode != 0
    assert "LOG_FORMAT must be json or text" in done.stderr
