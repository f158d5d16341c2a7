"""Helpers for tests that need a real service (PostgreSQL, Redis, a Celery worker, SMTP).

The rule: in CI (CI=true) such a test must run, so a missing service fails it; on a laptop
without the service it skips and says what is missing. Use `require_service` for that
decision and the `*_or_skip` helpers to get a usable address.
"""

import logging
import os
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.db import connection

# Redis database reserved for tests: a worker started by `make run` (database 0) never
# sees a test's messages, and a test never consumes real ones.
TEST_REDIS_DB = 15


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def require_service(name: str, available: bool, detail: str = "") -> None:
    """Skip the test locally when `name` is missing; fail it in CI, where it must run."""
    if available:
        return
    reason = f"{name} is not available" + (f" ({detail})" if detail else "")
    if in_ci():
        pytest.fail(f"{reason}. CI must run this test: start {name} (see .ci/run).")
    pytest.skip(f"{reason}; CI runs this test.")


def redis_url_or_skip() -> str:
    """A reachable Redis URL on the test database: REDIS_URL's server, or the local default."""
    parts = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    url = urlunsplit(parts._replace(path=f"/{TEST_REDIS_DB}"))
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        with client:
            client.ping()
    except redis.RedisError as exc:
        require_service("Redis", False, f"{parts.hostname}:{parts.port or 6379}: {exc}")
    return url


def require_postgresql() -> None:
    """For tests of PostgreSQL-only behaviour (locks, constraints SQLite ignores)."""
    require_service(
        "PostgreSQL",
        connection.vendor == "postgresql",
        f"the test database is {connection.vendor}; set DATABASE_URL=postgres://...",
    )


@contextmanager
def celery_broker(app, url: str, transport_options: dict | None = None):
    """Point a Celery app at another broker for the duration of a test, then put it back.

    The app caches its connection and producer pools, built from the old URL; dropping them
    (as Celery does after a fork) makes the next publish connect to the new broker.
    """
    saved = (app.conf.broker_url, app.conf.broker_transport_options)
    app.conf.broker_url = url
    app.conf.broker_transport_options = transport_options or {}
    _forget_connection_pools(app)
    try:
        yield app
    finally:
        app.conf.broker_url, app.conf.broker_transport_options = saved
        _forget_connection_pools(app)


def _forget_connection_pools(app):
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def every_logger_at_debug(handler: logging.Handler):
    """`handler` on the root logger and every logger at DEBUG, for the block; put back after."""
    root = logging.getLogger()
    loggers = [root, *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict))]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled
