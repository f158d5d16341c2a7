import datetime as dt

from django import forms

from .models import DoseLog
from .services import allowed_log_dates


class SkipForm(forms.Form):
    reason = forms.CharField(
        label="Why are you skipping tonight? (optional)",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"max_length": "Please keep the reason under 200 characters."},
    )


class LateDoseForm(forms.Form):
    """Log a dose for one of the two days before today."""

    day = forms.TypedChoiceField(
        label="Which day?",
        coerce=dt.date.fromisoformat,
        widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": "You can log a dose for today or the 2 days before, not other dates."
        },
    )
    status = forms.ChoiceField(
        label="Did you take it?",
        choices=[
            (DoseLog.Status.TAKEN, "Yes, I took it"),
            (DoseLog.Status.SKIPPED, "No, I skipped it"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether you took it or skipped it."},
    )

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["day"].choices = [
            (d.isoformat(), d.strftime("%A %-d %B") + (" (today)" if d == today else ""))
            for d in allowed_log_dates(today)
        ]
