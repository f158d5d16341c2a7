"""Loaded with `-p tests.env_defaults` (pyproject addopts) before Django reads its settings.

Tests run with the development defaults (SQLite, console mail, plain static storage) unless
the environment says otherwise; CI points DATABASE_URL at PostgreSQL and REDIS_URL at Redis.
"""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# In-process tests keep the cache in their own memory, cleared around each test: a shared
# Redis would mix rate-limit counters of concurrent runs. Tests about several processes
# start a Redis of their own (tests/security/test_totp_replay.py).
os.environ.setdefault("CACHE_URL", "locmemcache://")
