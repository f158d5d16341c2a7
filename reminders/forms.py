from django import forms
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import validate_time_zone

from .models import ReminderSettings


class ReminderSettingsForm(forms.Form):
    reminders_enabled = forms.BooleanField(label="Send me a reminder for each dose", required=False)
    nudge_enabled = forms.BooleanField(
        label="Remind me again if I haven't logged my dose 90 minutes later", required=False
    )
    travel = forms.ChoiceField(
        label="When you travel",
        choices=ReminderSettings.Travel.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Please choose how reminders work when you travel."},
    )
    home_time_zone = forms.CharField(
        label="Home time zone",
        max_length=64,
        required=False,
        validators=[validate_time_zone],
        help_text="Only used if you stay on home time. Leave empty to keep your current one.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["travel"].help_text = format_html(
            'Follow where I am: reminders use the time zone in <a href="{}">your profile</a>, '
            "so change it when you arrive. Stay on home time: reminders keep your home clock.",
            reverse("profile"),
        )

    def clean_home_time_zone(self):
        return self.cleaned_data["home_time_zone"].strip()
