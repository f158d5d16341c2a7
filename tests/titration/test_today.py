import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from titration.models import DoseLog

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _evening():
    # The dose's window opens 6 hours before its time: these tests act in the evening.
    with time_machine.travel(dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC), tick=False):
        yield


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("today"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_it_shows_tonights_dose_on_day_one(patient_client):
    response = patient_client.get(reverse("today"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "1.5 mg" in body
    assert "Day 1 of your plan" in body
    assert "I took it" in body
    assert "Ask your prescriber before changing your dose" in body


def test_taking_the_dose_logs_it_once(patient_client, patient):
    response = patient_client.post(reverse("dose_take"))
    assert response.status_code == 302
    log = DoseLog.objects.get(patient=patient)
    assert log.status == DoseLog.Status.TAKEN
    assert str(log.dose_mg) == "1.50"
    # A second tap on the same card (it posts the date it showed) records nothing.
    day = patient.profile.local_today().isoformat()
    again = patient_client.post(reverse("dose_take"), {"day": day}, follow=True)
    assert "already logged" in again.content.decode()
    assert DoseLog.objects.filter(patient=patient).count() == 1


def test_htmx_take_returns_the_card_fragment(patient_client):
    response = patient_client.post(reverse("dose_take"), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="dose-card"' in body
    assert "<html" not in body
    assert "Taken at" in body
