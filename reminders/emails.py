"""The reminder email: what it says, its links and its headers. Building only; sending is
in services.py."""

from decimal import Decimal

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import PatientProfile
from ldn_tracker.site import absolute_url
from titration.selectors import dose_ml

from . import tokens
from .models import Reminder


def subject_for(profile: PatientProfile) -> str:
    # No health detail in a subject: it shows on lock screens and in shared inboxes.
    if profile.dose_time == PatientProfile.DoseTime.MORNING:
        return "Your morning reminder"
    return "Your evening reminder"


def action_url(reminder: Reminder, action: str) -> str:
    token = tokens.action_token(link_key=reminder.link_key, action=action)
    return absolute_url(reverse("reminder_action", args=[token]))


def pause_url(reminder: Reminder) -> str:
    token = tokens.pause_token(link_key=reminder.link_key)
    return absolute_url(reverse("reminders_pause", args=[token]))


def reminder_context(reminder: Reminder, dose_mg: Decimal) -> dict:
    patient = reminder.patient
    profile = patient.profile
    return {
        "kind": reminder.kind,
        "morning": profile.dose_time == PatientProfile.DoseTime.MORNING,
        "first_name": " ".join(patient.first_name.split()),  # no line breaks from anywhere
        "dose_mg": dose_mg,
        "dose_ml": dose_ml(dose_mg, profile),
        "taken_url": action_url(reminder, tokens.Action.TAKEN),
        "skip_url": action_url(reminder, tokens.Action.SKIPPED),
        "snooze_url": (
            action_url(reminder, tokens.Action.SNOOZE) if reminder.next_snooze_kind() else ""
        ),
        "diary_url": absolute_url(reverse("diary_day", args=[reminder.local_date.isoformat()])),
        "pause_url": pause_url(reminder),
        "settings_url": absolute_url(reverse("reminder_settings")),
    }


def reminder_email(reminder: Reminder, dose_mg: Decimal) -> EmailMultiAlternatives:
    """One reminder, text and HTML. The Message-ID is the row's, so a message sent again
    after an ambiguous failure is recognisably the same one; Django dates each message as
    it writes it."""
    context = reminder_context(reminder, dose_mg)
    message = EmailMultiAlternatives(
        subject=subject_for(reminder.patient.profile),
        body=render_to_string("reminders/email/reminder.txt", context),
        to=[reminder.patient.email],
        headers={
            "Message-ID": reminder.message_id,
            "List-Unsubscribe": f"<{context['pause_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(
        render_to_string("reminders/email/reminder.html", context), "text/html"
    )
    return message
