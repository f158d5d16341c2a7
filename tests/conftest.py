from collections import Counter
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache

from . import env_defaults
from .factories import ClinicianFactory, PatientProfileFactory, UserFactory, onboarded_patient


def services_line(skip_reasons: list[str]) -> str:
    """One line: the real services this run used and how many tests skipped, and why."""
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("postgresql"):
        host = f"{database['HOST'] or 'localhost'}:{database['PORT'] or 5432}"
        used = [f"PostgreSQL {host} ({env_defaults.chosen.get('DATABASE_URL', '')})"]
    else:
        used = [f"SQLite ({env_defaults.chosen.get('DATABASE_URL', '')})"]
    if settings.REDIS_URL:
        redis_url = urlsplit(settings.REDIS_URL)
        host = f"{redis_url.hostname}:{redis_url.port or 6379}"
        used.append(f"Redis {host} ({env_defaults.chosen.get('REDIS_URL', '')})")
    else:
        used.append(f"embedded broker ({env_defaults.chosen.get('REDIS_URL', '')})")
    counts = Counter(skip_reasons)
    skipped = f"{len(skip_reasons)} skipped"
    if counts:
        skipped += ": " + "; ".join(f"{n} × {reason}" for reason, n in counts.most_common())
    return f"Services: {', '.join(used)}. {skipped}."


def _skip_reason(report) -> str:
    if isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter):
    # Outermost wrapper: printed after pytest's short summary, just above its closing count.
    result = yield
    skipped = [_skip_reason(report) for report in terminalreporter.stats.get("skipped", [])]
    terminalreporter.write_line(services_line(skipped))
    return result


@pytest.fixture(autouse=True)
def _fresh_cache():
    # allauth's rate limits and axes live in the cache; one test must not throttle the next.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def patient(db):
    """A verified patient, onboarded, on the standard plan from today."""
    return onboarded_patient(email="alex@example.org")


@pytest.fixture
def other_patient(db):
    return onboarded_patient(email="sam@example.org")


@pytest.fixture
def new_patient(db):
    """Signed up and verified, not yet onboarded."""
    user = UserFactory(email="new@example.org")
    PatientProfileFactory(
        user=user, time_zone="", dose_time="", reminder_time=None, formulation="", onboarded_at=None
    )
    return user


@pytest.fixture
def clinician(db):
    return ClinicianFactory(email="dr.lee@example.org")


@pytest.fixture
def other_clinician(db):
    return ClinicianFactory(email="dr.kim@example.org")


@pytest.fixture
def patient_client(client, patient):
    client.force_login(patient)
    return client
