import datetime as dt
from decimal import Decimal

from django import forms

from accounts.forms import SafetyForm

from .models import DoseLog


class SkipForm(forms.Form):
    def __init__(self, *args, morning=False, earlier=False, **kwargs):
        super().__init__(*args, **kwargs)
        if earlier:
            self.fields["reason"].label = "Why was it skipped? (optional)"
        elif morning:
            self.fields["reason"].label = "Why are you skipping today? (optional)"

    reason = forms.CharField(
        label="Why are you skipping tonight? (optional)",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"max_length": "Please keep the reason under 200 characters."},
    )


class LateDoseForm(forms.Form):
    """Record a missed dose: skipped, or taken at a time the patient states."""

    day = forms.TypedChoiceField(
        label="Which day's dose?",
        coerce=dt.date.fromisoformat,
        widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": "You can record a dose for today or the 2 days before, "
            "not other dates.",
            "required": "Choose which day's dose this is.",
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
    taken_at = forms.DateTimeField(
        label="When did you take it? (your local time)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={"invalid": "Enter the date and time you took it, like 2026-12-01 22:15."},
    )

    def __init__(self, *args, days: list[dt.date], today: dt.date, zone, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.fields["day"].choices = [
            (d.isoformat(), d.strftime("%A %-d %B") + (" (today)" if d == today else ""))
            for d in days
        ]

    def clean(self):
        data = super().clean()
        if data.get("status") == DoseLog.Status.TAKEN:
            taken_at = data.get("taken_at")
            if taken_at is None and "taken_at" not in self.errors:
                self.add_error("taken_at", "Enter the date and time you took it.")
            elif taken_at is not None:
                # Typed as the patient's wall time, in their zone (not the server's).
                data["taken_at"] = taken_at.replace(tzinfo=None).replace(tzinfo=self.zone)
        else:
            data["taken_at"] = None
        return data


class HoldForm(forms.Form):
    days = forms.TypedChoiceField(
        label="How long would you like to stay at this dose?",
        choices=[("3", "3 more days"), ("7", "A week"), ("14", "Two weeks")],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how long to stay at this dose."},
    )
    reason = forms.CharField(
        label="Why? (optional, your clinician will see it)",
        required=False,
        max_length=200,
        error_messages={"max_length": "Please keep the reason under 200 characters."},
    )


class SupplyForm(forms.Form):
    kind = forms.ChoiceField(
        label="What are you recording?",
        choices=[("refill", "A refill I received"), ("count", "What I have left right now")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a refill or a count."},
    )
    received_on = forms.DateField(
        label="Date",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": "Please enter the date.",
            "invalid": "Please enter a date like 2026-11-22.",
        },
    )
    amount = forms.DecimalField(
        label="How many capsules, or how many mL of liquid?",
        min_value=0,
        max_value=10000,
        decimal_places=1,
        max_digits=7,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
        error_messages={
            "required": "Please enter an amount.",
            "invalid": "Please enter a number, like 30 or 100.",
            "min_value": "The amount can't be negative.",
            "max_value": "That is more than any pharmacy supplies. Please check it.",
            "max_decimal_places": "Use at most one decimal place.",
            "max_digits": "That number is too long.",
        },
    )
    capsule_strength_mg = forms.DecimalField(
        label="Capsules: strength of one capsule (mg)",
        required=False,
        min_value=Decimal("0.25"),
        max_value=Decimal("6.0"),
        decimal_places=2,
        max_digits=4,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.25"}),
        error_messages={
            "invalid": "Please enter a number, like 1.5.",
            "min_value": "A capsule is at least 0.25 mg.",
            "max_value": "LDN capsules are at most 6.0 mg.",
            "max_decimal_places": "Use at most two decimal places.",
            "max_digits": "That number is too long.",
        },
    )
    concentration_mg_per_ml = forms.DecimalField(
        label="Liquid: strength on the label (mg per mL)",
        required=False,
        min_value=Decimal("0.01"),
        max_value=Decimal("50"),
        decimal_places=2,
        max_digits=5,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
        error_messages={
            "invalid": "Please enter a number, like 1 or 5.",
            "min_value": "The strength must be more than 0 mg per mL.",
            "max_value": "That is much stronger than LDN liquids. Please check the label.",
            "max_decimal_places": "Use at most two decimal places.",
            "max_digits": "That number is too long.",
        },
    )
    discard_on = forms.DateField(
        label="Liquid: discard date on the label",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Please enter a date like 2026-12-31."},
    )

    def __init__(self, *args, liquid: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.liquid = liquid
        if liquid:
            del self.fields["capsule_strength_mg"]
        else:
            del self.fields["concentration_mg_per_ml"]
            del self.fields["discard_on"]

    def clean(self):
        cleaned = super().clean()
        if (
            self.liquid
            and not cleaned.get("concentration_mg_per_ml")
            and "concentration_mg_per_ml" not in self.errors
        ):
            self.add_error("concentration_mg_per_ml", "Please enter the strength from the label.")
        if (
            not self.liquid
            and not cleaned.get("capsule_strength_mg")
            and "capsule_strength_mg" not in self.errors
        ):
            self.add_error("capsule_strength_mg", "Please enter the strength of one capsule.")
        return cleaned


class MedicinesChangedForm(SafetyForm):
    """The safety questions again, with the statement that can lift an opioid block."""

    opioid_free_confirmed = forms.BooleanField(
        label=(
            "I have taken no opioid in the last 7 days (10 days for methadone or "
            "buprenorphine), and my prescriber knows"
        ),
        required=False,
    )

    def __init__(self, *args, ask_opioid_free=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not ask_opioid_free:
            del self.fields["opioid_free_confirmed"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("opioid_use") and cleaned.get("opioid_free_confirmed"):
            self.add_error(
                "opioid_free_confirmed",
                "You answered that you take an opioid, so this can't be ticked. "
                "Please check your answers.",
            )
        return cleaned


class JoiningReportForm(forms.Form):
    """The nights before joining, in one step: all ticked, untick the ones missed."""

    taken = forms.TypedMultipleChoiceField(
        label="The nights you took it",
        coerce=dt.date.fromisoformat,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Untick any night you missed. We record these on your word.",
        error_messages={"invalid_choice": "Please tick only nights from the list."},
    )

    def __init__(self, *args, days: list[dt.date], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["taken"].choices = [(d.isoformat(), f"{d:%A %-d %B}") for d in days]
        self.fields["taken"].initial = [d.isoformat() for d in days]
