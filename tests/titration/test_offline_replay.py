"""/dose/offline/: "I took it" pressed offline, sent when the connection returns."""

import datetime as dt
import json
import uuid

import pytest
import time_machine

from tests.factories import onboarded_patient
from titration.models import DoseLog

UTC = dt.UTC
# London in January is UTC: the dose is due at 21:30, its window opens at 15:30.
EVENING = dt.datetime(2026, 1, 15, 21, 34, tzinfo=UTC)
URL = "/dose/offline/"


@pytest.fixture
def evening():
    with time_machine.travel(EVENING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def patient(db, evening):
    return onboarded_patient(email="alex@example.org", start_date=dt.date(2026, 1, 15))


@pytest.fixture
def patient_client(client, patient):
    client.force_login(patient)
    return client


def _send(client, *, client_id=None, pressed_at=EVENING, day="2026-01-15", sent_at=None):
    body = {
        "client_id": str(client_id or uuid.uuid4()),
        "pressed_at": pressed_at.isoformat(),
        "sent_at": (sent_at or EVENING).isoformat(),
        "fields": [["day", day]],
    }
    return client.post(URL, json.dumps(body), content_type="application/json")


def test_a_queued_dose_is_recorded_at_the_instant_it_was_pressed(patient_client, evening):
    pressed = EVENING - dt.timedelta(minutes=40)  # offline since 20:54

    response = _send(patient_client, pressed_at=pressed)

    assert response.json() == {
        "status": "recorded",
        "message": "Your dose taken at 20:54 is recorded.",
    }
    log = DoseLog.objects.get()
    assert (log.taken_at, log.status, log.date) == (pressed, "taken", dt.date(2026, 1, 15))
    assert not log.is_late_entry  # pressed on its evening, only sent later


def test_sending_the_same_press_again_records_nothing_more(patient_client):
    client_id = uuid.uuid4()
    _send(patient_client, client_id=client_id)
    again = _send(patient_client, client_id=client_id)

    assert again.json()["status"] == "duplicate"
    assert DoseLog.objects.count() == 1


def test_a_second_press_from_another_tab_is_refused_with_the_reason(patient_client):
    _send(patient_client)
    other = _send(patient_client, pressed_at=EVENING - dt.timedelta(minutes=1))

    assert other.json()["status"] == "refused"
    assert "already logged" in other.json()["message"]
    assert DoseLog.objects.count() == 1


def test_a_press_before_the_window_opened_is_refused_by_the_decision(patient_client):
    response = _send(patient_client, pressed_at=dt.datetime(2026, 1, 15, 14, 0, tzinfo=UTC))

    assert response.json()["status"] == "refused"
    assert "can be taken from 15:30" in response.json()["message"]
    assert not DoseLog.objects.exists()


def test_a_device_clock_an_hour_fast_still_records_the_real_instant(patient_client):
    fast = dt.timedelta(hours=1)
    pressed_real = EVENING - dt.timedelta(minutes=10)

    _send(patient_client, pressed_at=pressed_real + fast, sent_at=EVENING + fast)

    assert DoseLog.objects.get().taken_at == pressed_real


@pytest.mark.parametrize(
    "body",
    ["", "{}", "[]", json.dumps({"client_id": "x", "pressed_at": "now", "fields": []})],
)
def test_an_unreadable_item_is_refused_kindly(patient_client, body):
    response = patient_client.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert "could not be read" in response.json()["message"]


def test_the_client_id_is_not_another_patients_key(patient_client, client, evening):
    client_id = uuid.uuid4()
    _send(patient_client, client_id=client_id)
    other = onboarded_patient(email="sam@example.org", start_date=dt.date(2026, 1, 15))
    client.force_login(other)

    response = _send(client, client_id=client_id)

    # Refused (the id is taken), never the first patient's dose shown to the second.
    assert response.json()["status"] == "refused"
    assert DoseLog.objects.filter(patient=other).count() == 0


def test_a_clinician_gets_404(client, clinician):
    client.force_login(clinician)
    assert _send(client).status_code == 404
