"""The reminder email as written on the wire: the pre-rendered skeletons say exactly what the
templates say, and the bytes the worker writes to the SMTP connection are a well-formed
message a mail client reads back correctly."""

import datetime as dt
import email
import email.policy
import itertools
from decimal import Decimal

import pytest
import time_machine
from django.template.loader import render_to_string

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


def template_context(message: emails.ReminderEmail, reminder, *, morning, liquid):
    """What the template engine would be given for this one message, links included."""
    urls = [line for line in message.text.split("\r\n") if line.startswith("http")]
    return {
        "first_name": reminder.patient.first_name,
        "morning": morning,
        "dose": "1.5",
        "dose_ml": Decimal("1.5") if liquid else None,
        "kind": reminder.kind,
        "taken_url": urls[0],
        "skip_url": urls[1],
        "snooze_url": urls[2] if reminder.next_snooze_kind() else "",
        "diary_url": urls[-1],
        "pause_url": message.headers["List-Unsubscribe"].strip("<>"),
        "settings_url": "http://localhost:8000/settings/reminders/",
    }


@pytest.mark.parametrize(
    ("kind", "morning", "liquid", "first_name"),
    list(itertools.product(["first", "nudge", "snooze1", "snooze2"], [0, 1], [0, 1], ["", "Zoë"])),
)
def test_every_shape_says_exactly_what_the_templates_say(kind, morning, liquid, first_name):
    reminder = unsaved_reminder(kind=kind, first_name=first_name, morning=morning, liquid=liquid)

    message = emails.Composer().compose(reminder, Decimal("1.5"))

    context = template_context(message, reminder, morning=morning, liquid=liquid)
    for template, rendered in [("txt", message.text), ("html", message.html)]:
        expected = render_to_string(f"reminders/email/reminder.{template}", context)
        assert rendered == expected.replace("\n", "\r\n")


def test_a_name_is_escaped_in_the_html_and_kept_as_is_in_the_text():
    reminder = unsaved_reminder(first_name="<b>Al & 'Ex'</b>")

    message = emails.Composer().compose(reminder, Decimal("1.5"))

    assert "Hello <b>Al & 'Ex'</b>," in message.text
    assert "Hello &lt;b&gt;Al &amp; &#x27;Ex&#x27;&lt;/b&gt;," in message.html


def test_the_bytes_are_a_well_formed_message_with_both_parts_and_every_header():
    reminder = unsaved_reminder(first_name="Zoë", liquid=True)

    message = emails.Composer().compose(reminder, Decimal("1.5"))
    parsed = email.message_from_bytes(message.raw, policy=email.policy.default)

    assert parsed.defects == []
    assert parsed["Subject"] == "Your evening reminder"
    assert parsed["From"] == "LDN Tracker <no-reply@localhost>"
    assert parsed["To"] == "alex@example.org"
    assert parsed["Message-ID"] == "<reminder-11-20260115@localhost>"
    assert parsed["List-Unsubscribe"] == message.headers["List-Unsubscribe"]
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Date"]
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert text.replace("\r\n", "\n") == message.text.replace("\r\n", "\n")
    assert html.replace("\r\n", "\n") == message.html.replace("\r\n", "\n")
    assert "Hello Zoë," in text and "1.5 mg (1.5 mL)" in text
    assert all(len(line) <= 78 for line in message.raw.split(b"\r\n")[12:])


def test_a_sender_with_a_non_ascii_name_is_encoded_once(settings):
    settings.DEFAULT_FROM_EMAIL = "Zoë's Clinic <no-reply@example.org>"

    message = emails.Composer().compose(unsaved_reminder(), Decimal("1.5"))
    parsed = email.message_from_bytes(message.raw, policy=email.policy.default)

    assert message.raw.isascii()
    assert parsed["From"].addresses[0].display_name == "Zoë's Clinic"


def test_an_address_only_the_email_package_can_write_has_no_raw_bytes():
    reminder = unsaved_reminder(email="alex@exämple.org")

    message = emails.Composer().compose(reminder, Decimal("1.5"))

    assert message.raw is None
    assert message.as_email_message().to == ["alex@exämple.org"]


def test_the_links_carry_tokens_django_signing_reads_back():
    message = emails.Composer().compose(unsaved_reminder(), Decimal("1.5"))
    took = message.text.split("I took it:\r\n")[1].split("\r\n")[0]
    pause = message.headers["List-Unsubscribe"].strip("<>")

    claim = tokens.action_claim(took.split("/r/")[1].rstrip("/"))

    assert claim == tokens.ActionClaim(11, 7, NIGHT.date(), Decimal("1.5"), tokens.Action.TAKEN)
    assert tokens.pause_patient_id(pause.split("/pause/")[1].rstrip("/")) == 7


def test_links_signed_before_a_key_rotation_still_work(settings):
    settings.SECRET_KEY = "the-old-secret-key-" + "x" * 40
    token = tokens.action_token(
        reminder_id=1, patient_id=2, day=NIGHT.date(), dose_mg=Decimal("3"), action="skipped"
    )
    pause = tokens.pause_token(patient_id=2)

    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "the-new-secret-key-" + "y" * 40

    assert tokens.action_claim(token).action == "skipped"
    assert tokens.pause_patient_id(pause) == 2
    with pytest.raises(tokens.BadLink):
        tokens.action_claim(token[:-2] + "xx")


@pytest.fixture
def at_night():
    with time_machine.travel(NIGHT, tick=False) as traveller:
        yield traveller


def test_what_the_smtp_server_receives_is_the_composed_message(db, at_night, smtp_mailer):
    patient = patient_due_at(NIGHT, email="zoe@example.org", first_name="Zoë")
    [row_id] = reminders_tick(now=NIGHT).enqueued

    reminders_send(reminder_ids=[row_id])

    [received] = smtp_mailer.messages
    assert received["To"] == "zoe@example.org"
    assert received["Message-ID"] == Reminder.objects.get().message_id
    assert "Hello Zoë," in received.get_body(("plain",)).get_content()
    assert f"/reminders/pause/{patient.pk}:" in received["List-Unsubscribe"]


def test_an_internationalised_domain_goes_through_djangos_message(db, at_night, smtp_mailer):
    patient_due_at(NIGHT, email="alex@exämple.org")

    reminders_send(reminder_ids=reminders_tick(now=NIGHT).enqueued)

    assert smtp_mailer.to() == ["alex@xn--exmple-cua.org"]
    assert Reminder.objects.get().status == Reminder.Status.SENT
