import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from accounts.models import PatientProfile

from . import schedule as engine
from .safety import open_opioid_report


class SafetyScreeningQuerySet(models.QuerySet):
    def open_report(self, patient):
        """The opioid report that still blocks this patient's plan, or None, and whether the
        patient may lift it themselves (no linked clinician)."""
        screenings = list(self.filter(patient=patient).order_by("created_at", "id"))
        report = open_opioid_report(screenings, patient_may_clear=False)
        if report is None:
            return None, True
        may_clear = self.patient_may_clear(patient)
        if may_clear:
            report = open_opioid_report(screenings, patient_may_clear=True)
        return report, may_clear

    def plan_blocked(self, patient) -> bool:
        """The one answer to "does an opioid report block this patient's plan?"."""
        return self.open_report(patient)[0] is not None

    def patient_may_clear(self, patient) -> bool:
        """Only a patient with no linked clinician may lift an opioid report themselves."""
        return not PatientProfile.objects.filter(user=patient, care_team_linked=True).exists()

    def blocked_among(self, patient_ids) -> set:
        reported = self.filter(patient_id__in=patient_ids, opioid_use=True).values("patient_id")
        by_patient = {}
        for screening in self.filter(patient_id__in=reported).order_by("created_at", "id"):
            by_patient.setdefault(screening.patient_id, []).append(screening)
        linked = set(
            PatientProfile.objects.filter(
                user_id__in=by_patient, care_team_linked=True
            ).values_list("user_id", flat=True)
        )
        return {
            pk
            for pk, rows in by_patient.items()
            if open_opioid_report(rows, patient_may_clear=pk not in linked) is not None
        }


class SafetyScreening(models.Model):
    """Answers to the safety screen (DOMAIN.md, safety gates). Every answer set is kept."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="safety_screenings"
    )
    opioid_use = models.BooleanField(
        "I take an opioid painkiller (including tramadol or codeine) or am coming off one"
    )
    alcohol = models.BooleanField("I drink alcohol")
    liver_medications = models.BooleanField(
        "I take a medicine processed by the liver, such as warfarin or diazepam"
    )
    liver_disease = models.BooleanField("I have liver disease")
    opioid_free_confirmed = models.BooleanField(
        "I have taken no opioid in the last 7 days (10 days for methadone or buprenorphine), "
        "and my prescriber knows",
        default=False,
    )
    # A linked clinician lifted the block of an opioid report.
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = SafetyScreeningQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"

    def __str__(self):
        return f"Safety screen for {self.patient} at {self.created_at:%Y-%m-%d}"

    @property
    def blocks_plan(self):
        # This answer reports opioid use (whether the plan is blocked is
        # `SafetyScreening.objects.plan_blocked`, which also reads the clearances).
        return self.opioid_use

    @property
    def needs_prescriber_discussion(self):
        return self.liver_medications or self.liver_disease


class PlanQuerySet(models.QuerySet):
    def for_patient(self, patient):
        return self.filter(patient=patient)

    def current_for(self, patient):
        """The patient's current plan: the newest (a change stops the old one)."""
        return self.filter(patient=patient).order_by(*Plan._meta.ordering).first()


class Plan(models.Model):
    """A prescriber's titration plan. Its state on any day is derived from its events."""

    class Protocol(models.TextChoices):
        STANDARD = "standard", "Standard (1.5 → 3.0 → 4.5 mg over 3 weeks)"
        GENTLE = "gentle", "Gentle (reaches the target in week 4)"
        SENSITIVE = "sensitive", "Sensitive (0.5 mg steps, liquid)"
        CUSTOM = "custom", "Custom (set by your clinician)"

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plans"
    )
    protocol = models.CharField(max_length=16, choices=Protocol.choices, default="standard")
    target_mg = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=engine.DEFAULT_TARGET_MG,
        validators=[MinValueValidator(engine.MIN_DOSE_MG), MaxValueValidator(engine.MAX_DOSE_MG)],
    )
    start_date = models.DateField()
    custom_steps = models.JSONField(default=list, blank=True)
    # The step the plan starts on (a changed plan keeps the steps below the current dose).
    start_step = models.PositiveSmallIntegerField(default=0)
    # A plan begun before the patient joined: the day they joined. Due days before it with
    # nothing logged are unknown to the app (it could record only two past days), so they
    # count as neither missed nor taken.
    tracked_from = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(target_mg__gte=Decimal("0.5"))
                & models.Q(target_mg__lte=Decimal("6.0")),
                name="plan_target_within_ldn_range",
            )
        ]

    def __str__(self):
        return f"{self.get_protocol_display()} plan for {self.patient} from {self.start_date}"

    def get_absolute_url(self):
        return reverse("today")

    def steps(self):
        custom = [
            engine.Step(Decimal(str(s["dose_mg"])), s.get("min_days")) for s in self.custom_steps
        ]
        return engine.protocol_steps(self.protocol, self.target_mg, custom)

    def spec(self, events=None, *, worst_side_effect_by_day=None, logged=None, as_of=None):
        """The plain-value plan the schedule engine reads. Pass events to save a query.

        Without the tolerance inputs this is the plan as written; `selectors.record_of` adds
        the diary, and the dose decision the dose log, so the clinic's hold rules apply.
        """
        if events is None:
            events = self.events.all()
        return engine.PlanSpec(
            start_date=self.start_date,
            steps=self.steps(),
            events=tuple(e.as_engine_event() for e in events if e.changes_schedule),
            worst_side_effect_by_day=worst_side_effect_by_day or {},
            logged=logged or {},
            as_of=as_of,
            start_index=self.start_step,
            counted_from=self.tracked_from,
        )

    def planned_dose_on(self, day: dt.date) -> engine.DayDose:
        """The plan as written, without the tolerance rules or the dose log: for checking
        a change against the plan, never for telling anyone what to take (the dose
        decision, titration.decision, does that)."""
        return engine.dose_on(self.spec(), day)


class PlanEvent(models.Model):
    """Append-only history of a plan: who changed what, when and why."""

    class Kind(models.TextChoices):
        START = "start", "Plan started"
        HOLD = "hold", "Dose held"
        RELEASE = "release", "Hold ended"
        STEP_UP = "step_up", "Stepped up"
        STEP_BACK = "step_back", "Stepped back"
        PAUSE = "pause", "Paused"
        RESUME = "resume", "Resumed"
        STOP = "stop", "Stopped"
        DOSE_TIME = "dose_time", "Dose time changed"
        # Decisions that change nothing in the schedule but are part of the story.
        KEEP_DOSE = "keep_dose", "Kept this dose after side effects"
        KEEP_TIME = "keep_time", "Kept the dose time"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    effective_date = models.DateField()
    days = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    automatic = models.BooleanField(default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who recorded it; empty for the app's own automatic events.",
    )
    # The offer or form this event answers: a repeated confirm (double tap, two tabs, a
    # resent form) meets the constraint instead of recording a second event.
    confirmation_key = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["effective_date", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "confirmation_key"],
                condition=~models.Q(confirmation_key=""),
                name="one_event_per_confirmation",
            )
        ]

    def __str__(self):
        return f"{self.kind} on {self.effective_date}"

    @property
    def changes_schedule(self):
        return self.kind in ENGINE_EVENT_KINDS

    def as_engine_event(self):
        return engine.Event(self.effective_date, engine.EventKind(self.kind), self.days)

    @property
    def reason_shown(self) -> str:
        """The reason, unless it only repeats the kind ("Plan started: Plan started")."""
        if self.reason.strip().lower() == self.get_kind_display().lower():
            return ""
        return self.reason


ENGINE_EVENT_KINDS = frozenset(kind.value for kind in engine.EventKind)


class DoseLogQuerySet(models.QuerySet):
    def taken(self):
        return self.filter(status=DoseLog.Status.TAKEN)


class DoseLog(models.Model):
    """One logged dose (taken or skipped) for one of the patient's local dates."""

    class Status(models.TextChoices):
        TAKEN = "taken", "Taken"
        SKIPPED = "skipped", "Skipped"

    class Source(models.TextChoices):
        APP = "app", "App"
        EMAIL = "email", "Email link"
        PUSH = "push", "Notification"
        DEMO = "demo", "Demo data"
        # Taken or missed before the patient joined, on their word, at onboarding.
        REPORTED = "reported", "Reported by the patient when joining"

    # No index of its own: the one-per-day constraint's index (patient, date) serves every
    # lookup by patient, in date order, and each dose saved updates one index fewer.
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="dose_logs",
        db_index=False,
    )
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="dose_logs")
    date = models.DateField(help_text="The patient's local date the dose was due.")
    status = models.CharField(max_length=8, choices=Status.choices)
    dose_mg = models.DecimalField(max_digits=4, decimal_places=2)
    skip_reason = models.CharField(max_length=200, blank=True)
    is_late_entry = models.BooleanField(default=False)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.APP)
    logged_at = models.DateTimeField()
    # When the dose was taken (now, or the earlier time the patient stated); empty for a
    # skip. The spacing rule reads it: two taken doses are never less than 6 hours apart.
    taken_at = models.DateTimeField(null=True, blank=True)
    # The id the patient's device gave a press made offline: its queue sent again (a
    # replay, a second tab) finds the dose already recorded instead of recording another.
    client_id = models.UUIDField(null=True, blank=True, editable=False)

    objects = DoseLogQuerySet.as_manager()

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "date"], name="one_dose_log_per_local_day"),
            models.UniqueConstraint(fields=["client_id"], name="dose_log_client_id_unique"),
        ]

    def __str__(self):
        return f"{self.patient} {self.date} {self.status}"

    @property
    def is_reported_when_joining(self):
        return self.source == self.Source.REPORTED


class SupplyEntry(models.Model):
    """A refill received, or a count of what is on hand. What is left is derived from these
    and the doses logged since, never stored."""

    class Kind(models.TextChoices):
        REFILL = "refill", "Refill received"
        COUNT = "count", "Counted what I have"

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supply_entries"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    received_on = models.DateField()
    amount = models.DecimalField(
        max_digits=7,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Capsules, or mL of liquid.",
    )
    capsule_strength_mg = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.25")), MaxValueValidator(engine.MAX_DOSE_MG)],
    )
    concentration_mg_per_ml = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    discard_on = models.DateField(null=True, blank=True, help_text="Liquid: from the label.")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="supply_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(capsule_strength_mg__isnull=False)
                | models.Q(concentration_mg_per_ml__isnull=False),
                name="supply_has_strength_or_concentration",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount} on {self.received_on}"

    @property
    def is_liquid(self):
        return self.concentration_mg_per_ml is not None
