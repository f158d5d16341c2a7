"""Where the cache lives, read the way production starts: `manage.py` in a fresh process with
only a deployment's environment. allauth keeps rate-limit counters and used two-factor codes
in it, so in production every process must share it."""

import pytest

from ..test_settings import manage

CACHE = (
    "from django.conf import settings; c = settings.CACHES['default']; "
    "print(c['BACKEND'], c.get('LOCATION', ''))"
)


def cache_of(env):
    done = manage("shell", "-v", "0", "-c", CACHE, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_production_uses_redis_on_a_database_of_its_own(production_env):
    production_env["REDIS_URL"] = "redis://cache.example.org:6379/0"
    assert cache_of(production_env) == (
        "django.core.cache.backends.redis.RedisCache redis://cache.example.org:6379/1"
    )


def test_the_cache_database_number_can_be_chosen(production_env):
    production_env["REDIS_URL"] = "redis://:secret@cache.example.org:6380/0"
    production_env["REDIS_CACHE_DB"] = "4"
    assert cache_of(production_env) == (
        "django.core.cache.backends.redis.RedisCache redis://:secret@cache.example.org:6380/4"
    )


def test_the_cache_may_not_share_the_brokers_database(production_env):
    production_env["REDIS_URL"] = "redis://cache.example.org:6379/1"
    done = manage("check", env=production_env)
    assert done.returncode != 0
    assert "REDIS_CACHE_DB=1 is the broker's database" in done.stderr


@pytest.mark.parametrize("with_redis", [False, True])
def test_a_local_run_keeps_it_in_memory_unless_redis_is_set(production_env, with_redis):
    env = {k: v for k, v in production_env.items() if k not in {"REDIS_URL", "SECRET_KEY"}}
    env["DEBUG"] = "true"
    if with_redis:
        env["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    expected = (
        "django.core.cache.backends.redis.RedisCache redis://127.0.0.1:6379/1"
        if with_redis
        else "django.core.cache.backends.locmem.LocMemCache"
    )
    assert cache_of(env) == expected
