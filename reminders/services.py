"""Reminder writes: the per-minute tick (create due rows, sweep, enqueue), the worker's send,
and what the patient does from an email link or the settings page."""

import contextlib
import datetime as dt
import functools
import logging
import smtplib
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import mailers
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from titration import services as titration_services
from titration.models import DoseLog
from titration.selectors import current_plan

from . import due, emails, push, selectors, tasks
from .models import PushSubscription, Reminder, ReminderSettings, SweepMark
from .tokens import Action, ActionClaim

logger = logging.getLogger(__name__)

# After a long outage the tick looks back this far, so every reminder that fell due is
# recorded (sent if within the catch-up window, missed-send if not) rather than forgotten.
LOOKBACK = dt.timedelta(hours=24)
# New rows committed and enqueued together (10 batches of 500): the first workers start
# sending while the tick creates the rest of a peak minute.
TICK_CHUNK = 5000


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
    not already in someone's hands. Ids are published only after their rows are committed.

    New rows are committed and enqueued a chunk at a time, so workers send a peak minute's
    first reminders while the tick is still creating the rest. The window is marked done
    only after its last chunk: a tick that dies halfway leaves the mark where it was and the
    next tick does the window again. That inserts only the rows still missing (the unique
    constraint), and a row is enqueued only by the tick that inserted it (or, once its lease
    has run out, by the sweep below), so nobody gets a reminder twice.
    """
    now = now or _now()
    result = TickResult()
    publish = _Publisher()
    with SweepMark.window_claim(now, longest=LOOKBACK) as (start, renew):
        if start is not None:
            for candidates, recipients_checked in [
                (selectors.firsts_due_as_candidates(start, now), True),
                (selectors.nudges_due(start, now), False),
                (selectors.repeats_due(start, now), False),
            ]:
                for chunk in selectors._chunks(candidates, TICK_CHUNK):
                    with transaction.atomic():
                        rows = _rows_for(chunk, now, recipients_checked=recipients_checked)
                        ids = Reminder.objects.insert_missing(rows, lease_until=now + _lease())
                        transaction.on_commit(functools.partial(publish, ids))
                    result.created += len(rows)
                    result.enqueued += ids
                    renew()
            SweepMark.window_done(now)
    with transaction.atomic():
        result.missed = _overdue_give_up(now)
        result.released = _vanished_workers_release(now)
        # With the broker down, the rows stay unleased for the next tick.
        ids = [] if publish.broker_down else _due_rows_lease(now)
        transaction.on_commit(functools.partial(publish, ids))
    result.enqueued += ids
    return result


def _rows_for(candidates, now: dt.datetime, *, recipients_checked: bool) -> list[Reminder]:
    """Rows for (patient id, local date, due instant, kind, channel) candidates whose dose
    still needs a reminder; a first reminder's channel (None) is the patient's choice."""
    doses = selectors.doses_still_due(
        [(pk, day) for pk, day, *_ in candidates],
        recipients_checked=recipients_checked,
        now=now,
    )
    channels = selectors.channels_of(
        [pk for pk, day, _, _, channel in candidates if channel is None and (pk, day) in doses]
    )
    rows = []
    for pk, day, due_at, kind, channel in candidates:
        if (pk, day) not in doses:
            continue
        late = due.is_too_late(due_at, now)
        rows += [
            Reminder(
                patient_id=pk,
                local_date=day,
                kind=kind,
                channel=each,
                due_at=due_at,
                status=Reminder.Status.MISSED_SEND if late else Reminder.Status.PENDING,
                detail="Reminders were not running at the time." if late else "",
            )
            for each in ([channel] if channel else channels.get(pk, [Reminder.Channel.EMAIL]))
        ]
    # A second beat (or a re-run window) meets the unique constraint and adds nothing.
    return rows


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


class _Publisher:
    """Publishes the ids of each chunk the tick commits. After one broker failure the rest
    of the tick's rows only lose their lease, for the next tick to try, instead of every
    chunk waiting out the broker's timeout again."""

    def __init__(self):
        self.broker_down = False

    def __call__(self, reminder_ids: list[int]) -> None:
        if self.broker_down:
            _leases_drop(reminder_ids)
        else:
            self.broker_down = not reminders_enqueue(reminder_ids=reminder_ids)


def reminders_enqueue(*, reminder_ids: list[int]) -> bool:
    """Publish ids in batches. If the broker is down the rows lose their lease so the next
    tick tries again (returns False); the web app never waits on Redis."""
    if not reminder_ids:
        return True
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
        _leases_drop(reminder_ids)
        return False
    return True


def _leases_drop(reminder_ids: list[int]) -> None:
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


class _Batch:
    """The rows one worker claimed, finished one by one under its lease token."""

    def __init__(self, token, now):
        self.token, self.now, self.retry = token, now, []

    def finish(self, reminder, status, detail=""):
        # Committed before the next message goes: a kill after this never resends this
        # one, and a kill before it resends only the one in flight (same Message-ID).
        Reminder.objects.finish_leased(
            pk=reminder.pk,
            lease_token=self.token,
            status=status,
            detail=detail[:200],
            sent_at=_now() if status == Reminder.Status.SENT else None,
        )

    def defer(self, reminder, until: dt.datetime) -> None:
        """The dose may not be taken yet (6 hours since the last): the row goes back to
        pending with a lease running until it may, and the sweep sends it then. Past the
        2-hour catch-up it is not sent at all."""
        if due.is_too_late(reminder.due_at, until):
            self.finish(
                reminder,
                Reminder.Status.CANCELLED,
                "Not sent: the dose could not be taken within 2 hours of its time "
                "(6 hours after the last).",
            )
            return
        Reminder.objects.filter(pk=reminder.pk, lease_token=self.token).update(
            status=Reminder.Status.PENDING,
            detail="Waiting until the dose may be taken (6 hours after the last).",
            lease_token=None,
            lease_until=until,
            attempts=F("attempts") - 1,
        )

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
        Reminder.objects.filter(pk__in=reminder_ids, lease_token=token)  # pk: the index
        .select_related("patient__profile")
        .order_by("id")
    )
    doses, later = selectors.doses_to_send(
        [(r.patient_id, r.local_date) for r in reminders], now=now
    )
    outbox, pushes = [], []
    for reminder in reminders:
        pair = (reminder.patient_id, reminder.local_date)
        dose_mg = doses.get(pair)
        if due.is_too_late(reminder.due_at, now):
            batch.finish(
                reminder,
                Reminder.Status.MISSED_SEND,
                "Not sent: it would have been more than 2 hours late.",
            )
        elif pair in later:
            batch.defer(reminder, later[pair])
        elif dose_mg is None:
            batch.finish(reminder, Reminder.Status.CANCELLED, "Not needed any more.")
        elif reminder.channel == Reminder.Channel.PUSH:
            pushes.append(reminder)
        else:
            outbox.append((reminder, emails.reminder_email(reminder, dose_mg)))
    if outbox:
        _outbox_send(batch, outbox)
    if pushes:
        _pushes_send(batch, pushes)
    if not batch.retry:
        return None
    return Retry([pk for pk, _ in batch.retry], max(wait for _, wait in batch.retry))


def _outbox_send(batch: _Batch, outbox) -> None:
    """One connection to the mail server for the batch, one message at a time, so each
    answer settles its own row."""
    mailer = mailers.default
    try:
        mailer.open()
    except (OSError, smtplib.SMTPException) as exc:
        for reminder, _ in outbox:
            batch.temporary_failure(reminder, f"Mail server unreachable ({type(exc).__name__})")
        with contextlib.suppress(OSError):
            mailer.close()  # a connection opened halfway (before TLS or login failed)
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
            except ValueError:
                # An address the mail server could never be given (Django refuses it).
                batch.finish(reminder, Reminder.Status.FAILED, "The email address is invalid.")
            else:
                batch.finish(reminder, Reminder.Status.SENT, "Accepted by the mail server.")
    finally:
        with contextlib.suppress(OSError):  # smtplib's errors are OSErrors too
            mailer.close()


def _pushes_send(batch: _Batch, reminders: list[Reminder]) -> None:
    """Each reminder to every device the patient subscribed, over one HTTP session. Sent
    once it reached one of them; a device its push service calls gone is forgotten."""
    if not push.push_enabled():
        for reminder in reminders:
            batch.finish(reminder, Reminder.Status.FAILED, "Push is not set up on this server.")
        return
    devices = {}
    for subscription in PushSubscription.objects.filter(
        patient_id__in={r.patient_id for r in reminders}
    ):
        devices.setdefault(subscription.patient_id, []).append(subscription)
    sender = push.Sender()
    try:
        for reminder in reminders:
            data = push.payload(reminder)
            outcomes = [
                (device, sender.send(device, data))
                for device in devices.get(reminder.patient_id, [])
            ]
            gone = [device.pk for device, outcome in outcomes if outcome.gone]
            if gone:
                PushSubscription.objects.filter(pk__in=gone).delete()
            delivered = [device.pk for device, outcome in outcomes if outcome.delivered]
            if delivered:
                PushSubscription.objects.filter(pk__in=delivered).update(last_sent_at=_now())
                batch.finish(
                    reminder,
                    Reminder.Status.SENT,
                    f"Delivered to {len(delivered)} device{'s' if len(delivered) > 1 else ''}.",
                )
            elif any(outcome.temporary for _, outcome in outcomes):
                detail = next(o.detail for _, o in outcomes if o.temporary)
                batch.temporary_failure(reminder, detail)
            elif outcomes:
                batch.finish(reminder, Reminder.Status.FAILED, outcomes[-1][1].detail)
            else:
                batch.finish(reminder, Reminder.Status.FAILED, "No device to notify.")
    finally:
        sender.close()


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
        Reminder.objects.select_related("patient__profile").filter(link_key=claim.link_key).first()
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
    if plan is None:
        raise LinkNoLongerValid("Your plan has changed since this email was sent.")
    status = DoseLog.Status.TAKEN if claim.action == Action.TAKEN else DoseLog.Status.SKIPPED
    # Dose decision: what Today says now (the link carries no dose), so the confirm page
    # shows the decision's dose, and a refusal (spacing, already logged) is said in its
    # words.
    return titration_services.dose_log(
        patient=patient,
        plan=plan,
        day=None,
        status=status,
        source=(
            DoseLog.Source.PUSH
            if reminder.channel == Reminder.Channel.PUSH
            else DoseLog.Source.EMAIL
        ),
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
                patient_id=reminder.patient_id,
                local_date=reminder.local_date,
                channel=reminder.channel,
            ).values_list("kind", flat=True)
        )
        if Reminder.Kind.SNOOZE1 in taken:
            kind = Reminder.Kind.SNOOZE2
    snooze, _ = Reminder.objects.get_or_create(
        patient_id=reminder.patient_id,
        local_date=reminder.local_date,
        kind=kind,
        channel=reminder.channel,
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
    repeat: str,
    travel: str,
    home_time_zone: str,
    channel: str = ReminderSettings.Channel.EMAIL,
) -> ReminderSettings:
    profile = patient.profile
    # The time itself is the dose time, changed in the profile through the dose decision.
    profile.reminders_enabled = reminders_enabled
    profile.save(update_fields=["reminders_enabled", "updated_at"])
    if travel == ReminderSettings.Travel.HOME and not home_time_zone:
        # "Stay on home time" keeps the clock they had when they chose it.
        home_time_zone = profile.time_zone
    reminder_settings, _ = ReminderSettings.objects.update_or_create(
        patient=patient,
        defaults={
            "repeat": repeat,
            "nudge_enabled": repeat == ReminderSettings.Repeat.NUDGE,
            "channel": channel,
            "travel": travel,
            "home_time_zone": home_time_zone,
        },
    )
    if not reminders_enabled:
        Reminder.objects.for_patient(patient).pending().update(
            status=Reminder.Status.CANCELLED, detail="Reminders switched off.", lease_until=None
        )
    return reminder_settings


@transaction.atomic
def push_subscription_save(
    *, patient, endpoint: str, p256dh: str, auth: str, label: str = ""
) -> PushSubscription:
    """This browser may notify the patient. A browser that was another patient's (a
    shared or handed-on device) now notifies only the one who asked."""
    subscription, _ = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={"patient": patient, "p256dh": p256dh, "auth": auth, "label": label[:100]},
    )
    return subscription


def push_subscription_remove(*, patient, pk: int) -> bool:
    return PushSubscription.objects.filter(patient=patient, pk=pk).delete()[0] > 0
