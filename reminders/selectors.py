"""Read-only queries for reminders: who is due when, and whose dose still needs one."""

import contextlib
import datetime as dt
import functools
import logging
import zoneinfo
from collections.abc import Collection, Iterable
from decimal import Decimal
from functools import reduce
from operator import or_

from allauth.account.models import EmailAddress
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import PatientProfile, User, available_time_zones
from titration import selectors as titration_selectors

from . import due
from .models import PushSubscription, Reminder, ReminderSettings
from .push import push_enabled

logger = logging.getLogger(__name__)

CHUNK = 5000  # ids per IN (...) list: SQLite limits the number of query parameters


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# A reminder on home time keeps the home clock while the profile follows the traveller.
_ON_HOME_CLOCK = Q(reminder_settings__travel=ReminderSettings.Travel.HOME) & ~Q(
    reminder_settings__home_time_zone=""
)


def reminder_recipients():
    """Patients who may get reminders, annotated with the wall time they use (their zone is the
    profile's, or the home zone where `_ON_HOME_CLOCK` holds)."""
    verified = EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)
    return (
        User.objects.filter(role=User.Role.PATIENT, is_active=True, profile__reminders_enabled=True)
        .filter(Exists(verified))
        .annotate(
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


@functools.cache
def _known_zones() -> tuple[tuple[str, zoneinfo.ZoneInfo], ...]:
    """(name, zone) for every zone a patient can have, and "" (a blank zone means UTC).
    Cached: reading the zone database takes tens of milliseconds and only changes with a
    tzdata upgrade, which means a restart. A patient with a zone not in it is never due,
    as `_zone` would have skipped them anyway."""
    zones = [("", zoneinfo.ZoneInfo("UTC"))]
    for name in sorted(available_time_zones()):
        with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
            zones.append((name, zoneinfo.ZoneInfo(name)))
    return tuple(zones)


def _clock_filter(zone_field: str, after: dt.datetime, until: dt.datetime) -> Q | None:
    """Patients whose zone (in `zone_field`) and wall time may put a reminder in
    (after, until], or None for nobody. Zones whose clocks agree share one condition, and
    each is a range on the (time zone, reminder time) index: a minute's patients are found
    without reading everyone's."""
    zones_by_ranges = {}
    for name, zone in _known_zones():
        ranges = due.wall_ranges(zone, after, until)
        zones_by_ranges.setdefault(None if ranges is None else tuple(ranges), []).append(name)
    conditions = []
    for ranges, names in zones_by_ranges.items():
        in_zones = Q(**{f"{zone_field}__in": names})
        if ranges is None:
            conditions.append(in_zones)
            continue
        clock = [Q(profile__reminder_time__range=pair) for pair in ranges]
        # No time chosen: the default for the dose time (reminder_recipients).
        if any(first <= PatientProfile.DEFAULT_MORNING <= last for first, last in ranges):
            clock.append(
                Q(profile__reminder_time=None, profile__dose_time=PatientProfile.DoseTime.MORNING)
            )
        if any(first <= PatientProfile.DEFAULT_BEDTIME <= last for first, last in ranges):
            clock.append(
                Q(profile__reminder_time=None)
                & ~Q(profile__dose_time=PatientProfile.DoseTime.MORNING)
            )
        conditions.append(in_zones & reduce(or_, clock))
    return reduce(or_, conditions) if conditions else None


def first_reminder_candidates(after: dt.datetime, until: dt.datetime) -> list[QuerySet]:
    """The queries for the patients whose first reminder may fall in (after, until], as
    (patient id, zone, wall time) rows: those on the profile's clock and those on home
    time. Each narrows the patients down by zone and wall time with an index."""
    queries = []
    for patients, zone_field in [
        (reminder_recipients().exclude(_ON_HOME_CLOCK), "profile__time_zone"),
        (reminder_recipients().filter(_ON_HOME_CLOCK), "reminder_settings__home_time_zone"),
    ]:
        clock = _clock_filter(zone_field, after, until)
        if clock is not None:
            queries.append(patients.filter(clock).values_list("pk", zone_field, "reminder_at"))
    return queries


def firsts_due(after: dt.datetime, until: dt.datetime) -> list[tuple[int, dt.date, dt.datetime]]:
    """(patient id, local date, due instant) for every first reminder due in (after, until].

    The database finds the candidates; the exact wall-clock arithmetic then runs once per
    (zone, time) pair they share.
    """
    hits = {}
    found = []
    for candidates in first_reminder_candidates(after, until):
        for pk, zone_name, at in candidates:
            if (zone_name, at) not in hits:
                zone = _zone(zone_name)
                hits[(zone_name, at)] = (
                    [] if zone is None else list(due.due_between(at, zone, after, until))
                )
            found += [(pk, day, instant) for day, instant in hits[(zone_name, at)]]
    return found


def nudge_candidates(after: dt.datetime, until: dt.datetime) -> QuerySet:
    """First reminders sent 90 minutes before (after, until], unless nudges are switched
    off, as (patient id, local date, sent at, channel) rows."""
    return (
        Reminder.objects.filter(
            kind=Reminder.Kind.FIRST,
            status=Reminder.Status.SENT,
            sent_at__gt=after - due.NUDGE_AFTER,
            sent_at__lte=until - due.NUDGE_AFTER,
        )
        .exclude(patient__reminder_settings__nudge_enabled=False)
        .order_by()
        .values_list("patient_id", "local_date", "sent_at", "channel")
    )


Candidate = tuple[int, dt.date, dt.datetime, str, str | None]


def firsts_due_as_candidates(after: dt.datetime, until: dt.datetime) -> list[Candidate]:
    """First reminders as (patient, date, due, kind, channel): the channel (None) is the
    patient's choice, looked up for the patients whose dose still needs one."""
    return [(pk, day, at, Reminder.Kind.FIRST, None) for pk, day, at in firsts_due(after, until)]


def nudges_due(after: dt.datetime, until: dt.datetime) -> list[Candidate]:
    """Second reminders: 90 minutes after a first one that was sent, unless switched off,
    on the first one's channel."""
    return [
        (pk, day, sent_at + due.NUDGE_AFTER, Reminder.Kind.NUDGE, channel)
        for pk, day, sent_at, channel in nudge_candidates(after, until)
    ]


def repeats_due(after: dt.datetime, until: dt.datetime) -> list[Candidate]:
    """For patients who chose "every 30 minutes, up to 3 more times": the next repeat 30
    minutes after the first reminder or the last repeat was sent, on its channel."""
    rows = (
        Reminder.objects.filter(
            kind__in=[Reminder.Kind.FIRST, Reminder.Kind.REPEAT1, Reminder.Kind.REPEAT2],
            status=Reminder.Status.SENT,
            sent_at__gt=after - due.REPEAT_EVERY,
            sent_at__lte=until - due.REPEAT_EVERY,
            patient__reminder_settings__repeat=ReminderSettings.Repeat.EVERY_30,
        )
        .order_by()
        .values_list("patient_id", "local_date", "sent_at", "kind", "channel")
    )
    return [
        (pk, day, sent_at + due.REPEAT_EVERY, Reminder(kind=kind).next_repeat_kind(), channel)
        for pk, day, sent_at, kind, channel in rows
    ]


def channels_of(patient_ids: Collection[int]) -> dict[int, list[str]]:
    """The channels each patient's reminders go by: email unless they chose push, and
    push only to a patient with a device to notify (a patient who chose push alone and
    has none gets the email, rather than nothing)."""
    if not patient_ids:
        return {}
    chosen = {}
    with_devices = set()
    for chunk in _chunks(sorted(set(patient_ids))):
        chosen.update(
            ReminderSettings.objects.filter(patient_id__in=chunk)
            .exclude(channel=ReminderSettings.Channel.EMAIL)
            .values_list("patient_id", "channel")
        )
        if chosen and push_enabled():
            with_devices.update(
                PushSubscription.objects.filter(patient_id__in=chunk)
                .values_list("patient_id", flat=True)
                .distinct()
            )
    result = {}
    for pk in patient_ids:
        channel = chosen.get(pk, ReminderSettings.Channel.EMAIL)
        push = pk in with_devices and channel != ReminderSettings.Channel.EMAIL
        email = channel != ReminderSettings.Channel.PUSH or not push
        result[pk] = [Reminder.Channel.EMAIL] * email + [Reminder.Channel.PUSH] * push
    return result


def doses_still_due(
    pairs: Collection[tuple[int, dt.date]],
    *,
    recipients_checked: bool = False,
    now: dt.datetime | None = None,
    sending: bool = False,
) -> dict[tuple[int, dt.date], Decimal]:
    """Of (patient id, local date) pairs, those that still need a reminder, with the dose.

    The dose decision at `now` (titration.decision) answers, as Today does: the date must be
    the one Today's card is about, not logged and due (not blocked, paused or stopped).
    When `sending`, it must also be allowed to be taken now (the spacing rule); before that,
    a dose that will be allowed later in its window still counts. Not if reminders are off
    or the account is not verified (skipped when the pairs come from `firsts_due`, which
    asked already: `recipients_checked`).
    """
    now_due, later = _doses_decided(pairs, recipients_checked=recipients_checked, now=now)
    if not sending:
        now_due.update((pair, dose_mg) for pair, (dose_mg, _) in later.items())
    return now_due


def doses_to_send(
    pairs: Collection[tuple[int, dt.date]], *, now: dt.datetime
) -> tuple[dict[tuple[int, dt.date], Decimal], dict[tuple[int, dt.date], dt.datetime]]:
    """For a send: the doses that may be taken now, and for those the spacing rule refuses
    until later in their window, the instant from which they may (the reminder waits)."""
    now_due, later = _doses_decided(pairs, recipients_checked=False, now=now)
    return now_due, {pair: allowed_from for pair, (_, allowed_from) in later.items()}


def _doses_decided(pairs, *, recipients_checked: bool, now: dt.datetime | None):
    now = now or timezone.now()
    ids = sorted({pk for pk, _ in pairs})
    eligible = set(ids) if recipients_checked else set()
    if not recipients_checked:
        for chunk in _chunks(ids):
            eligible.update(reminder_recipients().filter(pk__in=chunk).values_list("pk", flat=True))
    decisions = titration_selectors.dose_decisions([pk for pk in ids if pk in eligible], now=now)
    now_due, later = {}, {}
    for pk, day in pairs:
        d = decisions.get(pk)
        if d is None or d.dose_day != day or d.log is not None or not d.due.is_due:
            continue
        if d.take is None:
            now_due[(pk, day)] = d.dose_mg
        elif d.take.allowed_from is not None:
            later[(pk, day)] = (d.dose_mg, d.take.allowed_from)
    return now_due, later


def last_reminder(patient) -> Reminder | None:
    """The latest reminder whose outcome is settled, for the settings page."""
    return Reminder.objects.for_patient(patient).delivered_or_not().first()


def reminder_settings_of(patient) -> ReminderSettings:
    """The patient's settings, or the defaults (unsaved) when they never changed them."""
    try:
        return patient.reminder_settings
    except ReminderSettings.DoesNotExist:
        return ReminderSettings(patient=patient)


def devices_of(patient) -> list[PushSubscription]:
    return list(PushSubscription.objects.filter(patient=patient))
