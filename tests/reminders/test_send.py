"""The worker's plain function: claim, check, send over one SMTP connection, record."""

import datetime as dt
import re
import threading
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import connection

from reminders.models import Reminder
from reminders.services import reminders_send, reminders_tick
from tests.factories import DoseLogFactory
from tests.services import require_postgresql
from titration.models import DoseLog, Plan

from .conftest import patient_due_at

UTC = dt.UTC
NIGHT = dt.datetime(2026, 1, 15, 21, 30, tzinfo=UTC)


@pytest.fixture
def at_night():
    with time_machine.travel(NIGHT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def due_patient(db, at_night):
    return patient_due_at(NIGHT, email="alex@example.org", first_name="Alex")


@pytest.fixture
def due_row(due_patient):
    reminders_tick(now=NIGHT)
    return Reminder.objects.get()


def test_it_sends_one_email_with_the_name_dose_and_three_links(due_row):
    reminders_send(reminder_ids=[due_row.pk])

    [message] = mail.outbox
    assert message.subject == "Your evening reminder"
    assert message.to == ["alex@example.org"]
    assert "Hello Alex" in message.body
    assert "1.5 mg" in message.body
    html = message.alternatives[0].content
    for text in ["I took it", "Skip tonight", "Open my diary", "Pause reminders", "1.5 mg"]:
        assert text in html
    assert len(re.findall(r"http://localhost:8000/r/", message.body)) == 3  # took, skip, snooze


def test_the_subject_carries_no_health_detail(due_row):
    reminders_send(reminder_ids=[due_row.pk])

    subject = mail.outbox[0].subject.lower()
    assert not any(word in subject for word in ["mg", "ldn", "naltrexone", "dose", "1.5"])


def test_a_liquid_dose_shows_millilitres(due_patient, due_row):
    due_patient.profile.formulation = "liquid"
    due_patient.profile.concentration_mg_per_ml = Decimal("1.00")
    due_patient.profile.save()

    reminders_send(reminder_ids=[due_row.pk])

    assert "1.5 mg (1.5 mL)" in mail.outbox[0].body


def test_a_morning_patient_gets_a_morning_subject(due_patient, due_row):
    due_patient.profile.dose_time = "morning"
    due_patient.profile.save()

    reminders_send(reminder_ids=[due_row.pk])

    assert mail.outbox[0].subject == "Your morning reminder"


def test_it_has_one_click_unsubscribe_and_a_stable_message_id(due_row):
    reminders_send(reminder_ids=[due_row.pk])

    headers = mail.outbox[0].extra_headers
    assert re.fullmatch(
        r"<http://localhost:8000/reminders/pause/[^>]+/>", headers["List-Unsubscribe"]
    )
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["Message-ID"] == due_row.message_id
    assert due_row.message_id == f"<reminder-{due_row.pk}-20260115@localhost>"


def test_it_records_the_row_as_sent_and_a_second_call_sends_nothing(due_row):
    reminders_send(reminder_ids=[due_row.pk])
    reminders_send(reminder_ids=[due_row.pk])

    due_row.refresh_from_db()
    assert (due_row.status, due_row.attempts, due_row.sent_at) == ("sent", 1, NIGHT)
    assert len(mail.outbox) == 1


def test_a_dose_logged_after_the_row_was_made_cancels_it(due_patient, due_row):
    DoseLogFactory(plan=Plan.objects.get(patient=due_patient), date=NIGHT.date())

    reminders_send(reminder_ids=[due_row.pk])

    due_row.refresh_from_db()
    assert due_row.status == Reminder.Status.CANCELLED
    assert mail.outbox == []


def test_a_row_reaching_a_worker_over_two_hours_late_is_not_sent(due_row):
    reminders_send(reminder_ids=[due_row.pk], now=NIGHT + dt.timedelta(hours=2, minutes=1))

    due_row.refresh_from_db()
    assert due_row.status == Reminder.Status.MISSED_SEND
    assert mail.outbox == []


def test_many_reminders_go_over_one_smtp_connection(db, at_night, smtp_mailer):
    for n in range(5):
        patient_due_at(NIGHT, email=f"p{n}@example.org")
    ids = reminders_tick(now=NIGHT).enqueued

    reminders_send(reminder_ids=ids)

    assert sorted(smtp_mailer.to()) == [f"p{n}@example.org" for n in range(5)]
    assert len(smtp_mailer.sessions) == 1


def test_a_temporary_refusal_leaves_the_row_for_a_retry_with_backoff(due_row, smtp_mailer):
    smtp_mailer.replies.append("451 4.3.0 Try again later")

    retry = reminders_send(reminder_ids=[due_row.pk])

    due_row.refresh_from_db()
    assert (due_row.status, due_row.attempts) == ("pending", 1)
    assert "451" in due_row.detail
    assert retry.reminder_ids == [due_row.pk]
    assert retry.delay_seconds == 30


def test_a_permanent_refusal_fails_the_row_without_retry(due_row, smtp_mailer):
    smtp_mailer.replies.append("550 5.1.1 No such user")

    retry = reminders_send(reminder_ids=[due_row.pk])

    due_row.refresh_from_db()
    assert (due_row.status, due_row.attempts) == ("failed", 1)
    assert "550" in due_row.detail
    assert retry is None


def test_an_unreachable_mail_server_is_a_temporary_failure(due_row, settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }

    retry = reminders_send(reminder_ids=[due_row.pk])

    due_row.refresh_from_db()
    assert due_row.status == "pending"
    assert retry.reminder_ids == [due_row.pk]


def test_it_gives_up_after_the_last_attempt(due_row, smtp_mailer, settings):
    settings.REMINDER_MAX_ATTEMPTS = 2
    smtp_mailer.replies.extend(["451 later"] * 2)

    reminders_send(reminder_ids=[due_row.pk])
    retry = reminders_send(reminder_ids=[due_row.pk])

    due_row.refresh_from_db()
    assert (due_row.status, due_row.attempts, retry) == ("failed", 2, None)


@pytest.fixture
def three_due(db, at_night):
    for n in range(3):
        patient_due_at(NIGHT, email=f"p{n}@example.org")
    return reminders_tick(now=NIGHT).enqueued


def statuses():
    return dict(Reminder.objects.values_list("patient__email", "status"))


def test_a_refused_recipient_fails_only_its_own_row(three_due, smtp_mailer):
    smtp_mailer.refuse_recipients["p1@example.org"] = "550 5.1.1 No such user"

    retry = reminders_send(reminder_ids=three_due)

    assert statuses() == {
        "p0@example.org": "sent",
        "p1@example.org": "failed",
        "p2@example.org": "sent",
    }
    assert "550" in Reminder.objects.get(patient__email="p1@example.org").detail
    assert retry is None
    assert len(smtp_mailer.sessions) == 1


def test_a_recipient_told_to_try_later_is_retried_alone(three_due, smtp_mailer):
    smtp_mailer.refuse_recipients["p1@example.org"] = "450 4.2.1 Mailbox busy"

    retry = reminders_send(reminder_ids=three_due)

    assert statuses() == {
        "p0@example.org": "sent",
        "p1@example.org": "pending",
        "p2@example.org": "sent",
    }
    assert retry.reminder_ids == [Reminder.objects.get(patient__email="p1@example.org").pk]


def test_a_lost_connection_leaves_that_message_and_the_rest_for_a_retry(three_due, smtp_mailer):
    # 421: the server closes the connection after answering the second message's DATA.
    smtp_mailer.before_data = lambda envelope: (
        "421 4.3.2 Shutting down" if len(smtp_mailer.messages) == 1 else None
    )

    retry = reminders_send(reminder_ids=three_due)

    assert statuses() == {
        "p0@example.org": "sent",
        "p1@example.org": "pending",
        "p2@example.org": "pending",
    }
    assert sorted(retry.reminder_ids) == sorted(three_due[1:])
    assert smtp_mailer.to() == ["p0@example.org"]


def test_each_row_is_committed_before_the_next_message_goes(
    transactional_db, at_night, smtp_mailer
):
    require_postgresql()  # the SMTP server's thread reads on a connection of its own
    for n in range(3):
        patient_due_at(NIGHT, email=f"p{n}@example.org")
    ids = reminders_tick(now=NIGHT).enqueued
    seen = []

    def count_sent():
        try:
            seen.append(Reminder.objects.filter(status="sent").count())
        finally:
            connection.close()

    def sent_so_far(envelope):
        # The server's hooks run in an event loop, where Django refuses ORM calls.
        reader = threading.Thread(target=count_sent)
        reader.start()
        reader.join()

    smtp_mailer.before_data = sent_so_far

    reminders_send(reminder_ids=ids)

    assert seen == [0, 1, 2]


# The spacing rule at send time (DOMAIN.md, dose safety) ---------------------------------

# Last night's dose taken late in London (11:00 UTC), then a flight to Kolkata: tonight's
# 21:30 there is 16:00 UTC, 5 hours later. The reminder waits until 17:00 UTC.
KOLKATA_EVENING = dt.datetime(2026, 1, 15, 16, 0, tzinfo=UTC)


def _traveller(db):
    patient = patient_due_at(
        KOLKATA_EVENING, time_zone="Asia/Kolkata", start_date=dt.date(2026, 1, 14)
    )
    DoseLogFactory(
        plan=patient.plans.get(),
        date=dt.date(2026, 1, 14),
        taken_at=dt.datetime(2026, 1, 15, 11, 0, tzinfo=UTC),
    )
    return patient


def test_a_reminder_the_spacing_rule_refuses_waits_and_goes_when_the_dose_may_be_taken(db):
    patient = _traveller(db)
    with time_machine.travel(KOLKATA_EVENING, tick=False):
        reminders_tick(now=KOLKATA_EVENING)
        row = Reminder.objects.get(patient=patient)
        reminders_send(reminder_ids=[row.pk], now=KOLKATA_EVENING)
    row.refresh_from_db()
    assert mail.outbox == []
    assert row.status == Reminder.Status.PENDING
    assert row.lease_until == dt.datetime(2026, 1, 15, 17, 0, tzinfo=UTC)
    assert "6 hours after the last" in row.detail

    early = KOLKATA_EVENING + dt.timedelta(minutes=30)
    with time_machine.travel(early, tick=False):
        assert row.pk not in reminders_tick(now=early).enqueued

    later = dt.datetime(2026, 1, 15, 17, 1, tzinfo=UTC)
    with time_machine.travel(later, tick=False):
        assert row.pk in reminders_tick(now=later).enqueued
        reminders_send(reminder_ids=[row.pk], now=later)
    row.refresh_from_db()
    assert row.status == Reminder.Status.SENT
    assert row.attempts == 1
    [message] = mail.outbox
    assert "1.5 mg" in message.body


def test_a_reminder_that_could_only_go_more_than_2_hours_late_is_not_sent(db):
    patient = _traveller(db)
    DoseLog.objects.filter(patient=patient).update(
        taken_at=dt.datetime(2026, 1, 15, 15, 0, tzinfo=UTC)  # allowed only from 21:00 UTC
    )
    with time_machine.travel(KOLKATA_EVENING, tick=False):
        reminders_tick(now=KOLKATA_EVENING)
        row = Reminder.objects.get(patient=patient)
        reminders_send(reminder_ids=[row.pk], now=KOLKATA_EVENING)
    row.refresh_from_db()
    assert mail.outbox == []
    assert row.status == Reminder.Status.CANCELLED
    assert "within 2 hours" in row.detail
