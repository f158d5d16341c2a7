import base64
import binascii

from django import forms
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import validate_time_zone

from .models import ReminderSettings


class ReminderSettingsForm(forms.Form):
    reminders_enabled = forms.BooleanField(label="Send me a reminder for each dose", required=False)
    repeat = forms.ChoiceField(
        label="Until I log my dose, remind me",
        choices=ReminderSettings.Repeat.choices,
        widget=forms.RadioSelect,
        help_text="Repeats stop as soon as your dose is logged, on any device.",
        error_messages={"required": "Please choose how often to remind you."},
    )
    channel = forms.ChoiceField(
        label="Remind me by",
        choices=ReminderSettings.Channel.choices,
        widget=forms.RadioSelect,
        help_text=(
            "A notification needs this app allowed to notify you on a device (below). "
            "Without a device, reminders come by email."
        ),
        error_messages={"required": "Please choose how to remind you."},
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

    def __init__(self, *args, push_available: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not push_available:  # no VAPID keys on this server: email is the only way
            del self.fields["channel"]
        self.fields["travel"].help_text = format_html(
            'Follow where I am: reminders use the time zone in <a href="{}">your profile</a>, '
            "so change it when you arrive. Stay on home time: reminders keep your home clock.",
            reverse("profile"),
        )

    def clean_home_time_zone(self):
        return self.cleaned_data["home_time_zone"].strip()

    def clean(self):
        cleaned = super().clean()
        cleaned.setdefault("channel", ReminderSettings.Channel.EMAIL)
        return cleaned


class PushSubscriptionForm(forms.Form):
    """What a browser's PushManager.subscribe() gives, as the page posts it."""

    endpoint = forms.URLField(max_length=1000, assume_scheme="https")
    p256dh = forms.CharField(max_length=100)
    auth = forms.CharField(max_length=40)
    label = forms.CharField(max_length=100, required=False)

    def clean_endpoint(self):
        endpoint = self.cleaned_data["endpoint"]
        if not endpoint.startswith("https://"):
            raise forms.ValidationError("A push service address must use https.")
        return endpoint

    def _key(self, name, length):
        value = self.cleaned_data[name]
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (ValueError, binascii.Error):
            raw = b""
        if len(raw) != length:
            raise forms.ValidationError("This browser sent a key we can't use. Try again.")
        return value

    def clean_p256dh(self):
        return self._key("p256dh", 65)  # an uncompressed P-256 point

    def clean_auth(self):
        return self._key("auth", 16)


class ConfirmForm(forms.Form):
    """A POST with nothing to fill in: the one button on a confirmation page."""
