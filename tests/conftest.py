import pytest
from django.core.cache import cache

from .factories import ClinicianFactory, PatientProfileFactory, UserFactory, onboarded_patient


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
