"""Hostile input never breaks the other forms and the JSON endpoint: onboarding,
questionnaires, sharing codes, reminder settings, the clinician's forms and /healthz.
No 5xx, nothing out of range stored, text rendered escaped."""

from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import PatientProfile
from clinic.models import AlertAcknowledgement, CareLink, ClinicianNote
from reminders.models import ReminderSettings
from symptoms.models import QuestionnaireResponse
from titration.models import Plan, PlanEvent

from ..clinic.conftest import mfa_login
from ..factories import PatientProfileFactory, UserFactory
from .test_fuzz_patient_forms import FUZZ, HOSTILE

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
HOSTILE_TEXT = st.one_of(HOSTILE, st.just(SCRIPT), st.just(SCRIPT * 300))


def no_server_error(response):
    assert response.status_code < 500
    if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
        assert SCRIPT not in response.content.decode()


@pytest.fixture
def patient_client(world):
    client = Client()
    client.force_login(world["patient_a"])
    return client


@pytest.fixture
def doctor_client(world):
    return mfa_login(Client(), world["clinician_linked"])


@pytest.fixture
def onboarding_client(db):
    user = UserFactory(email="new@example.org")
    PatientProfileFactory(
        user=user, time_zone="", dose_time="", reminder_time=None, formulation="", onboarded_at=None
    )
    client = Client()
    client.force_login(user)
    return client


@FUZZ
@given(
    step=st.sampled_from(["safety", "time-zone", "dose-time", "formulation", "start"]),
    data=st.dictionaries(
        st.sampled_from(
            [
                "opioid_use",
                "alcohol",
                "liver_medications",
                "liver_disease",
                "time_zone",
                "dose_time",
                "reminder_time",
                "formulation",
                "concentration_mg_per_ml",
                "start_date",
                "protocol",
                "target_mg",
            ]
        ),
        HOSTILE_TEXT,
    ),
)
def test_onboarding_survives_hostile_input(onboarding_client, step, data):
    no_server_error(onboarding_client.post(reverse("onboarding_step", args=[step]), data))
    for profile in PatientProfile.objects.all():
        assert profile.concentration_mg_per_ml is None or 0 < profile.concentration_mg_per_ml <= 50
        assert len(profile.time_zone) <= 64
    for plan in Plan.objects.all():
        assert 0.5 <= plan.target_mg <= 6


@FUZZ
@given(
    kind=st.sampled_from(["fiqr", "pgic"]),
    week=st.sampled_from([0, 4, 8, 12]),
    data=st.dictionaries(st.text(max_size=20) | st.sampled_from(["pgic", "q1", "f1"]), HOSTILE),
)
def test_questionnaires_survive_hostile_input(patient_client, kind, week, data):
    no_server_error(patient_client.post(reverse("questionnaire", args=[kind, week]), data))
    for response in QuestionnaireResponse.objects.all():
        assert 0 <= response.score <= 100


@FUZZ
@given(code=HOSTILE_TEXT)
def test_sharing_code_entry_survives_hostile_input(patient_client, code):
    before = CareLink.objects.active().count()
    no_server_error(patient_client.post(reverse("clinic:sharing"), {"code": code}))
    path = "/sharing/accept/" + quote(code or "x", safe="") + "/"
    no_server_error(patient_client.get(path))
    no_server_error(patient_client.post(path))
    assert CareLink.objects.active().count() == before


@FUZZ
@given(
    data=st.fixed_dictionaries(
        {
            "reminders_enabled": HOSTILE,
            "reminder_time": HOSTILE,
            "repeat": HOSTILE,
            "channel": HOSTILE,
            "travel": HOSTILE,
            "home_time_zone": HOSTILE_TEXT,
        }
    )
)
def test_reminder_settings_survive_hostile_input(patient_client, data):
    no_server_error(patient_client.post(reverse("reminder_settings"), data))
    for row in ReminderSettings.objects.all():
        assert row.travel in ("follow", "home")
        assert len(row.home_time_zone) <= 64


@FUZZ
@given(text=HOSTILE_TEXT, note=HOSTILE_TEXT, q=HOSTILE_TEXT, since=HOSTILE, show=HOSTILE)
def test_clinician_notes_acknowledgements_and_filters_survive_hostile_input(
    world, doctor_client, text, note, q, since, show
):
    a = world["patient_a"]
    no_server_error(doctor_client.post(reverse("clinic:note_add", args=[a.pk]), {"text": text}))
    no_server_error(
        doctor_client.post(
            reverse("clinic:alert_acknowledge", args=[a.pk, world.objects["alert"].pk]),
            {"note": note},
        )
    )
    no_server_error(doctor_client.get(reverse("clinic:panel"), {"search": q, "sort": show}))
    no_server_error(
        doctor_client.post(reverse("clinic:panel"), {"q": q, "sort": show}, follow=True)
    )
    no_server_error(
        doctor_client.get(
            reverse("clinic:patient_detail", args=[a.pk]), {"since": since, "show": show}
        )
    )
    assert all(len(n.text) <= 4000 for n in ClinicianNote.objects.all())
    assert all(len(ack.note) <= 500 for ack in AlertAcknowledgement.objects.all())


@FUZZ
@given(
    change=st.sampled_from(["hold", "target", "custom", "dose_time", "pause", "stop", "step_up"]),
    values=st.dictionaries(
        st.sampled_from(["days", "reason", "target_mg", "steps", "dose_time"]), HOSTILE_TEXT
    ),
)
def test_plan_changes_survive_hostile_input(world, doctor_client, change, values):
    a = world["patient_a"]
    data = {"change": change, **{f"{change}-{name}": v for name, v in values.items()}}
    no_server_error(doctor_client.post(reverse("clinic:patient_plan", args=[a.pk]), data))
    for plan in Plan.objects.all():
        assert 0.5 <= plan.target_mg <= 6
    for event in PlanEvent.objects.filter(kind="hold"):
        assert event.days is None or 1 <= event.days <= 60
    assert all(len(e.reason) <= 300 for e in PlanEvent.objects.all())


@FUZZ
@given(email=HOSTILE_TEXT, for_clinic=HOSTILE)
def test_care_invitations_survive_hostile_input(doctor_client, email, for_clinic):
    no_server_error(
        doctor_client.post(
            reverse("clinic:care_invite"), {"email": email, "for_clinic": for_clinic}
        )
    )


@FUZZ
@given(query=st.dictionaries(st.text(max_size=10), HOSTILE, max_size=3))
def test_healthz_answers_json_whatever_the_query(client, query):
    response = client.get(reverse("healthz"), query)
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
