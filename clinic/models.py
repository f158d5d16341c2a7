"""The clinician workspace: clinics and their clinicians, patients' consent, the audit log,
alerts, clinicians' notes, and each linked patient's panel row."""

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import PaperSize

from . import alert_rules

INVITE_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
INVITE_CODE_LENGTH = 8
CARE_INVITE_DAYS = 14
CLINICIAN_INVITE_DAYS = 7
NOTE_EDIT_WINDOW = dt.timedelta(hours=24)


def new_invite_code() -> str:
    return "".join(secrets.choice(INVITE_CODE_ALPHABET) for _ in range(INVITE_CODE_LENGTH))


def person_name(user) -> str:
    """How a person is named to others: their first name, or their address without it."""
    if user is None:
        return "Someone no longer registered"
    return user.first_name or user.email


def normalise_invite_code(raw: str) -> str:
    """What a person types ("k7mq-4xzp ") as it is stored ("K7MQ4XZP")."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())


class Clinic(models.Model):
    name = models.CharField(max_length=120)
    # The clinic's paper for the reports its clinicians print; empty: the patient's setting.
    paper_size = models.CharField(
        "paper size for printed reports", max_length=8, choices=PaperSize.choices, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ClinicianMembershipQuerySet(models.QuerySet):
    def approved(self):
        return self.filter(status=ClinicianMembership.Status.APPROVED)


class ClinicianMembership(models.Model):
    """A clinician's standing: approved by an administrator, and the clinic they work in."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved"
        SUSPENDED = "suspended", "Suspended"

    clinician = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clinician_membership"
    )
    clinic = models.ForeignKey(
        Clinic, on_delete=models.SET_NULL, null=True, blank=True, related_name="memberships"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    registration_number = models.CharField(
        "professional registration number", max_length=40, blank=True
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ClinicianMembershipQuerySet.as_manager()

    def __str__(self):
        return f"{self.clinician} ({self.get_status_display()})"

    @property
    def is_approved(self):
        return self.status == self.Status.APPROVED


class ClinicianInvite(models.Model):
    """An administrator's emailed invitation to a clinician. Only a hash of the token is kept:
    a copy of the database cannot be used to take the account."""

    email = models.EmailField()
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, null=True, blank=True, related_name="invites"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Invitation for {self.email}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def is_usable(self, now=None):
        return self.accepted_at is None and (now or timezone.now()) < self.expires_at


class CareLinkQuerySet(models.QuerySet):
    def active(self):
        return self.filter(accepted_at__isnull=False, revoked_at__isnull=True)

    def pending(self, now=None):
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now or timezone.now()
        )

    def reaching(self, clinician):
        """Links that reach this clinician: to them, or to the clinic they are approved in."""
        clinic_ids = ClinicianMembership.objects.approved().filter(
            clinician=clinician, clinic__isnull=False
        )
        return self.filter(
            models.Q(clinician=clinician) | models.Q(clinic__in=clinic_ids.values("clinic_id"))
        )


class CareLink(models.Model):
    """A patient's consent to share their record with one clinician or one clinic.

    A clinician creates it with a short code (read out in clinic, or emailed); the patient
    accepts it; either side's revocation ends it. The row is kept after revocation: it is the
    record of who could see what, and when.
    """

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="care_links",
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="patient_links",
    )
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, null=True, blank=True, related_name="patient_links"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    code = models.CharField(max_length=INVITE_CODE_LENGTH, unique=True)
    email = models.EmailField(blank=True, help_text="Where the invitation was emailed, if it was.")
    # The clinic's own record number for this patient, entered by a linked clinician: the
    # FHIR export carries it so the clinic's system can match the record.
    mrn = models.CharField("medical record number", max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = CareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(clinician__isnull=False, clinic__isnull=True)
                | models.Q(clinician__isnull=True, clinic__isnull=False),
                name="care_link_to_a_clinician_or_a_clinic",
            ),
            models.CheckConstraint(
                condition=models.Q(accepted_at__isnull=True) | models.Q(patient__isnull=False),
                name="care_link_accepted_has_patient",
            ),
            models.UniqueConstraint(
                fields=["patient", "clinician"],
                condition=models.Q(accepted_at__isnull=False, revoked_at__isnull=True),
                name="one_active_link_per_patient_clinician",
            ),
            models.UniqueConstraint(
                fields=["patient", "clinic"],
                condition=models.Q(accepted_at__isnull=False, revoked_at__isnull=True),
                name="one_active_link_per_patient_clinic",
            ),
        ]

    def __str__(self):
        return f"{self.patient or 'Invitation'} → {self.recipient_name}"

    @property
    def recipient_name(self):
        if self.clinic_id:
            return str(self.clinic)
        return person_name(self.clinician)

    @property
    def is_active(self):
        return self.accepted_at is not None and self.revoked_at is None

    def is_open(self, now=None):
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and (now or timezone.now()) < self.expires_at
        )

    @property
    def display_code(self):
        return f"{self.code[:4]}-{self.code[4:]}"


class AuditEventQuerySet(models.QuerySet):
    # Append-only: the app cannot change or remove what happened.
    def update(self, **kwargs):
        raise PermissionError("Audit events cannot be changed.")

    def delete(self):
        raise PermissionError("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    """Who did what with which patient's record, when, from where, and whether it was allowed.

    The actor and the patient are kept as plain ids without a database constraint, so an
    account's deletion neither removes nor rewrites the record of who looked at what.
    """

    class Action(models.TextChoices):
        PANEL = "panel", "Saw on the panel"
        PANEL_SEARCH = "panel_search", "Found by a search on the panel"
        VIEW = "view", "Opened the record"
        EXPORT_PDF = "export_pdf", "Downloaded the report (PDF)"
        EXPORT_CSV = "export_csv", "Downloaded the data (CSV)"
        EXPORT_FHIR = "export_fhir", "Downloaded the data (FHIR)"
        PLAN_CHANGE = "plan_change", "Changed the plan"
        NOTE = "note", "Wrote a note"
        ALERT_ACK = "alert_ack", "Acknowledged an alert"
        ALERT_SETTINGS = "alert_settings", "Changed alert settings"
        IDENTITY = "identity", "Entered the record number or date of birth"
        ADMIN_LIST = "admin_list", "Saw in a list on the admin site"
        ADMIN_VIEW = "admin_view", "Opened on the admin site"
        ADMIN_CHANGE = "admin_change", "Changed on the admin site"

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", "Allowed"
        DENIED = "denied", "Denied"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # The path alone: a query string can hold what someone typed (a name), and this row is
    # kept for good.
    path = models.CharField(max_length=300, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["patient", "-at"], name="audit_patient_at")]

    def __str__(self):
        return f"{self.actor_id} {self.action} {self.patient_id} {self.outcome} at {self.at}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events cannot be deleted.")


class AlertQuerySet(models.QuerySet):
    def open(self):
        return self.filter(acknowledged_at__isnull=True)


class Alert(models.Model):
    """A rule from DOMAIN.md that held for a patient. Open until a clinician acknowledges it."""

    # The rules and their urgencies live in alert_rules (pure); these mirror them for the ORM.
    Rule = models.TextChoices(
        "Rule", [(r.name, (r.value, alert_rules.RULE_LABELS[r])) for r in alert_rules.Rule]
    )
    Urgency = models.IntegerChoices(
        "Urgency", [(u.name, (u.value, u.name.title())) for u in alert_rules.Urgency]
    )

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clinic_alerts"
    )
    rule = models.CharField(max_length=32, choices=Rule.choices)
    urgency = models.PositiveSmallIntegerField(choices=Urgency.choices)
    episode = models.DateField(help_text="The patient-local date the condition began.")
    detail = models.CharField(max_length=200, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["acknowledged_at", "urgency", "opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "rule"],
                condition=models.Q(acknowledged_at__isnull=True),
                name="one_open_alert_per_rule_per_patient",
            ),
            models.UniqueConstraint(
                fields=["patient", "rule", "episode"], name="one_alert_per_rule_episode"
            ),
        ]
        indexes = [
            models.Index(
                fields=["patient", "urgency", "opened_at"],
                condition=models.Q(acknowledged_at__isnull=True),
                name="alert_open_by_patient",
            )
        ]

    def __str__(self):
        return f"{self.get_rule_display()} for {self.patient}"

    @property
    def is_open(self):
        return self.acknowledged_at is None

    @property
    def is_urgent(self):
        return self.urgency == alert_rules.Urgency.URGENT


class AlertAcknowledgement(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="acknowledgements")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"Acknowledged {self.alert} at {self.created_at}"


class ClinicianNote(models.Model):
    """Private to the care team, never shown to the patient; editable for 24 hours."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clinician_notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(max_length=4000)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Note on {self.patient} at {self.created_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self):
        return reverse("clinic:patient_detail", args=[self.patient_id]) + "#notes"

    def is_editable_by(self, user, now=None):
        # A clinical record must not be rewritten later: after a day a note is history.
        return self.author_id == user.pk and (now or timezone.now()) - self.created_at < (
            NOTE_EDIT_WINDOW
        )


class PatientSummary(models.Model):
    """One linked patient's row on the panel, derived from the plan, dose log and diary.

    Kept, not computed per page: the panel sorts and filters hundreds of patients by these
    figures, and the engine needs each patient's whole history to say where they are.
    Refreshed whenever the patient's data changes (`alerts_evaluate`) and once per
    patient-local day by the sweep; `as_of` is the local date it describes.
    """

    class StepStatus(models.TextChoices):
        ON_TRACK = "on_track", "On track"
        # The clinic rules held a step-up (side effects, missed doses): the clinician decides.
        HELD = "held", "Step-up held: needs your decision"
        ON_HOLD = "on_hold", "On hold, as asked"
        STEPPED_BACK = "stepped_back", "Stepped back"
        PAUSED = "paused", "Paused"
        STOPPED = "stopped", "Stopped"
        NOT_STARTED = "not_started", "Not started"
        NO_PLAN = "no_plan", "No plan"

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="clinic_summary",
    )
    as_of = models.DateField()
    refreshed_at = models.DateTimeField()
    plan_day = models.PositiveIntegerField(null=True)
    dose_mg = models.DecimalField(max_digits=4, decimal_places=2, null=True)
    step_status = models.CharField(max_length=16, choices=StepStatus.choices)
    adherence_7 = models.PositiveSmallIntegerField(null=True, help_text="Percent.")
    non_adherent = models.BooleanField(default=False)
    pain_baseline = models.FloatField(null=True)
    pain_current = models.FloatField(null=True)
    pain_change_percent = models.FloatField(null=True)
    response_band = models.CharField(max_length=16, blank=True)
    latest_side_effects = models.CharField(max_length=200, blank=True)
    last_activity_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name_plural = "patient summaries"

    def __str__(self):
        return f"Panel row for {self.patient_id} as of {self.as_of}"

    @property
    def pain_change_points(self):
        if self.pain_baseline is None or self.pain_current is None:
            return None
        return self.pain_current - self.pain_baseline


class AlertReviewQuerySet(models.QuerySet):
    def claim(self, patient_id: int, changed_at: dt.datetime) -> bool:
        """Take the patient's record change up to `changed_at` for evaluation. True for one
        caller only: a conditional UPDATE moves the mark forward, or the first insert makes
        it; a second worker meets the moved mark or the unique key and gets False."""
        moved = self.filter(patient_id=patient_id, record_seen_at__lt=changed_at).update(
            record_seen_at=changed_at
        )
        if moved:
            return True
        try:
            with transaction.atomic():
                self.create(patient_id=patient_id, record_seen_at=changed_at)
        except IntegrityError:
            return False  # seen already, or claimed by another worker just now
        return True


class AlertReview(models.Model):
    """How far the clinic side has looked at one patient's record.

    A dose, diary or plan save only marks the patient's profile (`record_changed_at`); the
    minute sweep evaluates the alerts of linked patients whose mark is newer than this one,
    so a patient's tap never waits for the panel's arithmetic.
    """

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="alert_review",
    )
    record_seen_at = models.DateTimeField()

    objects = AlertReviewQuerySet.as_manager()

    def __str__(self):
        return f"Alert review for patient {self.patient_id}"


def _within_bounds(name: str) -> models.Q:
    low, high = alert_rules.BOUNDS[name]
    return models.Q(**{f"{name}__isnull": True}) | models.Q(
        **{f"{name}__gte": low, f"{name}__lte": high}
    )


class AlertThresholds(models.Model):
    """A clinician's adjustments to one patient's alert rules (DOMAIN.md: defaults, adjustable
    per patient). An empty field keeps the default, so the row says only what was changed."""

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="alert_thresholds",
    )
    persistent_days = models.PositiveSmallIntegerField(null=True, blank=True)
    pain_points = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    pain_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    missed_in_a_row = models.PositiveSmallIntegerField(null=True, blank=True)
    quiet_days = models.PositiveSmallIntegerField(null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name_plural = "alert thresholds"
        constraints = [
            models.CheckConstraint(condition=_within_bounds(name), name=f"alert_{name}_in_bounds")
            for name in alert_rules.ADJUSTABLE
        ]

    def __str__(self):
        return f"Alert thresholds for {self.patient_id}"

    def adjusted(self) -> dict:
        """{threshold name: value} for the fields a clinician set."""
        values = {name: getattr(self, name) for name in alert_rules.ADJUSTABLE}
        return {name: value for name, value in values.items() if value is not None}

    def thresholds(self) -> alert_rules.Thresholds:
        return alert_rules.thresholds_with(self.adjusted())
