from django import forms

from accounts.models import validate_time_zone

from .models import ReminderSettings


class ReminderSettingsForm(forms.Form):
    reminders_enabled = forms.BooleanField(label="Send me a reminder for each dose", required=False)
    reminder_time = forms.TimeField(
        label="Reminder time",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={
            "required": "Please choose a time for your reminder.",
            "invalid": "Please enter a time like 21:30.",
        },
    )
    nudge_enabled = forms.BooleanField(
        label="Remind me again if I haven't logged my dose 90 minutes later", required=False
    )
    travel = forms.ChoiceField(
        label="When you travel",
        choices=ReminderSettings.Travel.choices,
        widget=forms.RadioSelect,
        help_text=(
            "Follow where I am: reminders use the time zone in your profile, so change it "
            "when you arrive. Stay on home time: reminders keep your home clock."
        ),
        error_messages={"required": "Please choose how reminders work when you travel."},
    )
    home_time_zone = forms.CharField(
        label="Home time zone",
        max_length=64,
        required=False,
        validators=[validate_time_zone],
        help_text="Only used if you stay on home time. Leave empty to keep your current one.",
    )

    def clean_home_time_zone(self):
        return self.cleaned_data["home_time_zone"].strip()
