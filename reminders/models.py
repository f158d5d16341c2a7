import contextlib
import datetime as dt
import secrets
import uuid

from django.conf import settings
from django.db import DatabaseError, models
from django.utils import timezone

from accounts.models import validate_time_zone


def new_link_key() -> str:
    """The random part of a reminder's email links (128 bits): the row is found by it, so
    the links carry nothing about the patient."""
    return secrets.token_urlsafe(16)


class ReminderSettings(models.Model):
    """A patient's reminder choices that the profile does not hold. A patient without a row
    has the defaults: follow where I am, second nudge on."""

    class Travel(models.TextChoices):
        FOLLOW = "follow", "Follow where I am"
        HOME = "home", "Stay on home time"

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_settings"
    )
    travel = models.CharField(max_length=8, choices=Travel.choices, default=Travel.FOLLOW)
    home_time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        PUSH = "push", "A notification on my devices"
        BOTH = "both", "Both"

    class Repeat(models.TextChoices):
        ONCE = "once", "Once"
        NUDGE = "nudge", "Once more 90 minutes later"
        EVERY_30 = "every30", "Every 30 minutes, up to 3 more times"

    # Kept in step with `repeat` (nudge on only for NUDGE): the tick's nudge query reads it.
    nudge_enabled = models.BooleanField(
        "Remind me again if I haven't logged my dose 90 minutes later", default=True
    )
    repeat = models.CharField(
        "Until I log my dose, remind me",
        max_length=8,
        choices=Repeat.choices,
        default=Repeat.NUDGE,
        db_default=Repeat.NUDGE,
    )
    channel = models.CharField(
        "Remind me by",
        max_length=5,
        choices=Channel.choices,
        default=Channel.EMAIL,
        db_default=Channel.EMAIL,
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "reminder settings"
        indexes = [
            # The tick finds the patients on home time by their home zone (selectors).
            models.Index(
                fields=["home_time_zone"],
                condition=models.Q(travel="home"),
                name="reminder_settings_home_zone",
            )
        ]

    def __str__(self):
        return f"Reminder settings of {self.patient}"

    @property
    def wants_push(self) -> bool:
        return self.channel in (self.Channel.PUSH, self.Channel.BOTH)

    @property
    def wants_email(self) -> bool:
        return self.channel in (self.Channel.EMAIL, self.Channel.BOTH)


class ReminderQuerySet(models.QuerySet):
    def insert_missing(self, rows: list["Reminder"], *, lease_until) -> list[int]:
        """Insert the rows that do not exist yet; the unique constraint settles a race with
        another tick. Returns the ids of the pending rows inserted, already leased until
        `lease_until` so the caller can enqueue them at once.

        The inserted pending rows carry a token of this call's own, so reading them back
        finds these and not rows another tick made (or made earlier), which that tick
        enqueues or the sweep does when their lease runs out.
        """
        token = uuid.uuid4()
        for row in rows:
            if row.status == Reminder.Status.PENDING:
                row.lease_token, row.lease_until = token, lease_until
        self.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        pending = [row for row in rows if row.lease_token == token]
        ids = []
        # The unique constraint's index, which starts with the patient, finds them.
        for start in range(0, len(pending), 5000):
            chunk = pending[start : start + 5000]
            ids += self.filter(
                patient_id__in={row.patient_id for row in chunk},
                local_date__in={row.local_date for row in chunk},
                kind__in={row.kind for row in chunk},
                channel__in={row.channel for row in chunk},
                status=Reminder.Status.PENDING,
                lease_token=token,
            ).values_list("pk", flat=True)
        return sorted(ids)

    def finish_leased(self, *, pk: int, lease_token, status: str, detail: str, sent_at=None) -> int:
        """Settle one row a worker holds, only while it still holds it: a worker whose lease
        ran out (and whose row the sweeper handed to another) changes nothing."""
        changes = {"status": status, "detail": detail, "lease_token": None, "lease_until": None}
        if sent_at is not None:
            changes["sent_at"] = sent_at
        return self.filter(pk=pk, lease_token=lease_token).update(**changes)

    def for_patient(self, patient):
        return self.filter(patient=patient)

    def pending(self):
        return self.filter(status=Reminder.Status.PENDING)

    def lease_expired(self, now):
        return self.filter(models.Q(lease_until__isnull=True) | models.Q(lease_until__lt=now))

    def delivered_or_not(self):
        """Rows whose outcome the patient should see on the settings page."""
        return self.filter(
            status__in=[Reminder.Status.SENT, Reminder.Status.FAILED, Reminder.Status.MISSED_SEND]
        )


class Reminder(models.Model):
    """One reminder (an email or a push notification) for one patient's local date. The
    database, not Redis, is the source of truth: a row is created when it falls due,
    claimed by one worker with a conditional UPDATE, and a lease that runs out hands it
    back to the sweeper. Email and push have a row each, so each is sent exactly once."""

    class Kind(models.TextChoices):
        FIRST = "first", "Reminder"
        NUDGE = "nudge", "Second reminder"
        SNOOZE1 = "snooze1", "First snooze"
        SNOOZE2 = "snooze2", "Second snooze"
        REPEAT1 = "repeat1", "First repeat"
        REPEAT2 = "repeat2", "Second repeat"
        REPEAT3 = "repeat3", "Third repeat"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        PUSH = "push", "Notification"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Could not be delivered"
        MISSED_SEND = "missed_send", "Not sent: it would have been more than 2 hours late"
        CANCELLED = "cancelled", "Not needed"

    # No index of its own: the unique constraint's index starts with the patient, and every
    # index is written again on each of a row's three status changes.
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="reminders",
        db_index=False,
    )
    local_date = models.DateField(help_text="The patient's local date of the dose.")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.FIRST)
    # Rows written before push existed, and bulk loads, are email.
    channel = models.CharField(
        max_length=5, choices=Channel.choices, default=Channel.EMAIL, db_default=Channel.EMAIL
    )
    due_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Who is responsible for the row until when: the queued task while pending (the token
    # is then the tick's that inserted it), the worker while sending. When it runs out the
    # sweeper enqueues the row again.
    lease_token = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # An SMTP code and a plain explanation; never health data.
    detail = models.CharField(max_length=200, blank=True)
    # The email's links name the row by this random key alone (tokens.py).
    link_key = models.CharField(max_length=24, default=new_link_key, editable=False)
    link_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ["-due_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "local_date", "kind", "channel"],
                name="one_reminder_per_kind_and_channel_per_night",
            ),
            # A constraint rather than unique=True: no second (LIKE) index on PostgreSQL.
            models.UniqueConstraint(fields=["link_key"], name="reminder_link_key_unique"),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="reminder_status_due"),
            # Nudges: first reminders sent 90 minutes before the tick's window (selectors).
            models.Index(
                fields=["sent_at"],
                condition=models.Q(kind="first", status="sent"),
                name="reminder_first_sent",
            ),
            # Repeats every 30 minutes: the previous one sent 30 minutes before the window.
            models.Index(
                fields=["sent_at"],
                condition=models.Q(kind__in=["repeat1", "repeat2"], status="sent"),
                name="reminder_repeat_sent",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.patient_id} on {self.local_date}"

    @property
    def message_id(self):
        """Stable per row, so a resend after an ambiguous failure is recognisable."""
        return (
            f"<reminder-{self.pk}-{self.local_date:%Y%m%d}@{settings.REMINDER_MESSAGE_ID_DOMAIN}>"
        )

    def next_repeat_kind(self):
        return {
            self.Kind.FIRST: self.Kind.REPEAT1,
            self.Kind.REPEAT1: self.Kind.REPEAT2,
            self.Kind.REPEAT2: self.Kind.REPEAT3,
        }.get(self.kind)

    def next_snooze_kind(self):
        return {
            self.Kind.FIRST: self.Kind.SNOOZE1,
            self.Kind.NUDGE: self.Kind.SNOOZE1,
            self.Kind.REPEAT1: self.Kind.SNOOZE1,
            self.Kind.REPEAT2: self.Kind.SNOOZE1,
            self.Kind.REPEAT3: self.Kind.SNOOZE1,
            self.Kind.SNOOZE1: self.Kind.SNOOZE2,
        }.get(self.kind)


class PushSubscription(models.Model):
    """One browser on one of the patient's devices that agreed to show notifications. The
    push service names it by its endpoint; a 404 or 410 from there means it is gone."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=1000)
    # The browser's keys for the payload's encryption (RFC 8291), base64url as it gives them.
    p256dh = models.CharField(max_length=100)
    auth = models.CharField(max_length=40)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint"], name="push_subscription_endpoint_unique")
        ]

    def __str__(self):
        return f"{self.label or 'A device'} of {self.patient_id}"

    def subscription_info(self) -> dict:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


class SweepMark(models.Model):
    """How far the tick has created first reminders and nudges. One row. The mark moves
    only once a window's rows are all committed, and only forward, so a tick that dies
    halfway leaves its window to the next one.

    A tick claims the window with a conditional UPDATE of this row (a lease, renewed after
    each chunk), so a second beat at the same time skips the window instead of doing it
    twice. A tick that dies holding the claim frees it when the lease runs out. Even two
    ticks doing one window would each keep only the rows they inserted (the unique
    constraint), and enqueue only those.
    """

    covered_until = models.DateTimeField()
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    CLAIM_FOR = dt.timedelta(minutes=2)

    def __str__(self):
        return f"Reminders covered until {self.covered_until:%Y-%m-%d %H:%M:%S}"

    @classmethod
    @contextlib.contextmanager
    def window_claim(cls, now: dt.datetime, *, longest: dt.timedelta):
        """The start of the window (covered_until, now] this tick owns while in the block,
        with a `renew()` to call as it goes, or (None, None) if another tick is working on
        one or there is nothing to do."""
        cls.objects.get_or_create(pk=1, defaults={"covered_until": now - dt.timedelta(minutes=1)})
        token = uuid.uuid4()
        if not cls._claim(token):
            yield None, None
            return
        try:
            mark = cls.objects.get(pk=1)
            start = max(mark.covered_until, now - longest)
            yield (start, lambda: cls._claim(token)) if start < now else (None, None)
        finally:
            # If the database is gone the claim runs out on its own.
            with contextlib.suppress(DatabaseError):
                cls.objects.filter(pk=1, claim_token=token).update(
                    claim_token=None, claimed_until=None
                )

    @classmethod
    def _claim(cls, token: uuid.UUID) -> bool:
        """Take the claim if it is free (or run out), or renew our own."""
        clock = timezone.now()  # a lease on a process's life: real time, not the window's
        free = (
            models.Q(claimed_until__isnull=True)
            | models.Q(claimed_until__lt=clock)
            | models.Q(claim_token=token)
        )
        claimed = cls.objects.filter(free, pk=1).update(
            claim_token=token, claimed_until=clock + cls.CLAIM_FOR
        )
        return claimed == 1

    @classmethod
    def window_done(cls, now: dt.datetime) -> None:
        """Every row due up to `now` is committed. Only forward: a slower tick finishing
        after a later one never moves the mark back."""
        cls.objects.filter(pk=1, covered_until__lt=now).update(covered_until=now)
