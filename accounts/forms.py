import datetime as dt
from decimal import Decimal

from django import forms

from .models import PaperSize, PatientProfile, User, available_time_zones, validate_time_zone

YES_NO = [("yes", "Yes"), ("no", "No")]
START_DATE_PAST_DAYS = 30
START_DATE_FUTURE_DAYS = 90


class SignupForm(forms.Form):
    """Extra field for allauth's sign-up form; allauth calls `signup` after saving."""

    field_order = ["first_name", "email", "password1", "password2"]

    first_name = forms.CharField(
        label="Your first name",
        max_length=80,
        help_text="We use it to greet you and in your reminders.",
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
        error_messages={"required": "Please tell us your first name."},
    )

    def signup(self, request, user):
        # The account adapter has already stored first_name and created the profile.
        return user


def _yes_no(label, help_text=""):
    return forms.TypedChoiceField(
        label=label,
        help_text=help_text,
        choices=YES_NO,
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Please answer yes or no."},
    )


class SafetyForm(forms.Form):
    opioid_use = _yes_no(
        "Do you take any opioid painkiller, or are you coming off one?",
        "For example tramadol, codeine, co-codamol, morphine, oxycodone or fentanyl patches.",
    )
    alcohol = _yes_no("Do you drink alcohol?")
    liver_medications = _yes_no(
        "Do you take a medicine that is processed by the liver?",
        "For example warfarin or diazepam. If you are not sure, answer yes.",
    )
    liver_disease = _yes_no("Have you been told you have liver disease?")


class TimeZoneForm(forms.ModelForm):
    time_zone = forms.CharField(
        label="Your time zone",
        max_length=64,
        help_text="We filled this in from your device. Change it if it looks wrong.",
        validators=[validate_time_zone],
        widget=forms.TextInput(
            attrs={"list": "time-zones", "autocomplete": "off", "data-detect-time-zone": "1"}
        ),
        error_messages={"required": "Please choose your time zone, for example Europe/London."},
    )

    class Meta:
        model = PatientProfile
        fields = ["time_zone"]

    @staticmethod
    def zone_names():
        return sorted(available_time_zones())

    def clean_time_zone(self):
        return self.cleaned_data["time_zone"].strip()


class ReportDetailsForm(forms.ModelForm):
    """What the report for the doctor prints about the patient, and on which paper."""

    EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)

    date_of_birth = forms.DateField(
        label="Date of birth (optional)",
        required=False,
        help_text=(
            "Printed on the report for your doctor, so the clinic can match it to your records."
        ),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Please enter a date like 1980-03-14."},
    )
    paper_size = forms.ChoiceField(
        label="Paper for the printed report",
        choices=PaperSize.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Please choose A4 or US Letter."},
    )

    class Meta:
        model = PatientProfile
        fields = ["date_of_birth", "paper_size"]

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        if born is not None and born > self.today:
            raise forms.ValidationError("A date of birth can't be in the future.")
        if born is not None and born < self.EARLIEST_BIRTH_DATE:
            raise forms.ValidationError("Please check the year of your date of birth.")
        return born


class DoseTimeForm(forms.ModelForm):
    dose_time = forms.ChoiceField(
        label="When will you take your dose?",
        choices=PatientProfile.DoseTime.choices,
        widget=forms.RadioSelect,
        help_text="Most people take LDN at bedtime. Your prescriber may suggest the morning.",
        error_messages={"required": "Please choose bedtime or morning."},
    )
    reminder_time = forms.TimeField(
        label="What time should we remind you?",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={
            "required": "Please choose a time for your reminder.",
            "invalid": "Please enter a time like 21:30.",
        },
    )

    class Meta:
        model = PatientProfile
        fields = ["dose_time", "reminder_time"]


class FormulationForm(forms.ModelForm):
    formulation = forms.ChoiceField(
        label="What form is your LDN?",
        choices=PatientProfile.Formulation.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Please choose capsules or liquid."},
    )
    concentration_mg_per_ml = forms.DecimalField(
        label="Liquid only: strength on the bottle label (mg per mL)",
        required=False,
        max_digits=5,
        decimal_places=2,
        help_text="Often 1 mg/mL. Leave empty for capsules.",
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        error_messages={"invalid": "Please enter a number, like 1 or 5."},
    )

    class Meta:
        model = PatientProfile
        fields = ["formulation", "concentration_mg_per_ml"]

    def clean_concentration_mg_per_ml(self):
        value = self.cleaned_data.get("concentration_mg_per_ml")
        if value is None:
            return None
        if value <= 0:
            raise forms.ValidationError("The strength must be more than 0 mg per mL.")
        if value > Decimal("50"):
            raise forms.ValidationError(
                "That is much stronger than LDN liquids. Please check the label."
            )
        return value

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("formulation") == PatientProfile.Formulation.LIQUID
            and cleaned.get("concentration_mg_per_ml") is None
            and "concentration_mg_per_ml" not in self.errors
        ):
            self.add_error(
                "concentration_mg_per_ml",
                "For liquid LDN we need the strength from the label to work out your dose in mL.",
            )
        if cleaned.get("formulation") == PatientProfile.Formulation.CAPSULE:
            cleaned["concentration_mg_per_ml"] = None
        return cleaned


class StartDateForm(forms.Form):
    start_date = forms.DateField(
        label="When is (or was) your first dose?",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Usually tonight. You can pick a date up to 30 days ago (then you tell us "
        "about the nights since, in one step) or 90 days ahead.",
        error_messages={
            "required": "Please choose the date of your first dose.",
            "invalid": "Please enter a date like 2026-11-22.",
        },
    )

    protocol = forms.ChoiceField(
        label="Which plan did your prescriber give you?",
        choices=[
            ("standard", "Standard: 1.5 mg for 7 days, 3.0 mg for 7 days, then 4.5 mg"),
            ("gentle", "Gentle: 1.5 mg for 14 days, 3.0 mg for 7 days, then 4.5 mg"),
            ("sensitive", "Sensitive (usually liquid): 0.5 mg, going up 0.5 mg each week"),
        ],
        initial="standard",
        required=False,
        widget=forms.RadioSelect,
        help_text="If you are not sure, choose Standard: most prescribers use it. "
        "Your clinician can change it later.",
        error_messages={"invalid_choice": "Please choose one of the plans."},
    )
    target_mg = forms.TypedChoiceField(
        label="Target dose",
        choices=[(f"{d / 4:.2f}", f"{d / 4:g} mg") for d in range(2, 25)],
        coerce=Decimal,
        initial="4.50",
        required=False,
        empty_value=Decimal("4.50"),
        help_text="The dose your prescriber wants you to reach; 4.5 mg unless told otherwise.",
        error_messages={"invalid_choice": "Please choose a target between 0.5 mg and 6 mg."},
    )

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["start_date"].initial = today

    def clean_protocol(self):
        return self.cleaned_data.get("protocol") or "standard"

    def clean_start_date(self):
        value = self.cleaned_data["start_date"]
        if value < self.today - dt.timedelta(days=START_DATE_PAST_DAYS):
            raise forms.ValidationError(
                "That is more than 30 days ago. Please check the date, or ask your clinic "
                "to set up a plan that started earlier."
            )
        if value > self.today + dt.timedelta(days=START_DATE_FUTURE_DAYS):
            raise forms.ValidationError("Please choose a date within the next 90 days.")
        return value


class AccountDeleteForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand that after 7 days my diary, doses, plans and everything else "
        "I have recorded will be erased for good.",
        error_messages={"required": "Please tick the box to confirm."},
    )


class NameForm(forms.ModelForm):
    first_name = forms.CharField(
        label="Your first name",
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
        error_messages={"required": "Please tell us your first name."},
    )

    class Meta:
        model = User
        fields = ["first_name"]


class DoseClockForm(TimeZoneForm, DoseTimeForm):
    """Time zone and dose time together: the profile shows what they mean before saving."""

    class Meta:
        model = PatientProfile
        fields = ["time_zone", "dose_time", "reminder_time"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[
            "time_zone"
        ].help_text = "Where you are now, like Europe/London. Change it when you travel."
        self.fields["reminder_time"].label = "What time do you take it?"
        self.fields["reminder_time"].help_text = "Your reminder comes at this time too."
