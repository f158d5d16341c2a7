from django import forms

from . import questionnaires as q
from .models import FACTORS, RATINGS, SIDE_EFFECTS, Severity

RATING_CHOICES = [(str(n), str(n)) for n in range(11)]
SEVERITY_CHOICES = [(str(level.value), level.label) for level in Severity]


class DiaryForm(forms.Form):
    """A day's diary. Every field is optional: a partial day is still worth keeping."""

    def __init__(self, *args, short=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.short = short
        for name, (label, period, low, high, higher_is_better) in RATINGS.items():
            if short and name not in ("pain", "sleep"):
                continue
            self.fields[name] = forms.TypedChoiceField(
                label=f"{label} ({period})",
                choices=RATING_CHOICES,
                coerce=int,
                required=False,
                empty_value=None,
                widget=forms.RadioSelect(attrs={"class": "btn-check"}),
                error_messages={"invalid_choice": "Choose a number from 0 to 10."},
            )
            self.fields[name].anchors = (low, high)
            self.fields[name].higher_is_better = higher_is_better
        self.fields["no_side_effects"] = forms.BooleanField(
            label="No side effects today", required=False
        )
        for name, label in SIDE_EFFECTS.items():
            self.fields[name] = forms.TypedChoiceField(
                label=label,
                choices=SEVERITY_CHOICES,
                coerce=int,
                required=False,
                empty_value=None,
                widget=forms.RadioSelect(attrs={"class": "btn-check"}),
                error_messages={"invalid_choice": "Choose none, mild, moderate or severe."},
            )
        self.fields["other_text"] = forms.CharField(
            label="Something else: what was it?",
            max_length=200,
            required=False,
            error_messages={"max_length": "Please keep this under 200 characters."},
        )
        if not short:
            for name, label in FACTORS.items():
                self.fields[name] = forms.BooleanField(label=label, required=False)
            self.fields["notes"] = forms.CharField(
                label="Notes (optional)",
                max_length=2000,
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                error_messages={"max_length": "Please keep notes under 2000 characters."},
            )
            self.fields["share_notes"] = forms.BooleanField(
                label="Share these notes with my clinician", required=False
            )

    def rating_fields(self):
        return [self[name] for name in RATINGS if name in self.fields]

    def side_effect_fields(self):
        return [self[name] for name in SIDE_EFFECTS]

    def factor_fields(self):
        return [self[name] for name in FACTORS if name in self.fields]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("no_side_effects"):
            reported = [name for name in SIDE_EFFECTS if (cleaned.get(name) or 0) > Severity.NONE]
            if reported:
                self.add_error(
                    "no_side_effects",
                    "You ticked 'no side effects' but also chose one. Please untick one of them.",
                )
            else:
                for name in SIDE_EFFECTS:
                    cleaned[name] = Severity.NONE
        if (cleaned.get("other") or 0) > Severity.NONE and not cleaned.get("other_text"):
            self.add_error("other_text", "Please say what the other side effect was.")
        return cleaned

    def entry_values(self):
        """The cleaned values that belong on the diary entry (not the form-only helpers)."""
        return {
            name: value for name, value in self.cleaned_data.items() if name != "no_side_effects"
        }


class FiqrForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        sections = [
            ("function", q.FIQR_FUNCTION, "Very easy", "Very difficult"),
            ("overall", q.FIQR_OVERALL, "Never", "Always"),
        ]
        for section, items, low, high in sections:
            for key, label in items:
                self._add(key, label, section, low, high)
        for key, label, low, high in q.FIQR_SYMPTOMS:
            self._add(key, label, "symptoms", low, high)

    def _add(self, key, label, section, low, high):
        field = forms.TypedChoiceField(
            label=label,
            choices=RATING_CHOICES,
            coerce=int,
            widget=forms.RadioSelect(attrs={"class": "btn-check"}),
            error_messages={
                "required": "Please choose a number from 0 to 10.",
                "invalid_choice": "Choose a number from 0 to 10.",
            },
        )
        field.anchors = (low, high)
        field.section = section
        self.fields[key] = field

    def section(self, name):
        return [self[key] for key, field in self.fields.items() if field.section == name]

    def function_fields(self):
        return self.section("function")

    def overall_fields(self):
        return self.section("overall")

    def symptom_fields(self):
        return self.section("symptoms")


class PgicForm(forms.Form):
    pgic = forms.TypedChoiceField(
        label="Since you started LDN, how would you describe any change in your activity, "
        "symptoms, emotions and overall quality of life related to your fibromyalgia?",
        choices=[(str(value), text) for value, text in q.PGIC_CHOICES],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Please choose the answer closest to how you feel.",
            "invalid_choice": "Please choose one of the answers.",
        },
    )


class ReportPeriodForm(forms.Form):
    start = forms.DateField(
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "Please choose the first day of the report.",
            "invalid": "Please enter a date like 2026-11-01.",
        },
    )
    end = forms.DateField(
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "Please choose the last day of the report.",
            "invalid": "Please enter a date like 2026-11-30.",
        },
    )

    def __init__(self, *args, today, earliest, **kwargs):
        super().__init__(*args, **kwargs)
        self.today, self.earliest = today, earliest

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if start > end:
                self.add_error("end", "The end date must be after the start date.")
            if end > self.today:
                self.add_error("end", "The report can't include days that haven't happened yet.")
            elif end < self.earliest:
                # Moving the start up to the earliest day would leave a period that ends
                # before it begins (and a year-1 date breaks the date arithmetic).
                self.add_error(
                    "end",
                    f"Your records start on {self.earliest:%-d %B %Y}. "
                    "Please choose an end date after that.",
                )
            if start < self.earliest:
                cleaned["start"] = self.earliest
        return cleaned
