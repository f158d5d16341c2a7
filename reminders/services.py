"""Reminder writes: the per-minute tick (create due rows, sweep, enqueue), the worker's send,
and what the patient does from an email link or the settings page."""

import contextlib
import datetime as dt
import logging
import smtplib
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import mailers
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from titration import services as titration_services
from titration.models import DoseLog
from titration.selectors import current_plan

from . import due, emails, selectors, tasks
from .models import Reminder, ReminderSettings, SweepMark
from .tokens import Action, ActionClaim

logger = logging.getLogger(__name__)

# After a long outage the tick looks back this far, so every reminder that fell due is
# recorded (sent if within the catch-up window, missed-send if not) rather than forgotten.
LOOKBACK = dt.timedelta(hours=24)


def _now():
    """Test seam: the clock every function here reads when no `now` is passed."""
    return timezone.now()


def _lease(seconds: int | None = None) -> dt.timedelta:
    return dt.timedelta(seconds=seconds or settings.REMINDER_LEASE_SECONDS)


@dataclass
class TickResult:
    created: int = 0
    missed: int = 0
    released: int = 0
    enqueued: list[int] = field(default_factory=list)


def reminders_tick(*, now: dt.datetime | None = None) -> TickResult:
    """Beat's per-minute work (also `manage.py remind`).

    Creates the rows that fell due since the last tick, gives up on rows too late to send,
    takes back rows whose worker vanished, and enqueues every pending row that is due and
    not already in someone's hands. Ids are published only after the rows are committed.
    """
    now = now or _now()
    result = TickResult()
    with transaction.atomic():
        start = SweepMark.window_claim(now, longest=LOOKBACK)
        if start is not None:
            result.created += _rows_create(
                selectors.firsts_due(start, now), Reminder.Kind.FIRST, now
            )
            result.created += _rows_create(
                selectors.nudges_due(start, now), Reminder.Kind.NUDGE, now
            )
        result.missed = _overdue_give_up(now)
        result.released = _vanished_workers_release(now)
        result.enqueued = _due_rows_lease(now)
        ids = result.enqueued
        transaction.on_commit(lambda: reminders_enqueue(reminder_ids=ids))
    return result


def _rows_create(candidates, kind: str, now: dt.datetime) -> int:
    doses = selectors.doses_still_due([(pk, day) for pk, day, _ in candidates])
    rows = []
    for pk, day, due_at in candidates:
        if (pk, day) not in doses:
            continue
        late = due.is_too_late(due_at, now)
        rows.append(
            Reminder(
                patient_id=pk,
                local_date=day,
                kind=kind,
                due_at=due_at,
                status=Reminder.Status.MISSED_SEND if late else Reminder.Status.PENDING,
                detail="Reminders were not running at the time." if late else "",
            )
        )
    # A second beat (or a re-run window) meets the unique constraint and adds nothing.
    Reminder.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(rows)


def _overdue_give_up(now: dt.datetime) -> int:
    return (
        Reminder.objects.pending()
        .filter(due_at__lt=now - due.CATCH_UP)
        .update(
            status=Reminder.Status.MISSED_SEND,
            lease_token=None,
            lease_until=None,
            detail="Not sent: it would have been more than 2 hours late.",
        )
    )


def _vanished_workers_release(now: dt.datetime) -> int:
    """A worker killed mid-send never finishes its rows: when the lease runs out they go
    back to pending, to be claimed again (with the same Message-ID)."""
    return Reminder.objects.filter(status=Reminder.Status.SENDING, lease_until__lt=now).update(
        status=Reminder.Status.PENDING, lease_token=None, lease_until=None
    )


def _due_rows_lease(now: dt.datetime) -> list[int]:
    due_rows = (
        Reminder.objects.pending()
        .filter(due_at__lte=now)
        .lease_expired(now)
        .order_by("due_at", "id")
        # PostgreSQL: a second tick running at once skips rows this one is leasing.
        .select_for_update(skip_locked=True)
    )
    ids = list(due_rows.values_list("pk", flat=True))
    for chunk in selectors._chunks(ids):
        Reminder.objects.filter(pk__in=chunk).update(lease_until=now + _lease())
    return ids


def reminders_enqueue(*, reminder_ids: list[int]) -> None:
    """Publish ids in batches. If the broker is down the rows lose their lease so the next
    tick tries again; the web app never waits on Redis."""
    if not reminder_ids:
        return
    size = settings.REMINDER_BATCH_SIZE
    batches = [reminder_ids[i : i + size] for i in range(0, len(reminder_ids), size)]
    try:
        tasks.send_batches_publish(batches)
    except (BrokerError, ConnectionError, OSError) as exc:
        logger.warning(
            "Broker unavailable (%s): %d reminders wait for the next tick",
            type(exc).__name__,
            len(reminder_ids),
        )
        for chunk in selectors._chunks(reminder_ids):
            Reminder.objects.pending().filter(pk__in=chunk).update(lease_until=None)


@dataclass(frozen=True)
class Retry:
    reminder_ids: list[int]
    delay_seconds: int


def _backoff(attempts: int) -> int:
    base = settings.REMINDER_RETRY_BASE_SECONDS
    return min(base * 2 ** max(attempts - 1, 0), settings.REMINDER_RETRY_MAX_SECONDS)


def _smtp_code(exc: Exception) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return max(codes) if codes else None
    return getattr(exc, "smtp_code", None)


def _commit_without_flush_wait():
    """Per-message status writes commit without waiting for PostgreSQL's disk flush: a
    killed worker loses nothing (the server has the commit), and only a crash of the
    database itself could lose the last few, which then go again with the same Message-ID.
    Waiting would cost a disk flush per message, most of a batch's time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


class _Batch:
    """The rows one worker claimed, finished one by one under its lease token."""

    def __init__(self, token, now):
        self.token, self.now, self.retry = token, now, []

    def finish(self, reminder, status, detail=""):
        fields = {
            "status": status,
            "detail": detail[:200],
            "lease_token": None,
            "lease_until": None,
        }
        if status == Reminder.Status.SENT:
            fields["sent_at"] = _now()
        with transaction.atomic():
            _commit_without_flush_wait()
            Reminder.objects.filter(pk=reminder.pk, lease_token=self.token).update(**fields)

    def temporary_failure(self, reminder, detail):
        if reminder.attempts >= settings.REMINDER_MAX_ATTEMPTS:
            self.finish(
                reminder,
                Reminder.Status.FAILED,
                f"Gave up after {reminder.attempts} tries: {detail}",
            )
            return
        wait = _backoff(reminder.attempts)
        Reminder.objects.filter(pk=reminder.pk, lease_token=self.token).update(
            status=Reminder.Status.PENDING,
            detail=detail[:200],
            lease_token=None,
            # The retry task is due then; the sweeper steps in only if it is lost.
            lease_until=_now() + dt.timedelta(seconds=wait) + _lease(),
        )
        self.retry.append((reminder.pk, wait))


def reminders_send(*, reminder_ids: list[int], now: dt.datetime | None = None) -> Retry | None:
    """Claim the given rows (those still pending), check each is still wanted, and send them
    over one SMTP connection. Returns what to retry after a temporary failure."""
    now = now or _now()
    token = uuid.uuid4()
    claimed = (
        Reminder.objects.pending()
        .filter(pk__in=reminder_ids)
        .update(
            status=Reminder.Status.SENDING,
            lease_token=token,
            lease_until=now + _lease(),
            attempts=F("attempts") + 1,
        )
    )
    if not claimed:
        return None
    batch = _Batch(token, now)
    reminders = list(
        Reminder.objects.filter(lease_token=token).select_related("patient__profile").order_by("id")
    )
    doses = selectors.doses_still_due([(r.patient_id, r.local_date) for r in reminders])
    outbox = []
    for reminder in reminders:
        dose_mg = doses.get((reminder.patient_id, reminder.local_date))
        if due.is_too_late(reminder.due_at, now):
            batch.finish(
                reminder,
                Reminder.Status.MISSED_SEND,
                "Not sent: it would have been more than 2 hours late.",
            )
        elif dose_mg is None:
            batch.finish(reminder, Reminder.Status.CANCELLED, "Not needed any more.")
        else:
            outbox.append((reminder, emails.reminder_email(reminder, dose_mg)))
    if outbox:
        _outbox_send(batch, outbox)
    if not batch.retry:
        return None
    return Retry([pk for pk, _ in batch.retry], max(wait for _, wait in batch.retry))


def _outbox_send(batch: _Batch, outbox) -> None:
    mailer = mailers.default
    try:
        mailer.open()
    except (OSError, smtplib.SMTPException) as exc:
        for reminder, _ in outbox:
            batch.temporary_failure(reminder, f"Mail server unreachable ({type(exc).__name__})")
        mailer.close()
        return
    try:
        for position, (reminder, message) in enumerate(outbox):
            try:
                mailer.send_messages([message])
            except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
                code = _smtp_code(exc)
                if code is not None and code >= 500:
                    batch.finish(
                        reminder, Reminder.Status.FAILED, f"Refused by the mail server ({code})."
                    )
                else:
                    batch.temporary_failure(reminder, f"Mail server said try later ({code}).")
            except OSError as exc:
                # SMTPServerDisconnected, a timeout or a reset (smtplib's errors are OSErrors):
                # the connection is gone, so this and every later message wait for a retry.
                for later, _ in outbox[position:]:
                    batch.temporary_failure(later, f"Connection lost ({type(exc).__name__})")
                return
            else:
                batch.finish(reminder, Reminder.Status.SENT, "Accepted by the mail server.")
    finally:
        with contextlib.suppress(OSError):  # smtplib's errors are OSErrors too
            mailer.close()


# What the patient does -----------------------------------------------------------------


class LinkUsed(Exception):
    pass


class LinkNoLongerValid(Exception):
    """The plan or the reminder changed since the email: the app, not the link, decides."""


@transaction.atomic
def reminder_link_act(*, claim: ActionClaim, now: dt.datetime | None = None):
    """Record what an email link asked for, once. Returns a DoseLog or a snooze Reminder."""
    now = now or _now()
    reminder = (
        Reminder.objects.select_related("patient__profile")
        .filter(pk=claim.reminder_id, patient_id=claim.patient_id, local_date=claim.day)
        .first()
    )
    if reminder is None:
        raise LinkNoLongerValid("We couldn't find that reminder.")
    if claim.action == Action.SNOOZE:
        return reminder_snooze(reminder=reminder, now=now)
    used = Reminder.objects.filter(pk=reminder.pk, link_used_at__isnull=True).update(
        link_used_at=now
    )
    if not used:
        raise LinkUsed("This link has already been used.")
    patient = reminder.patient
    plan = current_plan(patient)
    if plan is None or plan.dose_on(claim.day).dose_mg != claim.dose_mg:
        raise LinkNoLongerValid("Your plan has changed since this email was sent.")
    status = DoseLog.Status.TAKEN if claim.action == Action.TAKEN else DoseLog.Status.SKIPPED
    return titration_services.dose_log(
        patient=patient,
        plan=plan,
        day=claim.day,
        status=status,
        source=DoseLog.Source.EMAIL,
        now=now,
    )


class NoMoreSnoozes(Exception):
    pass


@transaction.atomic
def reminder_snooze(*, reminder: Reminder, now: dt.datetime | None = None) -> Reminder:
    """Remind again in 30 minutes, at most twice a night. Asking twice from the same email
    returns the snooze already set."""
    now = now or _now()
    kind = reminder.next_snooze_kind()
    if kind is None:
        raise NoMoreSnoozes("You've already snoozed twice tonight.")
    if kind == Reminder.Kind.SNOOZE1 and reminder.kind == Reminder.Kind.NUDGE:
        taken = set(
            Reminder.objects.filter(
                patient_id=reminder.patient_id, local_date=reminder.local_date
            ).values_list("kind", flat=True)
        )
        if Reminder.Kind.SNOOZE1 in taken:
            kind = Reminder.Kind.SNOOZE2
    snooze, _ = Reminder.objects.get_or_create(
        patient_id=reminder.patient_id,
        local_date=reminder.local_date,
        kind=kind,
        defaults={"due_at": now + due.SNOOZE_FOR},
    )
    return snooze


@transaction.atomic
def reminders_pause(*, patient) -> int:
    """The pause link and List-Unsubscribe: reminders off, nothing queued goes out."""
    profile = patient.profile
    if profile.reminders_enabled:
        profile.reminders_enabled = False
        profile.save(update_fields=["reminders_enabled", "updated_at"])
    return (
        Reminder.objects.for_patient(patient)
        .pending()
        .update(status=Reminder.Status.CANCELLED, detail="Reminders paused.", lease_until=None)
    )


@transaction.atomic
def reminder_settings_update(
    *,
    patient,
    reminders_enabled: bool,
    reminder_time: dt.time,
    nudge_enabled: bool,
    travel: str,
    home_time_zone: str,
) -> ReminderSettings:
    profile = patient.profile
    profile.reminders_enabled = reminders_enabled
    profile.reminder_time = reminder_time
    profile.save(update_fields=["reminders_enabled", "reminder_time", "updated_at"])
    if travel == ReminderSettings.Travel.HOME and not home_time_zone:
        # "Stay on home time" keeps the clock they had when they chose it.
        home_time_zone = profile.time_zone
    reminder_settings, _ = ReminderSettings.objects.update_or_create(
        patient=patient,
        defaults={
            "nudge_enabled": nudge_enabled,
            "travel": travel,
            "home_time_zone": home_time_zone,
        },
    )
    if not reminders_enabled:
        Reminder.objects.for_patient(patient).pending().update(
            status=Reminder.Status.CANCELLED, detail="Reminders switched off.", lease_until=None
        )
    return reminder_settings
