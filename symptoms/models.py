from dataclasses import dataclass

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

# 0-10 numeric rating scales (DOMAIN.md, daily diary). Higher is worse for pain, fatigue and
# fog; higher is better for sleep quality and mood.
RATINGS = {
    "pain": ("Pain", "average over the last 24 hours", "No pain", "Worst pain imaginable", False),
    "sleep": ("Sleep quality", "last night", "Worst possible sleep", "Best possible sleep", True),
    "fatigue": ("Fatigue", "today", "No tiredness", "Completely exhausted", False),
    "fog": ("Fibro fog", "today", "Clear head", "Severe fog", False),
    "mood": ("Mood", "today", "Very low", "Very good", True),
}

SIDE_EFFECTS = {
    "vivid_dreams": "Vivid dreams",
    "insomnia": "Trouble sleeping",
    "headache": "Headache",
    "nausea": "Nausea",
    "reduced_appetite": "Less appetite",
    "stomach": "Stomach pain or bowel change",
    "dizziness": "Dizziness",
    "anxiety": "Anxiety",
    "cramps": "Muscle cramps or joint pain",
    "other": "Something else",
}

FACTORS = {
    "alcohol": "Alcohol",
    "exercise": "Exercise",
    "stress": "Stress",
    "poor_sleep_environment": "Poor sleep environment",
    "menstruation": "Period",
    "weather": "Weather change",
}


class Severity(models.IntegerChoices):
    NONE = 0, "None"
    MILD = 1, "Mild"
    MODERATE = 2, "Moderate"
    SEVERE = 3, "Severe"


def _rating(label):
    return models.PositiveSmallIntegerField(
        label, null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )


def _severity(label):
    return models.PositiveSmallIntegerField(label, choices=Severity.choices, null=True, blank=True)


def _factor(label):
    return models.BooleanField(label, null=True, blank=True)


@dataclass(frozen=True)
class SideEffectDays:
    worst_by_day: dict  # {local date: worst side-effect severity that day, 0-3}
    sleep_days: frozenset  # dates with vivid dreams or trouble sleeping, mild or worse


class DiaryEntryQuerySet(models.QuerySet):
    def for_patient_between(self, patient, since, until):
        return self.filter(patient=patient, date__gte=since, date__lte=until)

    def with_side_effect_at_least(self, severity):
        condition = models.Q()
        for name in SIDE_EFFECTS:
            condition |= models.Q(**{f"{name}__gte": severity})
        return self.filter(condition)

    def side_effects_between(self, patient, since, until) -> "SideEffectDays":
        """The worst severity per day and the days with sleep side effects, in one query.

        Side effects are recorded only in the diary; this is the one way to read them."""
        return side_effect_days(side_effect_rows(patient, since, until))


class DiaryEntry(models.Model):
    """One patient's day: ratings, side effects, factors and notes. Any subset may be saved."""

    # No index of its own: the one-per-day constraint's index (patient, date) serves every
    # lookup by patient, in date order, and each save updates one index fewer.
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="diary_entries",
        db_index=False,
    )
    date = models.DateField(help_text="The patient's local date.")

    pain = _rating("pain")
    sleep = _rating("sleep quality")
    fatigue = _rating("fatigue")
    fog = _rating("fibro fog")
    mood = _rating("mood")

    vivid_dreams = _severity("vivid dreams")
    insomnia = _severity("trouble sleeping")
    headache = _severity("headache")
    nausea = _severity("nausea")
    reduced_appetite = _severity("less appetite")
    stomach = _severity("stomach pain or bowel change")
    dizziness = _severity("dizziness")
    anxiety = _severity("anxiety")
    cramps = _severity("muscle cramps or joint pain")
    other = _severity("something else")
    other_text = models.CharField("something else: what", max_length=200, blank=True)

    alcohol = _factor("alcohol")
    exercise = _factor("exercise")
    stress = _factor("stress")
    poor_sleep_environment = _factor("poor sleep environment")
    menstruation = _factor("period")
    weather = _factor("weather change")

    notes = models.TextField(blank=True, max_length=2000)
    share_notes = models.BooleanField("share these notes with my clinician", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    edited_after_day = models.BooleanField(default=False)

    objects = DiaryEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-date"]
        verbose_name_plural = "diary entries"
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "date"], name="one_diary_entry_per_local_day"
            ),
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{name}__isnull": True})
                    | models.Q(**{f"{name}__gte": 0, f"{name}__lte": 10}),
                    name=f"diary_{name}_0_to_10",
                )
                for name in RATINGS
            ],
        ]

    def __str__(self):
        return f"Diary of {self.patient} for {self.date}"

    def worst_side_effect(self):
        levels = [getattr(self, name) or 0 for name in SIDE_EFFECTS]
        return Severity(max(levels))

    def is_partial(self):
        return any(getattr(self, name) is None for name in RATINGS)


class QuestionnaireResponse(models.Model):
    """A completed FIQR or PGIC for one scheduled week of the plan."""

    class Kind(models.TextChoices):
        FIQR = "fiqr", "FIQR (fibromyalgia impact)"
        PGIC = "pgic", "How much have things changed (PGIC)"

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="questionnaires"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    week = models.PositiveSmallIntegerField(help_text="Plan week it was due (0, 4, 8, 12, 24...).")
    answers = models.JSONField()
    score = models.DecimalField(max_digits=4, decimal_places=1)
    completed_at = models.DateTimeField()

    class Meta:
        ordering = ["kind", "week"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "kind", "week"], name="one_questionnaire_per_scheduled_week"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} week {self.week} for {self.patient}"


def _none_if_null(name):
    return models.functions.Coalesce(name, models.Value(Severity.NONE))


def side_effect_rows(patient, since, until) -> models.QuerySet:
    """(date, worst side effect, worst sleep side effect) per diary day between the dates:
    the query behind `side_effects_between`."""
    return (
        DiaryEntry.objects.for_patient_between(patient, since, until)
        # The day's worst severity and its worst sleep side effect, worked out by the database
        # (an entry with none recorded counts as none).
        .annotate(
            worst_side_effect=models.functions.Greatest(
                *(_none_if_null(name) for name in SIDE_EFFECTS)
            ),
            worst_sleep_side_effect=models.functions.Greatest(
                _none_if_null("vivid_dreams"), _none_if_null("insomnia")
            ),
        )
        .values_list("date", "worst_side_effect", "worst_sleep_side_effect")
    )


def side_effect_days(rows) -> SideEffectDays:
    """`SideEffectDays` from `side_effect_rows`' rows."""
    return SideEffectDays(
        worst_by_day={day: worst for day, worst, _ in rows},
        sleep_days=frozenset(day for day, _, sleep in rows if sleep >= Severity.MILD),
    )
