"""Everything the app holds about one patient, as a zip of JSON and CSV files (issue 7).

The patient's right of access: their account and settings, safety answers, plans and every
change to them, doses, supply, diary, questionnaires, reminders, who they share with, who
opened their record, and the alerts raised about them. Clinicians' private notes and alert
acknowledgements are the care team's record and are not included (README.txt says so).
"""

import io
import json
import zipfile

from django.core.serializers.json import DjangoJSONEncoder

from accounts.models import PatientProfile, User
from clinic import selectors as clinic_selectors
from clinic.models import Alert, AlertThresholds, CareLink
from reminders.models import PushSubscription, Reminder, ReminderSettings
from symptoms import exports as symptom_exports
from titration.models import Plan, SafetyScreening, SupplyEntry

README = """Your LDN Tracker data

account.json            your account: email address, name, when you joined
profile.json            your time zone, dose time, medicine form and reminder time
safety_screenings.json  your answers to the safety questions
plans.json              your titration plans and every change to them (holds, steps...)
doses.csv               every day of your plan: taken, skipped or missed, with skip reasons
supply.json             refills and counts of your medicine
diary.csv               your daily diary, a row per day: ratings, side effects, factors, notes
questionnaires.csv      your FIQR and PGIC answers (one column per question) and scores
reminders.json          your reminder settings and the reminders we sent
sharing.json            the clinicians and clinics you share your record with (or did)
access_log.json         who opened your record, when, and what they did (as on the
                        "Who viewed my record" page)
alerts.json             alerts your care team was shown about you
alert_settings.json     alert limits your care team set for you (empty means the usual ones)

Not included: your clinicians' private notes, which belong to their clinical record.
Ask your clinic for a copy of those.
Dates are ISO 8601; times are in UTC.
"""


def _rows(queryset, *fields):
    return [dict(zip(fields, values, strict=True)) for values in queryset.values_list(*fields)]


def _account(user: User) -> dict:
    return {
        "email": user.email,
        "first_name": user.first_name,
        "role": user.role,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
        "deletion_requested_at": user.deletion_requested_at,
    }


def _profile(user: User) -> dict:
    profile = PatientProfile.objects.filter(user=user)
    rows = _rows(
        profile,
        "time_zone",
        "dose_time",
        "reminder_time",
        "reminders_enabled",
        "formulation",
        "concentration_mg_per_ml",
        "onboarded_at",
    )
    return rows[0] if rows else {}


def _plans(user: User) -> list:
    plans = []
    for plan in Plan.objects.filter(patient=user).prefetch_related("events").order_by("id"):
        plans.append(
            {
                "protocol": plan.protocol,
                "target_mg": plan.target_mg,
                "start_date": plan.start_date,
                "custom_steps": plan.custom_steps,
                "created_at": plan.created_at,
                "events": [
                    {
                        "kind": event.kind,
                        "effective_date": event.effective_date,
                        "days": event.days,
                        "reason": event.reason,
                        "automatic": event.automatic,
                        "by_you": event.actor_id == user.pk,
                        "created_at": event.created_at,
                    }
                    for event in plan.events.all()
                ],
            }
        )
    return plans


def _reminders(user: User) -> dict:
    settings_rows = _rows(
        ReminderSettings.objects.filter(patient=user),
        "travel",
        "home_time_zone",
        "nudge_enabled",
        "repeat",
        "channel",
    )
    return {
        "settings": settings_rows[0] if settings_rows else None,
        "sent": _rows(
            Reminder.objects.filter(patient=user).order_by("due_at"),
            "local_date",
            "kind",
            "channel",
            "due_at",
            "status",
            "sent_at",
            "link_used_at",
        ),
        # The devices that show notifications: what they are called and when, not the
        # push service's address or keys (they only work for this server anyway).
        "devices": _rows(
            PushSubscription.objects.filter(patient=user), "label", "created_at", "last_sent_at"
        ),
    }


def _sharing(user: User) -> list:
    links = CareLink.objects.filter(patient=user).select_related("clinician", "clinic")
    return [
        {
            "with": link.recipient_name,
            "accepted_at": link.accepted_at,
            "revoked_at": link.revoked_at,
        }
        for link in links.order_by("created_at")
    ]


def _access_log(user: User) -> list:
    # The same rows as the "Who viewed my record" page: allowed views only. A denied try
    # is a security record, and would name people the patient never shared with.
    events = clinic_selectors.access_log_for_patient(user, limit=None)
    return [
        {
            "at": event.at,
            "who": "you" if event.actor_id == user.pk else str(event.actor or "unknown"),
            "action": event.get_action_display(),
            "outcome": event.outcome,
        }
        for event in reversed(events)
    ]


def account_export_zip(user: User) -> bytes:
    """The patient's whole record as a zip; the same files whatever the app's version."""
    documents = {
        "account.json": _account(user),
        "profile.json": _profile(user),
        "safety_screenings.json": _rows(
            SafetyScreening.objects.filter(patient=user).order_by("created_at"),
            "opioid_use",
            "alcohol",
            "liver_medications",
            "liver_disease",
            "created_at",
        ),
        "plans.json": _plans(user),
        "supply.json": _rows(
            SupplyEntry.objects.filter(patient=user).order_by("recorded_at"),
            "kind",
            "received_on",
            "amount",
            "capsule_strength_mg",
            "concentration_mg_per_ml",
            "discard_on",
            "recorded_at",
        ),
        "reminders.json": _reminders(user),
        "sharing.json": _sharing(user),
        "access_log.json": _access_log(user),
        "alerts.json": _rows(
            Alert.objects.filter(patient=user).order_by("opened_at"),
            "rule",
            "urgency",
            "episode",
            "detail",
            "opened_at",
            "acknowledged_at",
        ),
        "alert_settings.json": _rows(
            AlertThresholds.objects.filter(patient=user),
            "persistent_days",
            "pain_points",
            "pain_percent",
            "missed_in_a_row",
            "quiet_days",
            "changed_at",
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README + "\n\n" + symptom_exports.data_dictionary())
        for name, document in documents.items():
            archive.writestr(
                name, json.dumps(document, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
            )
        for name, content in symptom_exports.csv_files(user).items():
            archive.writestr(name, content)
    return buffer.getvalue()
