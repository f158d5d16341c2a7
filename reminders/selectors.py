"""Read-only queries for reminders: who is due when, and whose dose still needs one."""

import datetime as dt
import logging
import zoneinfo
from collections.abc import Collection, Iterable
from decimal import Decimal
from functools import reduce
from operator import or_

from allauth.account.models import EmailAddress
from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from accounts.models import PatientProfile, User
from titration import schedule as engine
from titration.models import DoseLog, Plan, PlanEvent, SafetyScreening

from . import due
from .models import Reminder, ReminderSettings

logger = logging.getLogger(__name__)

CHUNK = 5000  # ids per IN (...) list: SQLite limits the number of query parameters


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def reminder_recipients():
    """Patients who may get reminders, annotated with the zone and wall time they use."""
    verified = EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)
    latest_screen = SafetyScreening.objects.filter(patient=OuterRef("pk")).order_by(
        "-created_at", "-id"
    )
    return (
        User.objects.filter(role=User.Role.PATIENT, is_active=True, profile__reminders_enabled=True)
        .filter(Exists(verified))
        # Opioid use reported: no dose is shown until the prescriber decides, so no reminder.
        .annotate(opioid_block=Subquery(latest_screen.values("opioid_use")[:1]))
        .exclude(opioid_block=True)
        .annotate(
            reminder_zone=Case(
                When(
                    Q(reminder_settings__travel=ReminderSettings.Travel.HOME)
                    & ~Q(reminder_settings__home_time_zone=""),
                    then=F("reminder_settings__home_time_zone"),
                ),
                default=F("profile__time_zone"),
            ),
            reminder_at=Coalesce(
                "profile__reminder_time",
                Case(
                    When(
                        profile__dose_time=PatientProfile.DoseTime.MORNING,
                        then=Value(PatientProfile.DEFAULT_MORNING),
                    ),
                    default=Value(PatientProfile.DEFAULT_BEDTIME),
                ),
            ),
        )
    )


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        logger.warning("Unknown time zone on a patient's settings; their reminders are skipped")
        return None


def firsts_due(after: dt.datetime, until: dt.datetime) -> list[tuple[int, dt.date, dt.datetime]]:
    """(patient id, local date, due instant) for every first reminder due in (after, until].

    Patients share few (zone, time) pairs, so the wall-clock arithmetic runs once per pair
    and the database picks out the patients.
    """
    recipients = reminder_recipients()
    hits = {}
    for zone_name, at in recipients.values_list("reminder_zone", "reminder_at").distinct():
        zone = _zone(zone_name)
        if zone is not None and (found := list(due.due_between(at, zone, after, until))):
            hits[(zone_name, at)] = found
    if not hits:
        return []
    matching = reduce(or_, (Q(reminder_zone=z, reminder_at=t) for z, t in hits))
    rows = recipients.filter(matching).values_list("pk", "reminder_zone", "reminder_at")
    return [(pk, day, instant) for pk, z, t in rows for day, instant in hits[(z, t)]]


def nudges_due(after: dt.datetime, until: dt.datetime) -> list[tuple[int, dt.date, dt.datetime]]:
    """Second reminders: 90 minutes after a first one that was sent, unless switched off."""
    sent = (
        Reminder.objects.filter(
            kind=Reminder.Kind.FIRST,
            status=Reminder.Status.SENT,
            sent_at__gt=after - due.NUDGE_AFTER,
            sent_at__lte=until - due.NUDGE_AFTER,
        )
        .exclude(patient__reminder_settings__nudge_enabled=False)
        .values_list("patient_id", "local_date", "sent_at")
    )
    return [(pk, day, sent_at + due.NUDGE_AFTER) for pk, day, sent_at in sent]


def doses_still_due(pairs: Collection[tuple[int, dt.date]]) -> dict[tuple[int, dt.date], Decimal]:
    """Of (patient id, local date) pairs, those that still need a reminder, with the dose.

    Not if reminders are off, the account is not verified, the dose is logged (taken or
    skipped), or the plan has no dose that day (not started, paused or stopped).
    """
    ids = sorted({pk for pk, _ in pairs})
    dates = {day for _, day in pairs}
    eligible, logged, plans = set(), set(), {}
    for chunk in _chunks(ids):
        eligible.update(reminder_recipients().filter(pk__in=chunk).values_list("pk", flat=True))
        logged.update(
            DoseLog.objects.filter(patient_id__in=chunk, date__in=dates).values_list(
                "patient_id", "date"
            )
        )
        # The newest plan is the current one (titration.selectors.current_plan).
        for plan in Plan.objects.filter(patient_id__in=chunk).order_by(
            "patient_id", "-created_at", "-id"
        ):
            plans.setdefault(plan.patient_id, plan)
    events = _plan_events([plan.pk for plan in plans.values()])
    result = {}
    specs = {}
    for pk, day in pairs:
        if pk not in eligible or (pk, day) in logged or pk not in plans:
            continue
        if pk not in specs:
            plan = plans[pk]
            specs[pk] = plan.spec(events=events.get(plan.pk, []))
        dose = engine.dose_on(specs[pk], day)
        if dose.is_due:
            result[(pk, day)] = dose.dose_mg
    return result


def _plan_events(plan_ids: list[int]) -> dict[int, list[PlanEvent]]:
    """Each plan's events in the plan's own order, in a query per chunk: at the evening
    peak this is tens of thousands of plans, and `prefetch_related` spends more time
    matching them up than the database spends finding them."""
    events = {}
    for chunk in _chunks(plan_ids):
        for event in PlanEvent.objects.filter(plan_id__in=chunk).only(
            "plan_id", "kind", "effective_date", "days"
        ):
            events.setdefault(event.plan_id, []).append(event)
    return events


def last_reminder(patient) -> Reminder | None:
    """The latest reminder whose outcome is settled, for the settings page."""
    return Reminder.objects.for_patient(patient).delivered_or_not().first()


def reminder_settings_of(patient) -> ReminderSettings:
    """The patient's settings, or the defaults (unsaved) when they never changed them."""
    try:
        return patient.reminder_settings
    except ReminderSettings.DoesNotExist:
        return ReminderSettings(patient=patient)
