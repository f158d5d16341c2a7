"""Settings, Reminders: the devices that show reminders, added by the browser and removed
by the patient."""

import base64
import json
import os

import pytest

from reminders.models import PushSubscription
from tests.factories import onboarded_patient

from .push_service import Browser, vapid_key_pair

URL = "/settings/reminders/devices/"


@pytest.fixture(autouse=True)
def _vapid(settings):
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = vapid_key_pair()


def _subscription(endpoint="https://push.example.net/send/abc"):
    browser = Browser(endpoint)
    auth = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
    return {"endpoint": endpoint, "keys": {"p256dh": browser.p256dh, "auth": auth}}


def _post(client, body):
    return client.post(URL, json.dumps(body), content_type="application/json")


def test_the_browser_subscribes_this_device(patient_client, patient):
    response = _post(patient_client, _subscription() | {"label": "Chrome on Android"})

    assert response.status_code == 201
    device = PushSubscription.objects.get()
    assert (device.patient, device.label) == (patient, "Chrome on Android")


def test_subscribing_twice_keeps_one_device(patient_client):
    body = _subscription()
    _post(patient_client, body)
    _post(patient_client, body)
    assert PushSubscription.objects.count() == 1


def test_a_device_handed_on_notifies_only_the_new_patient(patient_client, patient, client):
    other = onboarded_patient(email="jo@example.org")
    PushSubscription.objects.create(
        patient=other, endpoint="https://push.example.net/send/abc", p256dh="x", auth="y"
    )
    _post(patient_client, _subscription())
    assert PushSubscription.objects.get().patient == patient


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"endpoint": "http://push.example.net/x", "keys": {"p256dh": "a", "auth": "b"}},
        _subscription() | {"keys": {"p256dh": "short", "auth": "short"}},
        ["not", "an", "object"],
    ],
)
def test_a_bad_subscription_is_refused_kindly(patient_client, body):
    response = _post(patient_client, body)
    assert response.status_code == 400
    assert "couldn't be set up" in response.json()["message"]
    assert not PushSubscription.objects.exists()


def test_not_json_is_refused_kindly(patient_client):
    response = patient_client.post(URL, "{{", content_type="application/json")
    assert response.status_code == 400


def test_the_settings_page_lists_devices_and_offers_this_one(patient_client, patient):
    PushSubscription.objects.create(
        patient=patient, endpoint="https://p.example/1", p256dh="x", auth="y", label="Firefox"
    )
    page = patient_client.get("/settings/reminders/").content.decode()
    assert "Firefox" in page
    assert "Notify me on this device" in page
    assert "Remind me by" in page


def test_without_vapid_keys_the_page_offers_email_only(patient_client, settings):
    settings.VAPID_PRIVATE_KEY = ""
    page = patient_client.get("/settings/reminders/").content.decode()
    assert "Notify me on this device" not in page
    assert "Remind me by" not in page


def test_the_patient_removes_a_device(patient_client, patient):
    device = PushSubscription.objects.create(
        patient=patient, endpoint="https://p.example/1", p256dh="x", auth="y"
    )
    response = patient_client.post(f"{URL}{device.pk}/remove/")
    assert response.status_code == 302
    assert not PushSubscription.objects.exists()


def test_another_patients_device_is_404(patient_client):
    other = onboarded_patient(email="jo@example.org")
    device = PushSubscription.objects.create(
        patient=other, endpoint="https://p.example/1", p256dh="x", auth="y"
    )
    assert patient_client.post(f"{URL}{device.pk}/remove/").status_code == 404
    assert PushSubscription.objects.count() == 1


def test_a_clinician_cannot_add_a_device(client, clinician):
    client.force_login(clinician)
    assert _post(client, _subscription()).status_code == 404


def test_choosing_push_and_every_30_minutes_is_saved(patient_client, patient):
    response = patient_client.post(
        "/settings/reminders/",
        {
            "reminders_enabled": "on",
            "reminder_time": "22:00",
            "repeat": "every30",
            "channel": "both",
            "travel": "follow",
        },
    )
    assert response.status_code == 302
    saved = patient.reminder_settings
    saved.refresh_from_db()
    assert (saved.repeat, saved.channel, saved.nudge_enabled) == ("every30", "both", False)


def test_a_failed_notification_is_explained_on_the_settings_page(patient_client, patient):
    import datetime as dt

    from django.utils import timezone

    from reminders.models import Reminder

    Reminder.objects.create(
        patient=patient, local_date=dt.date(2026, 1, 15), due_at=timezone.now(),
        channel="push", status="failed", detail="No device to notify.",
    )  # fmt: skip
    page = patient_client.get("/settings/reminders/").content.decode()
    assert "Not shown: No device to notify." in page
    assert "email provider" not in page
