from django import forms

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
            reported = [
                name for name in SIDE_EFFECTS if (cleaned.get(name) or 0) > Severity.NONE
            ]
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
