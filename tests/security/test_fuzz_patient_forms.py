"""Hostile input never breaks a patient form: no 5xx, nothing out of range stored, text escaped."""

import datetime as dt

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import PatientProfile
from symptoms.models import RATINGS, SIDE_EFFECTS, DiaryEntry
from titration.models import DoseLog, PlanEvent, SupplyEntry

from ..factories import DoseLogFactory, onboarded_patient

pytestmark = pytest.mark.django_db

HOSTILE = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "",
            "NaN",
            "nan",
            "inf",
            "-inf",
            "1e309",
            "-1",
            "11",
            "99999999999999999999999",
            "0x10",
            "<script>alert(1)</script>",
            "'; DROP TABLE titration_doselog; --",
            "\x00",
            "١٢",  # Arabic-Indic digits
            "2026-02-30",
            "9999-12-31",
            "0001-01-01",
            "x" * 5000,
        ]
    ),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def fuzz_client(client):
    user = onboarded_patient(start_date=dt.date.today() - dt.timedelta(days=3))
    for offset in range(3):
        DoseLogFactory(plan=user.plans.get(), date=dt.date.today() - dt.timedelta(days=3 - offset))
    client.force_login(user)
    return client


def _assert_no_server_error(response):
    assert response.status_code < 500
    if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
        assert "<script>alert(1)</script>" not in response.content.decode()


@FUZZ
@given(
    data=st.dictionaries(
        st.sampled_from([*RATINGS, *SIDE_EFFECTS, "other_text", "notes", "no_side_effects"]),
        HOSTILE,
    )
)
def test_diary_survives_hostile_input(fuzz_client, data):
    _assert_no_server_error(fuzz_client.post(reverse("diary"), data))
    for entry in DiaryEntry.objects.all():
        for name in RATINGS:
            value = getattr(entry, name)
            assert value is None or 0 <= value <= 10
        for name in SIDE_EFFECTS:
            value = getattr(entry, name)
            assert value is None or 0 <= value <= 3


@FUZZ
@given(day=HOSTILE, status=HOSTILE)
def test_late_dose_entry_survives_hostile_input(fuzz_client, day, status):
    _assert_no_server_error(fuzz_client.post(reverse("dose_late"), {"day": day, "status": status}))
    today = dt.date.today()
    for log in DoseLog.objects.all():
        assert today - dt.timedelta(days=3) <= log.date <= today + dt.timedelta(days=1)
        assert log.status in ("taken", "skipped")


@FUZZ
@given(day=HOSTILE)
def test_dose_buttons_survive_a_hostile_day(fuzz_client, day):
    _assert_no_server_error(fuzz_client.post(reverse("dose_take"), {"day": day}))
    _assert_no_server_error(fuzz_client.post(reverse("dose_undo"), {"day": day}))


@FUZZ
@given(reason=HOSTILE, days=HOSTILE)
def test_hold_and_skip_survive_hostile_input(fuzz_client, reason, days):
    _assert_no_server_error(
        fuzz_client.post(reverse("plan_hold"), {"days": days, "reason": reason})
    )
    _assert_no_server_error(fuzz_client.post(reverse("dose_skip"), {"reason": reason}))
    for event in PlanEvent.objects.filter(kind="hold"):
        assert event.days in (3, 7, 14)
    for log in DoseLog.objects.all():
        assert len(log.skip_reason) <= 200


@FUZZ
@given(
    data=st.fixed_dictionaries(
        {
            "kind": HOSTILE,
            "received_on": HOSTILE,
            "amount": HOSTILE,
            "capsule_strength_mg": HOSTILE,
        }
    )
)
def test_supply_survives_hostile_input(fuzz_client, data):
    _assert_no_server_error(fuzz_client.post(reverse("supply"), data))
    for entry in SupplyEntry.objects.all():
        assert 0 <= entry.amount <= 10000
        assert entry.capsule_strength_mg is None or 0.25 <= entry.capsule_strength_mg <= 6


@FUZZ
@given(start=HOSTILE, end=HOSTILE, period=HOSTILE)
def test_report_and_progress_survive_hostile_query_strings(fuzz_client, start, end, period):
    _assert_no_server_error(fuzz_client.get(reverse("report"), {"start": start, "end": end}))
    _assert_no_server_error(fuzz_client.get(reverse("progress"), {"period": period}))


@FUZZ
@given(born=HOSTILE, paper=HOSTILE)
def test_report_details_survive_hostile_input(fuzz_client, born, paper):
    _assert_no_server_error(
        fuzz_client.post(reverse("account_settings"), {"date_of_birth": born, "paper_size": paper})
    )
    for profile in PatientProfile.objects.all():
        assert profile.paper_size in ("a4", "letter")
        assert profile.date_of_birth is None or dt.date(1900, 1, 1) <= profile.date_of_birth
