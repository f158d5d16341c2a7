"""/settings/reminders/: the patient's reminder choices and the last reminder's fate."""

import datetime as dt

import pytest

from reminders.models import Reminder, ReminderSettings

URL = "/settings/reminders/"


def _post(client, **overrides):
    data = {
        "reminders_enabled": "on",
        "repeat": "nudge",
        "travel": "follow",
        "home_time_zone": "",
    } | overrides
    return client.post(URL, {k: v for k, v in data.items() if v is not None})


def test_the_patient_sees_their_settings_and_no_reminder_yet(patient_client):
    response = patient_client.get(URL)

    assert response.status_code == 200
    assert b"No reminder has been sent yet" in response.content
    assert b"Follow where I am" in response.content


def test_the_patient_sees_when_the_last_reminder_was_sent_and_delivered(patient_client, patient):
    Reminder.objects.create(
        patient=patient,
        local_date=dt.date(2026, 1, 15),
        due_at=dt.datetime(2026, 1, 15, 21, 30, tzinfo=dt.UTC),
        sent_at=dt.datetime(2026, 1, 15, 21, 30, 4, tzinfo=dt.UTC),
        status=Reminder.Status.SENT,
    )

    response = patient_client.get(URL)

    assert b"Thursday 15 January, 21:30" in response.content
    assert b"Delivered to your email provider" in response.content


def test_a_refused_reminder_is_shown_as_not_delivered(patient_client, patient):
    Reminder.objects.create(
        patient=patient,
        local_date=dt.date(2026, 1, 15),
        due_at=dt.datetime(2026, 1, 15, 21, 30, tzinfo=dt.UTC),
        status=Reminder.Status.FAILED,
        detail="Refused by the mail server (550).",
    )

    response = patient_client.get(URL)

    assert b"Not delivered: your email provider refused it" in response.content


def test_saving_changes_the_nudge_and_travel_but_not_the_dose_time(patient_client, patient):
    before = patient.profile.reminder_time
    response = _post(patient_client, repeat="once", travel="home", reminder_time="22:15")

    assert response.status_code == 302
    patient.profile.refresh_from_db()
    # The dose time is the profile's, changed there through the dose decision.
    assert patient.profile.reminder_time == before
    saved = ReminderSettings.objects.get(patient=patient)
    assert (saved.nudge_enabled, saved.travel, saved.home_time_zone) == (
        False,
        "home",
        "Europe/London",
    )


def test_switching_reminders_off_cancels_what_is_waiting(patient_client, patient):
    row = Reminder.objects.create(
        patient=patient,
        local_date=dt.date(2026, 1, 15),
        due_at=dt.datetime(2026, 1, 15, 21, 30, tzinfo=dt.UTC),
    )

    _post(patient_client, reminders_enabled=None)

    patient.profile.refresh_from_db()
    row.refresh_from_db()
    assert not patient.profile.reminders_enabled
    assert row.status == Reminder.Status.CANCELLED


def test_the_page_names_the_dose_time_and_links_the_profile(patient_client):
    body = patient_client.get(URL).content.decode()

    assert "Your reminder comes at your dose time" in body
    assert body.count('href="/settings/profile/"') == 2  # the time, and travel's help text


def test_an_unknown_home_time_zone_is_refused(patient_client):
    response = _post(patient_client, travel="home", home_time_zone="Mars/Olympus")

    assert b"We don&#x27;t recognise that time zone" in response.content


@pytest.mark.parametrize("persona", ["clinician", "other_clinician"])
def test_a_clinician_never_sees_a_patients_reminder_page(client, persona, request):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(URL)

    # A 404 once past the clinicians' own gate (which may first send them to set up 2FA).
    assert response.status_code in (302, 404)
    assert b"Your last reminder" not in response.content
    if response.status_code == 302:
        assert response["Location"] != URL


def test_a_stranger_is_sent_to_log_in(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_each_patient_sees_only_their_own_last_reminder(client, patient, other_patient):
    Reminder.objects.create(
        patient=patient,
        local_date=dt.date(2026, 1, 15),
        due_at=dt.datetime(2026, 1, 15, 21, 30, tzinfo=dt.UTC),
        status=Reminder.Status.FAILED,
    )
    client.force_login(other_patient)

    response = client.get(URL)

    assert b"No reminder has been sent yet" in response.content


def test_a_morning_patient_sees_their_morning_time_not_bedtime(patient_client, patient):
    # A morning patient who never chose a time has their reminder at the morning default;
    # the page must not say bedtime.
    profile = patient.profile
    profile.dose_time, profile.reminder_time = "morning", None
    profile.save(update_fields=["dose_time", "reminder_time"])

    body = patient_client.get(URL).content.decode()

    assert f"your dose time, <strong>{profile.DEFAULT_MORNING:%H:%M}</strong>" in body
