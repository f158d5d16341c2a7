"""Push reminders through a real (local) push service that checks the VAPID signature and
decrypts each payload with the subscription's private key, as a browser would."""

import datetime as dt

import pytest
import time_machine
from django.core import mail

from reminders import push
from reminders.models import PushSubscription, Reminder, ReminderSettings
from reminders.services import reminders_send, reminders_tick
from tests.factories import DoseLogFactory
from titration.models import DoseLog
from titration.selectors import current_plan

from .conftest import patient_due_at, push_device

UTC = dt.UTC
NIGHT = dt.datetime(2026, 1, 15, 21, 30, tzinfo=UTC)


@pytest.fixture
def at_night():
    with time_machine.travel(NIGHT, tick=False) as traveller:
        yield traveller


def _tick_and_send(now):
    result = reminders_tick(now=now)
    retry = reminders_send(reminder_ids=result.enqueued, now=now)
    return result, retry


def test_many_due_patients_get_exactly_one_notification_each(db, at_night, push_service):
    patients = [patient_due_at(NIGHT) for _ in range(200)]
    subs = {push_device(push_service, p): p for p in patients}

    _tick_and_send(NIGHT)
    # A second beat in the same minute and a worker handed the same ids change nothing.
    again = reminders_tick(now=NIGHT)
    reminders_send(reminder_ids=list(Reminder.objects.values_list("pk", flat=True)), now=NIGHT)

    assert again.created == 0
    assert push_service.rejected == []
    assert sorted(sid for sid, _ in push_service.delivered) == sorted(subs)
    assert Reminder.objects.filter(channel="push", status="sent").count() == 200
    assert not Reminder.objects.filter(channel="email").exists()
    assert mail.outbox == []


def test_the_notification_says_evening_dose_with_no_mg_and_has_both_buttons(
    db, at_night, push_service
):
    patient = patient_due_at(NIGHT)
    sub_id = push_device(push_service, patient)

    _tick_and_send(NIGHT)

    [payload] = push_service.payloads_for(sub_id)
    assert payload["title"] == "Your evening reminder"
    assert payload["body"] == "Time for your evening dose."
    text = (payload["title"] + payload["body"]).lower()
    assert not any(word in text for word in ["mg", "ldn", "naltrexone", "1.5"])
    assert "/r/" in payload["take"] and payload["take"].endswith("/push/")
    assert payload["snooze"].endswith("/push/")
    assert payload["tag"] == "dose-2026-01-15"


def test_a_device_the_push_service_calls_gone_is_removed(db, at_night, push_service):
    patient = patient_due_at(NIGHT)
    sub_id = push_device(push_service, patient)
    push_service.gone.add(sub_id)

    _tick_and_send(NIGHT)

    assert not PushSubscription.objects.exists()
    row = Reminder.objects.get()
    assert row.status == Reminder.Status.FAILED
    assert "gone (410)" in row.detail


def test_404_removes_the_device_too_and_the_other_device_still_gets_it(db, at_night, push_service):
    patient = patient_due_at(NIGHT)
    lost = push_device(push_service, patient)
    kept = push_device(push_service, patient)
    push_service.replies[lost].append(404)

    _tick_and_send(NIGHT)

    assert PushSubscription.objects.count() == 1
    assert len(push_service.payloads_for(kept)) == 1
    assert Reminder.objects.get().status == Reminder.Status.SENT


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_busy_push_service_is_tried_again_with_back_off_and_delivers_once(
    db, at_night, push_service, settings, status
):
    settings.REMINDER_RETRY_BASE_SECONDS = 30
    patient = patient_due_at(NIGHT)
    sub_id = push_device(push_service, patient)
    push_service.replies[sub_id].extend([status, status])

    _, retry = _tick_and_send(NIGHT)
    assert retry.delay_seconds == 30
    row = Reminder.objects.get()
    assert (row.status, row.attempts) == (Reminder.Status.PENDING, 1)
    assert f"try later ({status})" in row.detail

    retry = reminders_send(reminder_ids=retry.reminder_ids, now=NIGHT + dt.timedelta(seconds=30))
    assert retry.delay_seconds == 60  # doubled

    assert (
        reminders_send(reminder_ids=retry.reminder_ids, now=NIGHT + dt.timedelta(minutes=2)) is None
    )
    assert len(push_service.payloads_for(sub_id)) == 1
    assert Reminder.objects.get().status == Reminder.Status.SENT
    assert PushSubscription.objects.count() == 1


def test_both_channels_make_an_email_row_and_a_push_row(db, at_night, push_service):
    patient = patient_due_at(NIGHT)
    sub_id = push_device(push_service, patient, channel="both")

    _tick_and_send(NIGHT)

    assert sorted(Reminder.objects.values_list("channel", flat=True)) == ["email", "push"]
    assert len(mail.outbox) == 1
    assert len(push_service.payloads_for(sub_id)) == 1


def test_push_without_a_device_falls_back_to_email(db, at_night, push_service):
    patient = patient_due_at(NIGHT)
    ReminderSettings.objects.create(patient=patient, channel="push")

    _tick_and_send(NIGHT)

    assert list(Reminder.objects.values_list("channel", flat=True)) == ["email"]
    assert len(mail.outbox) == 1


def test_no_push_row_without_vapid_keys(db, at_night, push_service, settings):
    patient = patient_due_at(NIGHT)
    push_device(push_service, patient)
    settings.VAPID_PRIVATE_KEY = ""

    _tick_and_send(NIGHT)

    assert list(Reminder.objects.values_list("channel", flat=True)) == ["email"]


def test_a_dose_logged_before_sending_cancels_the_notification(db, at_night, push_service):
    patient = patient_due_at(NIGHT)
    sub_id = push_device(push_service, patient)
    result = reminders_tick(now=NIGHT)
    DoseLogFactory(patient=patient, plan=current_plan(patient), taken_at=NIGHT)

    reminders_send(reminder_ids=result.enqueued, now=NIGHT)

    assert push_service.payloads_for(sub_id) == []
    assert Reminder.objects.get().status == Reminder.Status.CANCELLED


# Repeats ---------------------------------------------------------------------------------


def _minutes(n):
    return NIGHT + dt.timedelta(minutes=n)


def _run_ticks(traveller, until_minutes, *, start=0):
    """Beat from the first reminder to `until_minutes`, sending what it queues. Every 5
    minutes: each tick covers the window since the last, and every reminder here falls due
    on a multiple of 5 minutes, so it is sent at its minute, as with a tick every minute."""
    for minute in range(start, until_minutes + 1, 5):
        now = _minutes(minute)
        traveller.move_to(now)
        _tick_and_send(now)


def test_every_30_minutes_repeats_3_times_then_stops(db, at_night, push_service):
    patient = patient_due_at(NIGHT)
    sub_id = push_device(push_service, patient)
    ReminderSettings.objects.filter(patient=patient).update(repeat="every30", nudge_enabled=False)

    _run_ticks(at_night, 150)

    kinds = list(Reminder.objects.order_by("due_at").values_list("kind", "due_at"))
    assert kinds == [
        ("first", NIGHT),
        ("repeat1", _minutes(30)),
        ("repeat2", _minutes(60)),
        ("repeat3", _minutes(90)),
    ]
    bodies = [p["body"] for p in push_service.payloads_for(sub_id)]
    assert (
        bodies
        == ["Time for your evening dose."] + ["A reminder: your evening dose isn't logged yet."] * 3
    )


def test_repeats_stop_as_soon_as_the_dose_is_logged(db, at_night, push_service):
    patient = patient_due_at(NIGHT)
    sub_id = push_device(push_service, patient)
    ReminderSettings.objects.filter(patient=patient).update(repeat="every30", nudge_enabled=False)

    _run_ticks(at_night, 40)  # the first and one repeat
    DoseLogFactory(patient=patient, plan=current_plan(patient), taken_at=_minutes(40))
    _run_ticks(at_night, 150, start=45)

    assert len(push_service.payloads_for(sub_id)) == 2


def test_once_means_one_notification_and_nudge_means_one_more_at_90_minutes(
    db, at_night, push_service
):
    once = patient_due_at(NIGHT)
    nudged = patient_due_at(NIGHT)
    once_id = push_device(push_service, once)
    nudged_id = push_device(push_service, nudged)
    ReminderSettings.objects.filter(patient=once).update(repeat="once", nudge_enabled=False)

    _run_ticks(at_night, 95)

    assert len(push_service.payloads_for(once_id)) == 1
    assert len(push_service.payloads_for(nudged_id)) == 2
    assert Reminder.objects.get(patient=nudged, kind="nudge").channel == "push"


# "I took it" and "Remind me in 30 minutes" from the notification -------------------------


@pytest.fixture
def delivered(db, at_night, push_service):
    patient = patient_due_at(NIGHT)
    sub_id = push_device(push_service, patient)
    _tick_and_send(NIGHT)
    [payload] = push_service.payloads_for(sub_id)
    return patient, payload


def _path(url):
    return url.removeprefix("http://localhost:8000")


def test_i_took_it_records_the_dose_once_and_confirms(client, delivered):
    patient, payload = delivered

    answer = client.post(_path(payload["take"])).json()
    again = client.post(_path(payload["take"])).json()

    assert answer == {
        "recorded": True,
        "title": "Dose recorded",
        "body": "Taken at 21:30.",
    }
    [log] = DoseLog.objects.filter(patient=patient)
    assert (log.status, log.taken_at, log.source) == ("taken", NIGHT, DoseLog.Source.PUSH)
    assert again["recorded"] is False
    assert DoseLog.objects.count() == 1


def test_a_refused_dose_opens_today_which_says_why(client, delivered):
    patient, payload = delivered
    DoseLogFactory(patient=patient, plan=current_plan(patient), taken_at=NIGHT)

    answer = client.post(_path(payload["take"])).json()

    assert answer["recorded"] is False
    assert DoseLog.objects.count() == 1
    client.force_login(patient)
    page = client.get(answer["url"]).content.decode()
    assert "Your last dose was taken at 21:30 today" in page, page


def test_today_ignores_a_refusal_that_is_not_ours(patient_client):
    page = patient_client.get("/today/?refused=You%20may%20take%20two").content.decode()
    assert "You may take two" not in page


def test_remind_me_in_30_minutes_makes_one_push_snooze(client, delivered, push_service):
    patient, payload = delivered

    answer = client.post(_path(payload["snooze"])).json()
    client.post(_path(payload["snooze"]))

    assert answer["recorded"] is True
    assert "30 minutes" in answer["body"]
    snooze = Reminder.objects.get(kind="snooze1")
    assert (snooze.channel, snooze.due_at) == ("push", NIGHT + dt.timedelta(minutes=30))


def test_opening_the_action_as_a_link_goes_to_the_confirmation_page(client, delivered):
    _, payload = delivered
    response = client.get(_path(payload["take"]))
    assert response.status_code == 302
    assert "/push/" not in response["Location"]


def test_the_notification_text_for_a_morning_patient(db, at_night):
    patient = patient_due_at(NIGHT, dose_time="morning")
    row = Reminder(patient=patient, local_date=NIGHT.date(), kind="nudge", due_at=NIGHT)
    assert push.notification_text(row, patient.profile) == (
        "Your morning reminder",
        "A reminder: your morning dose isn't logged yet.",
    )
