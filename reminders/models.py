import datetime as dt

from django.conf import settings
from django.db import models

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
