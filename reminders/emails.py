"""The reminder email: what it says, its links and its headers. Building only; sending is
in services.py."""

import functools
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import get_urlconf, reverse

from accounts.models import PatientProfile
from titration.selectors import dose_ml

from . import tokens
from .models import Reminder


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


@functools.cache
def _url_pattern(name: str, urlconf: str, site_url: str) -> str:
    # Thousands of emails a minute at the peak: resolve each URL pattern once.
    return site_url.rstrip("/") + reverse(name, urlconf=urlconf, args=["ARG"])


def link(name: str, arg: str) -> str:
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return _url_pattern(name, urlconf, settings.SITE_URL).replace("ARG", arg)


def subject_for(profile: PatientProfile) -> str:
    # No health detail in a subject: it shows on lock screens and in shared inboxes.
    if profile.dose_time == PatientProfile.DoseTime.MORNING:
        return "Your morning reminder"
    return "Your evening reminder"


def reminder_email(reminder: Reminder, dose_mg: Decimal) -> EmailMultiAlternatives:
    patient = reminder.patient
    profile = patient.profile

    def action_url(action):
        token = tokens.action_token(
            reminder_id=reminder.pk,
            patient_id=patient.pk,
            day=reminder.local_date,
            dose_mg=dose_mg,
            action=action,
        )
        return link("reminder_action", token)

    pause_url = link("reminders_pause", tokens.pause_token(patient_id=patient.pk))
    context = {
        "first_name": patient.first_name,
        "morning": profile.dose_time == PatientProfile.DoseTime.MORNING,
        "dose_mg": dose_mg,
        "dose_ml": dose_ml(dose_mg, profile),
        "kind": reminder.kind,
        "taken_url": action_url(tokens.Action.TAKEN),
        "skip_url": action_url(tokens.Action.SKIPPED),
        "snooze_url": action_url(tokens.Action.SNOOZE) if reminder.next_snooze_kind() else "",
        "diary_url": link("diary_day", reminder.local_date.isoformat()),
        "pause_url": pause_url,
        "settings_url": absolute(reverse("reminder_settings")),
    }
    message = EmailMultiAlternatives(
        subject=subject_for(profile),
        body=render_to_string("reminders/email/reminder.txt", context),
        to=[patient.email],
        headers={
            "Message-ID": reminder.message_id,
            "List-Unsubscribe": f"<{pause_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(
        render_to_string("reminders/email/reminder.html", context), "text/html"
    )
    return message
