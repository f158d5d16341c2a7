"""Loaded with `-p tests.env_defaults` (pyproject addopts) before Django reads its settings.

Tests run against PostgreSQL and Redis when they answer on their default local ports, as CI's
do (`.ci/run` sets the same URLs); otherwise with the development defaults (SQLite, the
embedded broker). DATABASE_URL or REDIS_URL set in the environment (even empty) wins: that
is how CI and anyone who wants SQLite choose. tests/conftest.py prints what was used.
"""

import os
from urllib.parse import urlsplit

import psycopg
import redis

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# In-process tests keep the cache in their own memory, cleared around each test: a shared
# Redis would mix rate-limit counters of concurrent runs. Tests about several processes
# start a Redis of their own (tests/security/test_totp_replay.py).
os.environ.setdefault("CACHE_URL", "locmemcache://")

LOCAL_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ldn_tracker"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"

# Why each URL is what it is, for the summary line: set in the environment, found on the
# default port, or the reason nothing was.
chosen = {}


def _postgresql_answers() -> str | None:
    """None when a login as postgres on 127.0.0.1:5432 works, else why not."""
    try:
        psycopg.connect(
            host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=1
        ).close()
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]
    return None


def _redis_answers() -> str | None:
    try:
        with redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1) as client:
            client.ping()
    except redis.RedisError as exc:
        return str(exc)
    return None


def _choose(name, service, local_url, probe):
    if name in os.environ:
        chosen[name] = f"from {name}"
        return
    problem = probe()
    if problem is None:
        os.environ[name] = local_url
        chosen[name] = "answered on its default port"
    else:
        address = urlsplit(local_url)
        chosen[name] = f"no {service} on {address.hostname}:{address.port}: {problem}"


_choose("DATABASE_URL", "PostgreSQL", LOCAL_DATABASE_URL, _postgresql_answers)
_choose("REDIS_URL", "Redis", LOCAL_REDIS_URL, _redis_answers)
