import datetime as dt

from django.conf import settings
from django.db import connection, models
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

    def __str__(self):
        return f"Reminder settings of {self.patient}"


def reminder_zone_name(*, profile_time_zone: str, travel: str, home_time_zone: str) -> str:
    """On home time the reminder keeps the home clock while the profile follows the traveller."""
    if travel == ReminderSettings.Travel.HOME and home_time_zone:
        return home_time_zone
    return profile_time_zone or "UTC"


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
        it, hundreds of times a second at the peak)."""
        field = self.model._meta.get_field
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE reminders_reminder SET status = %s, detail = %s, lease_token = NULL, "
                "lease_until = NULL, sent_at = COALESCE(%s, sent_at) "
                "WHERE id = %s AND lease_token = %s",
                [
                    status,
                    detail,
                    field("sent_at").get_db_prep_value(sent_at, connection),
                    pk,
                    field("lease_token").get_db_prep_value(lease_token, connection),
                ],
            )
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

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders"
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
        indexes = [models.Index(fields=["status", "due_at"], name="reminder_status_due")]

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
    """How far the tick has created first reminders and nudges. One row. A tick claims the
    window (covered_until, now] with a conditional UPDATE, so two beats running at once
    never both do the work (and the unique row would make it harmless if they did)."""

    covered_until = models.DateTimeField()

    def __str__(self):
        return f"Reminders covered until {self.covered_until:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def window_claim(cls, now: dt.datetime, *, longest: dt.timedelta) -> dt.datetime | None:
        """The start of the window this tick owns, or None if another tick took it."""
        mark, _ = cls.objects.get_or_create(
            pk=1, defaults={"covered_until": now - dt.timedelta(minutes=1)}
        )
        start = max(mark.covered_until, now - longest)
        if start >= now:
            return None
        claimed = cls.objects.filter(pk=1, covered_until=mark.covered_until).update(
            covered_until=now
        )
        return start if claimed == 1 else None
