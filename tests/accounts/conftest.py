import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher

ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"


class CheapArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 still, at a cost fit for tests: these tests log in dozens of times."""

    time_cost = 1
    memory_cost = 64
    parallelism = 1


@pytest.fixture(autouse=True)
def _cheap_argon2(settings):
    # Swap only Argon2 itself, so a settings change that drops Argon2 still fails the tests.
    settings.PASSWORD_HASHERS = [
        f"{__name__}.CheapArgon2PasswordHasher" if name == ARGON2 else name
        for name in settings.PASSWORD_HASHERS
    ]
