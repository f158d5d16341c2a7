import contextlib
import datetime as dt

import psycopg
from django.conf import settings
from django.db import DatabaseError, connection, models
from django.utils import timezone

from accounts.models import validate_time_zone


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
    nudge_enabled = models.BooleanField(
        "Remind me again if I haven't logged my dose 90 minutes later", default=True
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


class ReminderQuerySet(models.QuerySet):
    def insert_missing(self, rows: list["Reminder"], *, lease_until) -> list[int]:
        """Insert the rows that do not exist yet; the unique constraint settles a race with
        another tick. Returns the ids of the pending rows inserted, already leased until
        `lease_until` so the caller can enqueue them at once.

        On PostgreSQL one INSERT ... SELECT FROM unnest() per chunk: at the evening peak this
        is 100,000 rows, and bulk_create spends most of its time preparing each field of
        each row in Python. Elsewhere bulk_create, and the rows are leased by the tick's
        usual pass over pending rows (so nothing is returned here).
        """
        if connection.vendor != "postgresql":
            self.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
            return []
        sql = (
            "INSERT INTO reminders_reminder (patient_id, local_date, kind, due_at, status, "
            "detail, lease_until, attempts, created_at) "
            "SELECT *, 0, %s FROM unnest(%s::bigint[], %s::date[], %s::varchar[], "
            "%s::timestamptz[], %s::varchar[], %s::varchar[], %s::timestamptz[]) "
            "ON CONFLICT DO NOTHING RETURNING id, status"
        )
        created_at = timezone.now()
        inserted = []
        with connection.cursor() as cursor:
            for start in range(0, len(rows), 10_000):
                chunk = rows[start : start + 10_000]
                pending = [row.status == Reminder.Status.PENDING for row in chunk]
                cursor.execute(
                    sql,
                    [
                        created_at,
                        [row.patient_id for row in chunk],
                        [row.local_date for row in chunk],
                        [row.kind for row in chunk],
                        [row.due_at for row in chunk],
                        [row.status for row in chunk],
                        [row.detail for row in chunk],
                        [lease_until if p else None for p in pending],
                    ],
                )
                inserted += [pk for pk, status in cursor.fetchall() if status == "pending"]
        return inserted

    def finish_leased(self, *, pk: int, lease_token, status: str, detail: str, sent_at=None) -> int:
        """Settle one row a worker holds: one short statement, as the worker commits it after
        every message (the ORM's update() costs more in Python than the database spends on
        it, hundreds of times a second at the peak).

        On PostgreSQL a prepared statement through psycopg's server-side binding: the same
        statement a few hundred times per batch is parsed and planned once, which halves
        what both ends spend on it.
        """
        field = self.model._meta.get_field
        sql = (
            "UPDATE reminders_reminder SET status = %s, detail = %s, lease_token = NULL, "
            "lease_until = NULL, sent_at = COALESCE(%s, sent_at) "
            "WHERE id = %s AND lease_token = %s"
        )
        params = [
            status,
            detail,
            field("sent_at").get_db_prep_value(sent_at, connection),
            pk,
            field("lease_token").get_db_prep_value(lease_token, connection),
        ]
        if connection.vendor == "postgresql":
            connection.ensure_connection()
            with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
                cursor.execute(sql, params, prepare=True)
                return cursor.rowcount
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

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
    """One reminder email for one patient's local date. The database, not Redis, is the
    source of truth: a row is created when it falls due, claimed by one worker with a
    conditional UPDATE, and a lease that runs out hands it back to the sweeper."""

    class Kind(models.TextChoices):
        FIRST = "first", "Reminder"
        NUDGE = "nudge", "Second reminder"
        SNOOZE1 = "snooze1", "First snooze"
        SNOOZE2 = "snooze2", "Second snooze"

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
    due_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Who is responsible for the row until when: the queued task while pending, the worker
    # while sending. When it runs out the sweeper enqueues the row again.
    lease_token = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # An SMTP code and a plain explanation; never health data.
    detail = models.CharField(max_length=200, blank=True)
    link_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ["-due_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "local_date", "kind"], name="one_reminder_per_kind_per_night"
            )
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="reminder_status_due"),
            # Nudges: first reminders sent 90 minutes before the tick's window (selectors).
            models.Index(
                fields=["sent_at"],
                condition=models.Q(kind="first", status="sent"),
                name="reminder_first_sent",
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

    def next_snooze_kind(self):
        return {
            self.Kind.FIRST: self.Kind.SNOOZE1,
            self.Kind.NUDGE: self.Kind.SNOOZE1,
            self.Kind.SNOOZE1: self.Kind.SNOOZE2,
        }.get(self.kind)


class SweepMark(models.Model):
    """How far the tick has created first reminders and nudges. One row. The mark moves
    only once a window's rows are all committed, and only forward, so a tick that dies
    halfway leaves its window to the next one."""

    covered_until = models.DateTimeField()

    # pg_try_advisory_lock's key for "a tick is creating rows" ("REMINDER" in ASCII).
    WINDOW_LOCK = 0x52454D494E444552

    def __str__(self):
        return f"Reminders covered until {self.covered_until:%Y-%m-%d %H:%M:%S}"

    @classmethod
    @contextlib.contextmanager
    def window_claim(cls, now: dt.datetime, *, longest: dt.timedelta):
        """The start of the window (covered_until, now] this tick owns while in the block,
        or None if another tick is working on one or there is nothing to do.

        On PostgreSQL the claim is a session advisory lock: a second beat at the same time
        skips the window instead of doing it twice, and a tick that dies (even killed, as
        its connection closes) frees it for the next at once. Elsewhere (SQLite, one
        process) there is no lock; two ticks at once would both do the window and the
        unique constraint would keep one row each.
        """
        with cls._window_lock() as held:
            if not held:
                yield None
                return
            mark, _ = cls.objects.get_or_create(
                pk=1, defaults={"covered_until": now - dt.timedelta(minutes=1)}
            )
            start = max(mark.covered_until, now - longest)
            yield start if start < now else None

    @classmethod
    def window_done(cls, now: dt.datetime) -> None:
        """Every row due up to `now` is committed. Only forward: a slower tick finishing
        after a later one never moves the mark back."""
        cls.objects.filter(pk=1, covered_until__lt=now).update(covered_until=now)

    @classmethod
    @contextlib.contextmanager
    def _window_lock(cls):
        if connection.vendor != "postgresql":
            yield True
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [cls.WINDOW_LOCK])
            held = cursor.fetchone()[0]
        try:
            yield held
        finally:
            if held:
                try:
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_unlock(%s)", [cls.WINDOW_LOCK])
                except DatabaseError:
                    # The session holds the lock until it ends: end it (a worker keeps its
                    # connection open between tasks).
                    if not connection.in_atomic_block:
                        connection.close()
