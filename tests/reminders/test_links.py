"""The links in a reminder email: a GET shows a confirmation page, one POST records."""

import base64
import contextlib
import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail, signing

from reminders import tokens
from reminders.models import Reminder
from reminders.services import reminders_send, reminders_tick
from tests.factories import (
    PatientProfileFactory,
    PlanFactory,
    SafetyScreeningFactory,
    UserFactory,
)
from titration.models import DoseLog

from .conftest import patient_due_at

UTC = dt.UTC
NIGHT = dt.datetime(2026, 1, 15, 21, 30, tzinfo=UTC)


@pytest.fixture
def traveller():
    with time_machine.travel(NIGHT, tick=False) as t:
        yield t


@pytest.fixture
def links(db, traveller):
    """The patient's links from a sent reminder email, by label."""
    patient_due_at(NIGHT, email="alex@example.org")
    reminders_send(reminder_ids=reminders_tick(now=NIGHT).enqueued)
    body = mail.outbox[0].body
    found = dict(
        re.findall(
            r"^(I took it|Skip tonight|Remind me again in 30 minutes|Open my diary):\n(\S+)$",
            body,
            re.M,
        )
    )
    found["pause"] = re.search(r"Pause reminders: (\S+)", body).group(1)
    return {label: url.removeprefix("http://localhost:8000") for label, url in found.items()}


def test_opening_i_took_it_records_nothing_and_shows_one_button(client, links):
    response = client.get(links["I took it"])

    assert response.status_code == 200
    assert b"Yes, I took it" in response.content
    assert b"1.5 mg" in response.content
    assert not DoseLog.objects.exists()


def test_confirming_i_took_it_logs_the_dose_from_email(client, links):
    response = client.post(links["I took it"])

    log = DoseLog.objects.get()
    assert (log.status, log.source, log.date) == ("taken", "email", NIGHT.date())
    assert b"Recorded: you took 1.5 mg" in response.content


def test_skip_tonight_logs_a_skip(client, links):
    client.post(links["Skip tonight"])

    assert DoseLog.objects.get().status == "skipped"


def test_a_used_link_shows_a_friendly_page_with_a_login_link(client, links):
    client.post(links["I took it"])

    for response in (client.get(links["Skip tonight"]), client.post(links["I took it"])):
        assert b"already been used" in response.content
        assert b"/accounts/login/" in response.content
    assert DoseLog.objects.count() == 1


def test_an_expired_link_shows_a_friendly_page_and_records_nothing(client, links, traveller):
    traveller.shift(dt.timedelta(hours=24, seconds=1))

    response = client.post(links["I took it"])

    assert response.status_code == 200
    assert b"This link has expired" in response.content
    assert b"/accounts/login/" in response.content
    assert not DoseLog.objects.exists()


def test_a_tampered_link_is_treated_as_expired(client, links):
    response = client.get(links["I took it"][:-3] + "xx/")

    assert b"This link has expired" in response.content


def test_the_link_works_without_logging_in_and_whoever_is_logged_in(client, links, other_patient):
    client.force_login(other_patient)

    client.post(links["I took it"])

    assert DoseLog.objects.get().patient.email == "alex@example.org"


def test_snooze_creates_one_reminder_thirty_minutes_later(client, links):
    assert client.get(links["Remind me again in 30 minutes"]).status_code == 200
    assert Reminder.objects.count() == 1

    response = client.post(links["Remind me again in 30 minutes"])
    client.post(links["Remind me again in 30 minutes"])  # a double click

    snooze = Reminder.objects.get(kind="snooze1")
    assert snooze.due_at == NIGHT + dt.timedelta(minutes=30)
    assert Reminder.objects.count() == 2
    assert b"21:30" not in response.content and b"22:00" in response.content


def test_a_snoozed_reminder_is_sent_when_due_and_can_be_snoozed_once_more(client, links):
    client.post(links["Remind me again in 30 minutes"])
    reminders_send(reminder_ids=reminders_tick(now=NIGHT + dt.timedelta(minutes=30)).enqueued)

    second = mail.outbox[1]
    snooze_url = re.search(r"Remind me again in 30 minutes:\n(\S+)", second.body).group(1)
    client.post(snooze_url.removeprefix("http://localhost:8000"))
    reminders_send(reminder_ids=reminders_tick(now=NIGHT + dt.timedelta(minutes=60)).enqueued)

    assert len(mail.outbox) == 3
    assert "Remind me again in 30 minutes" not in mail.outbox[2].body  # twice a night at most
    kinds = sorted(Reminder.objects.values_list("kind", flat=True))
    assert kinds == ["first", "snooze1", "snooze2"]


def test_pause_link_opens_a_confirmation_page_without_login(client, links):
    response = client.get(links["pause"])

    assert response.status_code == 200
    assert b"Pause reminders?" in response.content
    assert Reminder.objects.get().patient.profile.reminders_enabled


def test_one_click_unsubscribe_post_pauses_reminders(client, links):
    csrf_client = client.__class__(enforce_csrf_checks=True)

    response = csrf_client.post(links["pause"], {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert not Reminder.objects.get().patient.profile.reminders_enabled


def test_paused_patients_get_no_more_reminders(client, links):
    client.post(links["pause"])

    result = reminders_tick(now=NIGHT + dt.timedelta(days=1))

    assert result.created == 0


def test_a_forged_pause_link_does_nothing(client, links):
    response = client.post("/reminders/pause/1:forged/")

    assert b"doesn&#x27;t work" in response.content
    assert Reminder.objects.get().patient.profile.reminders_enabled


def _token(link):
    return link.strip("/").split("/")[-1]


@pytest.mark.parametrize(
    ("label", "action"),
    [
        ("I took it", tokens.Action.TAKEN),
        ("Skip tonight", tokens.Action.SKIPPED),
        ("Remind me again in 30 minutes", tokens.Action.SNOOZE),
        ("pause", None),
    ],
)
def test_a_link_carries_only_the_rows_random_key_and_a_signature(links, label, action):
    row = Reminder.objects.select_related("patient").get()

    parts = _token(links[label]).split(":")

    # key.action, then (action links) the signing time, then the signature.
    expected = row.link_key if action is None else f"{row.link_key}.{action}"
    assert parts[0] == expected
    assert len(parts) == (2 if action is None else 3)
    readable = " ".join(
        [*parts]
        + [
            base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode("latin-1")
            for part in parts
            if re.fullmatch(r"[A-Za-z0-9_-]+", part)
        ]
    )
    for detail in ["2026-01-15", "20260115", "15/01", "1.5 mg", "1.50", row.patient.email]:
        assert detail not in readable
    assert not re.search(rf"(?<![0-9]){row.patient_id}(?![0-9])", parts[0])


def test_a_link_edited_to_another_action_is_treated_as_expired(client, links):
    value, timestamp, signature = _token(links["Skip tonight"]).split(":")
    forged = f"{value.replace('skipped', 'taken')}:{timestamp}:{signature}"

    response = client.post(f"/r/{forged}/")

    assert b"This link has expired" in response.content
    assert not DoseLog.objects.exists()


def test_a_signed_key_that_names_no_reminder_is_not_found(client, links):
    token = tokens.action_token(link_key="n" * 22, action=tokens.Action.TAKEN)

    assert client.get(f"/r/{token}/").status_code == 404
    assert client.post(f"/r/{token}/").status_code == 404


def test_confirming_twice_records_once_and_says_already_used(client, links):
    client.post(links["I took it"])

    response = client.post(links["I took it"])

    assert b"This link has already been used" in response.content
    assert DoseLog.objects.count() == 1
    assert Reminder.objects.get().link_used_at == NIGHT


def test_a_pause_link_from_an_older_email_still_pauses(client, links):
    patient = Reminder.objects.get().patient
    older = signing.Signer(salt=tokens.PATIENT_PAUSE_SALT).sign(str(patient.pk))

    client.post(f"/reminders/pause/{older}/")

    patient.profile.refresh_from_db()
    assert not patient.profile.reminders_enabled


def test_every_link_in_the_email_decodes_to_nothing_about_the_patient_or_the_dose(db, traveller):
    """The tokens are signed, not encrypted, so anyone can decode them: they hold only the
    row's random key, the action and the signing time. The patient's id is made unmistakable
    (six digits) so that finding it would mean something."""
    patient = UserFactory(id=918273, email="alex@example.org")
    wall = NIGHT.astimezone(ZoneInfo("Europe/London"))
    PatientProfileFactory(user=patient, reminder_time=dt.time(wall.hour, wall.minute))
    SafetyScreeningFactory(patient=patient)
    PlanFactory(patient=patient, start_date=NIGHT.date())
    reminders_send(reminder_ids=reminders_tick(now=NIGHT).enqueued)
    [message] = mail.outbox
    row = Reminder.objects.get(patient=patient)
    assert "1.5 mg" in message.body  # the dose is in the email's words, not in its links

    tokens_seen = [
        url.rstrip("/").split("/")[-1]
        for url in re.findall(r"https?://\S+", message.body)
        if "/r/" in url or "pause" in url
    ]
    assert len(tokens_seen) >= 3
    for token in tokens_seen:
        readable = [token]
        for part in re.split(r"[:.]", token):
            padded = part + "=" * (-len(part) % 4)
            with contextlib.suppress(ValueError):
                readable.append(base64.urlsafe_b64decode(padded).decode("latin-1"))
        with contextlib.suppress(signing.BadSignature):
            readable.append(signing.TimestampSigner(salt=tokens.ACTION_SALT).unsign(token))
        with contextlib.suppress(signing.BadSignature):
            readable.append(signing.Signer(salt=tokens.PAUSE_SALT).unsign(token))
        text = " ".join(readable)
        assert row.link_key in text
        for detail in ["918273", "1.5", "1,5", "alex", "2026-01-15", "patient"]:
            assert detail not in text.replace(row.link_key, ""), (detail, token)
