"""The reminder email: a Django message with text and HTML parts rendered from the templates,
the row's Message-ID, one-click unsubscribe, and links that name only the row; and what the
SMTP server receives."""

import base64
import datetime as dt
import email.utils
import itertools
import re
from decimal import Decimal

import pytest
import time_machine
from django.core import signing

from accounts.models import PatientProfile, User
from reminders import emails, tokens
from reminders.models import Reminder
from reminders.services import reminders_send, reminders_tick

from .conftest import patient_due_at

UTC = dt.UTC
NIGHT = dt.datetime(2026, 1, 15, 21, 30, tzinfo=UTC)


def unsaved_reminder(*, kind="first", first_name="Alex", morning=False, liquid=False, **user):
    patient = User(pk=7, email=user.get("email", "alex@example.org"), first_name=first_name)
    patient.profile = PatientProfile(
        user=patient,
        dose_time=PatientProfile.DoseTime.MORNING if morning else PatientProfile.DoseTime.BEDTIME,
        formulation="liquid" if liquid else "capsule",
        concentration_mg_per_ml=Decimal("1.00") if liquid else None,
    )
    return Reminder(pk=11, patient=patient, local_date=NIGHT.date(), kind=kind, due_at=NIGHT)


def links_of(message) -> list[str]:
    return re.findall(r"https?://\S+", message.body)


@pytest.mark.parametrize(
    ("kind", "morning", "liquid", "first_name"),
    list(itertools.product(["first", "nudge", "snooze1", "snooze2"], [0, 1], [0, 1], ["", "Zoë"])),
)
def test_every_kind_of_reminder_says_the_dose_in_both_parts(kind, morning, liquid, first_name):
    reminder = unsaved_reminder(kind=kind, first_name=first_name, morning=morning, liquid=liquid)

    message = emails.reminder_email(reminder, Decimal("1.5"))

    html = message.alternatives[0].content
    assert message.alternatives[0].mimetype == "text/html"
    when = "this morning" if morning else "tonight"
    assert f"Your dose {when}: 1.5 mg" in message.body
    assert f"Your dose {when}:</p>" in html and "<strong>1.5 mg</strong>" in html
    assert ("(1.5 mL)" in message.body) == bool(liquid)
    assert f"Hello {first_name or 'there'}," in message.body
    snoozable = kind != "snooze2"
    assert ("Remind me again in 30 minutes" in message.body) == snoozable
    assert ("Remind me again in 30 minutes" in html) == snoozable


def test_the_subject_says_no_more_than_which_reminder_it_is():
    evening = emails.reminder_email(unsaved_reminder(), Decimal("4.5"))
    morning = emails.reminder_email(unsaved_reminder(morning=True), Decimal("4.5"))

    assert (evening.subject, morning.subject) == ("Your evening reminder", "Your morning reminder")


def test_a_name_is_escaped_in_the_html_and_kept_as_is_in_the_text():
    reminder = unsaved_reminder(first_name="<b>Al & 'Ex'</b>")

    message = emails.reminder_email(reminder, Decimal("1.5"))

    assert "Hello <b>Al & 'Ex'</b>," in message.body
    assert "Hello &lt;b&gt;Al &amp; &#x27;Ex&#x27;&lt;/b&gt;," in message.alternatives[0].content


def test_it_has_the_rows_message_id_and_one_click_unsubscribe_headers():
    reminder = unsaved_reminder()

    message = emails.reminder_email(reminder, Decimal("1.5"))
    parsed = message.message()

    assert parsed["Message-ID"] == "<reminder-11-20260115@localhost>"
    assert parsed["List-Unsubscribe"] == f"<{emails.pause_url(reminder)}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["From"] == "Daily Tracker <no-reply@localhost>"
    assert parsed.get_content_type() == "multipart/alternative"


def test_each_message_is_dated_when_it_is_written():
    reminder = unsaved_reminder()

    with time_machine.travel(NIGHT, tick=False):
        first = emails.reminder_email(reminder, Decimal("1.5")).message()
    with time_machine.travel(NIGHT + dt.timedelta(seconds=40), tick=False):
        second = emails.reminder_email(reminder, Decimal("1.5")).message()

    assert email.utils.parsedate_to_datetime(first["Date"]) == NIGHT
    assert email.utils.parsedate_to_datetime(second["Date"]) == NIGHT + dt.timedelta(seconds=40)


def _readable_parts(token: str) -> str:
    """Every part of a token as text, base64 parts decoded (padding restored)."""
    parts = re.split(r"[:.]", token)
    decoded = []
    for part in parts:
        decoded.append(part)
        try:
            raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except ValueError:
            continue
        decoded.append(raw.decode("latin-1"))
    return " ".join(decoded)


def test_the_links_carry_no_patient_id_date_or_dose():
    reminder = unsaved_reminder()
    reminder.patient.pk = 4827
    reminder.link_key = "K" * 22  # fixed: a random key could contain a digit run by chance

    message = emails.reminder_email(reminder, Decimal("4.5"))

    signed = [link for link in links_of(message) if "/diary/" not in link]
    assert len(signed) == 5  # took, skip, snooze, pause, settings
    for link in signed:
        text = _readable_parts(link)
        for secret in ["4827", "2026", "20260115", "01-15", "4.5", "4.50"]:
            assert secret not in text, (secret, link)


def test_the_links_name_the_row_by_its_key_for_djangos_signing_to_read_back():
    reminder = unsaved_reminder()

    message = emails.reminder_email(reminder, Decimal("1.5"))
    took = message.body.split("I took it:\n")[1].split("\n")[0]
    pause = emails.pause_url(reminder)

    claim = tokens.action_claim(took.split("/r/")[1].rstrip("/"))
    assert claim == tokens.ActionClaim(reminder.link_key, tokens.Action.TAKEN)
    pause_claim = tokens.pause_claim(pause.split("/pause/")[1].rstrip("/"))
    assert pause_claim == tokens.PauseClaim(link_key=reminder.link_key)


def test_every_reminder_row_gets_its_own_random_key():
    keys = {Reminder().link_key for _ in range(100)}

    assert len(keys) == 100
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", key) for key in keys)


@pytest.mark.parametrize("action", tokens.Action.ALL)
def test_a_token_for_one_action_cannot_be_edited_into_another(action):
    token = tokens.action_token(link_key="k" * 22, action=action)
    value, timestamp, signature = token.split(":")
    other = next(a for a in tokens.Action.ALL if a != action)

    with pytest.raises(tokens.BadLink):
        tokens.action_claim(f"{'k' * 22}.{other}:{timestamp}:{signature}")
    with pytest.raises(tokens.BadLink):
        tokens.action_claim(f"{'j' * 22}.{action}:{timestamp}:{signature}")
    with pytest.raises(tokens.BadLink):
        tokens.action_claim(token[:-2] + ("xx" if not token.endswith("xx") else "yy"))
    assert tokens.action_claim(token).action == action


def test_a_pause_token_does_not_work_as_an_action_and_the_reverse():
    pause = tokens.pause_token(link_key="k" * 22)
    action = tokens.action_token(link_key="k" * 22, action=tokens.Action.TAKEN)

    with pytest.raises(tokens.BadLink):
        tokens.action_claim(pause)
    with pytest.raises(tokens.BadLink):
        tokens.pause_claim(action)


def test_links_signed_before_a_key_rotation_still_work(settings):
    settings.SECRET_KEY = "the-old-secret-key-" + "x" * 40
    token = tokens.action_token(link_key="k" * 22, action="skipped")
    pause = tokens.pause_token(link_key="k" * 22)

    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "the-new-secret-key-" + "y" * 40

    assert tokens.action_claim(token).action == "skipped"
    assert tokens.pause_claim(pause).link_key == "k" * 22
    with pytest.raises(tokens.BadLink):
        tokens.action_claim(token[:-2] + "xx")


def test_a_pause_link_from_an_older_email_still_names_its_patient():
    older = signing.Signer(salt=tokens.PATIENT_PAUSE_SALT).sign("7")

    assert tokens.pause_claim(older) == tokens.PauseClaim(patient_id=7)


@pytest.fixture
def at_night():
    with time_machine.travel(NIGHT, tick=False) as traveller:
        yield traveller


def test_what_the_smtp_server_receives_is_the_composed_message(db, at_night, smtp_mailer):
    patient_due_at(NIGHT, email="zoe@example.org", first_name="Zoë")
    [row_id] = reminders_tick(now=NIGHT).enqueued

    reminders_send(reminder_ids=[row_id])

    [received] = smtp_mailer.messages
    row = Reminder.objects.get()
    assert received.defects == []
    assert received["To"] == "zoe@example.org"
    assert received["Subject"] == "Your evening reminder"
    assert received["Message-ID"] == row.message_id
    assert email.utils.parsedate_to_datetime(received["Date"]) == NIGHT
    assert received["List-Unsubscribe"] == f"<{emails.pause_url(row)}>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert "Hello Zoë," in text and "1.5 mg" in text
    assert "Hello Zoë," in html and "<strong>1.5 mg</strong>" in html


def test_each_message_of_a_batch_has_its_own_date_header(db, at_night, smtp_mailer):
    for n in range(3):
        patient_due_at(NIGHT, email=f"p{n}@example.org")
    ids = reminders_tick(now=NIGHT).enqueued
    dates = iter([NIGHT + dt.timedelta(seconds=n) for n in range(3)])
    at_night.move_to(next(dates))

    smtp_mailer.before_data = lambda envelope: at_night.move_to(next(dates, NIGHT))
    reminders_send(reminder_ids=ids)

    received = [email.utils.parsedate_to_datetime(m["Date"]) for m in smtp_mailer.messages]
    assert len(received) == 3
    assert len(set(received)) == 3


def test_an_internationalised_domain_goes_through_djangos_message(db, at_night, smtp_mailer):
    patient_due_at(NIGHT, email="alex@exämple.org")

    reminders_send(reminder_ids=reminders_tick(now=NIGHT).enqueued)

    assert smtp_mailer.to() == ["alex@xn--exmple-cua.org"]
    assert Reminder.objects.get().status == Reminder.Status.SENT


def test_the_default_sender_names_neither_the_medicine_nor_the_condition(settings):
    # Shown on lock screens and in shared inboxes (the settings default; EMAIL_URL tests
    # do not override it).
    name, _ = email.utils.parseaddr(settings.DEFAULT_FROM_EMAIL)
    subject_prefix = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
    for words in (name, subject_prefix):
        assert not re.search(r"ldn|naltrexone|fibro|pain|opioid", words, re.IGNORECASE), words
    assert name == "Daily Tracker"
