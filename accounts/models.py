import datetime as dt
import functools
import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

# How long a patient has to change their mind after asking to delete their account.
DELETION_GRACE = dt.timedelta(days=7)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def deletion_due(self, now):
        """Accounts whose grace period is over and whose data is not yet erased."""
        return self.filter(deletion_requested_at__lte=now - DELETION_GRACE, deleted_at__isnull=True)

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("role", User.Role.ADMIN)
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Email is the login. The role decides which side of the app a person sees."""

    class Role(models.TextChoices):
        PATIENT = "patient", "Patient"
        CLINICIAN = "clinician", "Clinician"
        ADMIN = "admin", "Administrator"

    email = models.EmailField("email address", unique=True)
    first_name = models.CharField("first name", max_length=80, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PATIENT)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Account deletion (issue 7): asked for at, then erased after DELETION_GRACE. The erased
    # row stays, anonymised, as the record that a deletion happened.
    deletion_requested_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = "user"
        verbose_name_plural = "users"

    def __str__(self):
        return self.email

    @property
    def is_patient(self):
        return self.role == self.Role.PATIENT

    @property
    def is_clinician(self):
        return self.role == self.Role.CLINICIAN

    @property
    def record_id(self) -> str:
        """The app's identifier for a person, printed on reports: stable, and not the
        email (which changes and says more than it should on paper)."""
        return f"LDN-{self.pk:06d}"

    def get_short_name(self):
        return self.first_name or self.email.split("@")[0]

    @property
    def deletion_pending(self):
        return self.deletion_requested_at is not None and self.deleted_at is None

    @property
    def deletion_due_at(self):
        if self.deletion_requested_at is None:
            return None
        return self.deletion_requested_at + DELETION_GRACE


def validate_time_zone(value):
    if value not in available_time_zones():
        raise ValidationError(
            "We don't recognise that time zone. Pick one from the list, like Europe/London.",
            code="unknown_time_zone",
        )


@functools.cache
def available_time_zones():
    # Legacy aliases ("US/Eastern") are valid in zoneinfo but confusing in a list.
    # Cached: reading the zone database takes ~20 ms and one form save checks it three times;
    # it only changes with a tzdata upgrade, which means a restart anyway.
    return frozenset(
        name for name in zoneinfo.available_timezones() if "/" in name or name == "UTC"
    )


class PaperSize(models.TextChoices):
    A4 = "a4", "A4"
    LETTER = "letter", "US Letter"


class PatientProfileQuerySet(models.QuerySet):
    def record_changed_mark(self, patient, now=None):
        """Note that the patient's record changed, for the sweeps above to pick up."""
        return self.filter(user=patient).update(record_changed_at=now or timezone.now())


class PatientProfile(models.Model):
    """A patient's own settings: where they live in time and how they take LDN."""

    class DoseTime(models.TextChoices):
        BEDTIME = "bedtime", "At bedtime"
        MORNING = "morning", "In the morning"

    class Formulation(models.TextChoices):
        CAPSULE = "capsule", "Capsules"
        LIQUID = "liquid", "Liquid"

    DEFAULT_BEDTIME = dt.time(21, 30)
    DEFAULT_MORNING = dt.time(8, 0)

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])
    dose_time = models.CharField(max_length=8, choices=DoseTime.choices, blank=True)
    reminder_time = models.TimeField(null=True, blank=True)
    reminders_enabled = models.BooleanField(default=True)
    formulation = models.CharField(max_length=8, choices=Formulation.choices, blank=True)
    concentration_mg_per_ml = models.DecimalField(
        "concentration (mg per mL)", max_digits=5, decimal_places=2, null=True, blank=True
    )
    # Optional: lets a clinic match the record to its own (report, FHIR export).
    date_of_birth = models.DateField("date of birth", null=True, blank=True)
    paper_size = models.CharField(
        "paper size for printed reports",
        max_length=8,
        choices=PaperSize.choices,
        default=PaperSize.A4,
        db_default=PaperSize.A4,
    )
    onboarded_at = models.DateTimeField(null=True, blank=True)
    # Set by every save to the patient's record (a dose, the diary, the plan, the safety
    # screen): apps built on the record (the clinic's alerts) sweep for it instead of being
    # called from below.
    record_changed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Kept by the clinic app when a care link starts or ends: with a linked clinician, only
    # the clinician can lift an opioid block (DOMAIN.md, dose safety).
    care_team_linked = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientProfileQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(concentration_mg_per_ml__isnull=True)
                | models.Q(concentration_mg_per_ml__gt=0),
                name="profile_concentration_positive",
            )
        ]
        indexes = [
            # Beat's per-minute search for the patients whose reminder is due reads a range of
            # wall times per group of zones (reminders.selectors.first_reminder_candidates).
            models.Index(fields=["time_zone", "reminder_time"], name="reminders_profile_clock"),
        ]

    def __str__(self):
        return f"Profile of {self.user}"

    @property
    def zone(self):
        return zoneinfo.ZoneInfo(self.time_zone or "UTC")

    @property
    def is_liquid(self):
        return self.formulation == self.Formulation.LIQUID

    @property
    def dose_clock_time(self) -> dt.time:
        """The wall time the dose (and its reminder) is due: the time the patient chose, else
        the default for bedtime or morning dosing."""
        if self.reminder_time is not None:
            return self.reminder_time
        if self.dose_time == self.DoseTime.MORNING:
            return self.DEFAULT_MORNING
        return self.DEFAULT_BEDTIME

    def local_now(self, now=None):
        return (now or timezone.now()).astimezone(self.zone)

    def local_today(self, now=None):
        """The patient's calendar date, never the server's."""
        return self.local_now(now).date()
