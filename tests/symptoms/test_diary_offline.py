"""/diary/offline/: a diary filled in offline, sent when the connection returns."""

import datetime as dt
import json
import uuid

import pytest
import time_machine
from django.utils import timezone

from symptoms.models import DiaryEntry
from symptoms.services import diary_save
from tests.factories import onboarded_patient

UTC = dt.UTC
EVENING = dt.datetime(2026, 1, 15, 21, 0, tzinfo=UTC)
URL = "/diary/offline/"


@pytest.fixture
def evening():
    with time_machine.travel(EVENING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def patient(db, evening):
    return onboarded_patient(email="alex@example.org", start_date=dt.date(2026, 1, 10))


@pytest.fixture
def patient_client(client, patient):
    client.force_login(patient)
    return client


def _send(client, *, pain="6", saved_at=EVENING, day="2026-01-15"):
    body = {
        "client_id": str(uuid.uuid4()),
        "pressed_at": saved_at.isoformat(),
        "sent_at": timezone.now().isoformat(),  # sent now, by a clock that is right
        "fields": [["diary_form", "short"], ["day", day], ["pain", pain], ["sleep", "4"]],
    }
    return client.post(URL, json.dumps(body), content_type="application/json")


def test_a_diary_filled_in_offline_is_saved(patient_client, patient):
    response = _send(patient_client, saved_at=EVENING - dt.timedelta(minutes=20))

    assert response.json() == {
        "status": "recorded",
        "message": "Your diary for Thursday 15 January is saved.",
    }
    entry = DiaryEntry.objects.get(patient=patient)
    assert (entry.pain, entry.sleep) == (6, 4)


def test_sending_it_again_changes_nothing(patient_client):
    _send(patient_client)
    assert _send(patient_client).json()["status"] == "duplicate"
    assert DiaryEntry.objects.count() == 1


def test_a_newer_edit_from_another_device_wins_and_the_patient_is_told(
    patient_client, patient, evening
):
    evening.move_to(EVENING + dt.timedelta(minutes=5))
    diary_save(patient=patient, day=dt.date(2026, 1, 15), values={"pain": 3, "sleep": 2})

    response = _send(patient_client, pain="8", saved_at=EVENING)

    assert response.json()["status"] == "refused"
    assert "changed at 21:05" in response.json()["message"]
    assert "newer version was kept" in response.json()["message"]
    assert DiaryEntry.objects.get().pain == 3


def test_an_older_entry_is_replaced_by_the_offline_one(patient_client, patient, evening):
    evening.move_to(EVENING - dt.timedelta(hours=1))
    diary_save(patient=patient, day=dt.date(2026, 1, 15), values={"pain": 3, "sleep": 2})
    evening.move_to(EVENING)

    assert _send(patient_client, pain="8").json()["status"] == "recorded"
    assert DiaryEntry.objects.get().pain == 8


def test_a_bad_value_is_refused_with_a_plain_reason(patient_client):
    response = _send(patient_client, pain="eleven")
    assert response.json()["status"] == "refused"
    assert "please fill it in again" in response.json()["message"]
    assert not DiaryEntry.objects.exists()


def test_a_day_too_long_ago_is_refused(patient_client):
    response = _send(patient_client, day="2026-01-01")
    assert response.json()["status"] == "refused"
    assert "7 days back" in response.json()["message"]


@pytest.mark.parametrize("body", ["", "[]", json.dumps({"fields": [["day", "x"]]})])
def test_an_unreadable_item_is_refused_kindly(patient_client, body):
    response = patient_client.post(URL, body, content_type="application/json")
    assert response.status_code == 400


def test_a_clinician_gets_404(client, clinician):
    client.force_login(clinician)
    assert _send(client).status_code == 404
