"""The queries that find a minute's due patients stay on their indexes: at a million
patients, reading every patient's zone and time each minute would take seconds."""

import datetime as dt

import pytest
from django.db import connection

from reminders import selectors
from reminders.models import ReminderSettings
from tests.services import require_postgresql

from .conftest import patient_due_at

NIGHT = dt.datetime(2026, 1, 15, 21, 30, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def plans(db):
    """EXPLAIN of each query as PostgreSQL would run it on a big table: 5,000 verified
    patients due at other times of day, fresh statistics, and sequential scans priced out
    (a test table is still small enough to read whole)."""
    require_postgresql()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_user (password, is_superuser, email, first_name, role, "
            "is_staff, is_active, date_joined) SELECT '!', false, 'crowd' || n || "
            "'@example.org', '', 'patient', false, true, now() FROM generate_series(1, 5000) n"
        )
        cursor.execute(
            "INSERT INTO accounts_patientprofile (user_id, time_zone, dose_time, reminder_time, "
            "reminders_enabled, formulation, created_at, updated_at) "
            "SELECT id, 'Europe/Paris', 'bedtime', time '00:00' + id * interval '1 minute', "
            "true, 'capsule', now(), now() FROM accounts_user WHERE email LIKE 'crowd%%'"
        )
        cursor.execute(
            'INSERT INTO account_emailaddress (email, verified, "primary", user_id) '
            "SELECT email, true, true, id FROM accounts_user WHERE email LIKE 'crowd%%'"
        )
        cursor.execute("ANALYZE accounts_user, accounts_patientprofile, account_emailaddress")
        cursor.execute("SET LOCAL enable_seqscan = off")
    return lambda query: query.explain()


def test_patients_on_their_profiles_clock_are_found_by_zone_and_time(plans):
    patient_due_at(NIGHT)

    on_profile_clock, _ = selectors.first_reminder_candidates(NIGHT - MINUTE, NIGHT)

    print(plans(on_profile_clock))
    assert "reminders_profile_clock" in plans(on_profile_clock)


def test_patients_on_home_time_are_found_by_their_home_zone(plans):
    patient = patient_due_at(NIGHT)
    ReminderSettings.objects.create(
        patient=patient, travel=ReminderSettings.Travel.HOME, home_time_zone="Europe/London"
    )

    _, on_home_clock = selectors.first_reminder_candidates(NIGHT - MINUTE, NIGHT)

    assert "reminder_settings_home_zone" in plans(on_home_clock)


def test_nudges_are_found_by_when_the_first_reminder_was_sent(plans):
    assert "reminder_first_sent" in plans(selectors.nudge_candidates(NIGHT - MINUTE, NIGHT))
