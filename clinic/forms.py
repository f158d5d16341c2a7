import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib.auth import password_validation

from accounts.models import PatientProfile
from titration import schedule as engine

from . import alert_rules
from .models import INVITE_CODE_LENGTH, normalise_invite_code
from .selectors import DIARY_FILTERS, PANEL_FILTERS, PANEL_SORTS


def _mg(dose: Decimal) -> str:
    # As clinics write a dose: 0.75, 1.5, 6.0 (see titration's `mg` filter).
    text = f"{dose.quantize(Decimal('0.01')):f}"
    return text[:-1] if text.endswith("0") else text


TARGET_CHOICES = [
    (_mg(dose), f"{_mg(dose)} mg")
    for dose in (engine.MIN_DOSE_MG + engine.DOSE_INCREMENT_MG * n for n in range(23))
    if dose <= engine.MAX_DOSE_MG
]


SELECT = forms.Select(attrs={"class": "form-select"})


class PanelForm(forms.Form):
    q = forms.CharField(
        label="Search by name",
        required=False,
        max_length=80,
        error_messages={"max_length": "A name is at most 80 characters: please shorten it."},
        widget=forms.TextInput(attrs={"class": "form-control", "type": "search"}),
    )
    show = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[("", "All patients"), *((k, v[0]) for k, v in PANEL_FILTERS.items())],
        widget=SELECT,
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[(k, v[0]) for k, v in PANEL_SORTS.items()],
        widget=SELECT,
    )
    desc = forms.BooleanField(label="Highest first", required=False)


class DiaryFilterForm(forms.Form):
    since = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    until = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    show = forms.ChoiceField(
        label="Days", required=False, choices=list(DIARY_FILTERS.items()), widget=SELECT
    )


class ClinicianSignupForm(forms.Form):
    first_name = forms.CharField(label="Your name", max_length=80)
    email = forms.EmailField(label="Work email")
    registration_number = forms.CharField(label="Professional registration number", max_length=40)
    password = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)

    def clean_email(self):
        # Whether an account exists is not said here: the answer would tell anyone who
        # holds an account (clinic.services.clinician_signup emails the owner instead).
        return self.cleaned_data["email"].lower()

    def clean_password(self):
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password


class InviteAcceptForm(forms.Form):
    first_name = forms.CharField(label="Your name", max_length=80)
    password = forms.CharField(label="Choose a password", widget=forms.PasswordInput, strip=False)

    def clean_password(self):
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password


class CareInviteForm(forms.Form):
    email = forms.EmailField(
        label="Patient's email (optional)",
        required=False,
        help_text="We email them the invitation. Leave empty to give them the code yourself.",
    )
    for_clinic = forms.BooleanField(
        label="Share with my whole clinic",
        required=False,
        help_text="Every approved clinician in your clinic will see the record.",
    )

    def __init__(self, *args, has_clinic=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not has_clinic:
            del self.fields["for_clinic"]


class ShareCodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your clinician",
        max_length=20,
        help_text="Eight letters and numbers, like K7MQ-4XZP.",
    )

    def clean_code(self):
        code = normalise_invite_code(self.cleaned_data["code"])
        if len(code) != INVITE_CODE_LENGTH:
            raise forms.ValidationError("The code has 8 letters and numbers. Please check it.")
        return code


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        label="Note (optional)", required=False, max_length=500, widget=forms.TextInput
    )


RECORD_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./-]*$")


class PatientIdentityForm(forms.Form):
    mrn = forms.CharField(
        label="Your clinic's record number (MRN)",
        required=False,
        max_length=40,
        help_text="Goes into the FHIR export, so your records system can match the patient.",
    )
    date_of_birth = forms.DateField(
        label="Date of birth",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional. Shown on the report and in the exports.",
    )

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_mrn(self):
        mrn = " ".join(self.cleaned_data["mrn"].split())
        if mrn and not RECORD_NUMBER.match(mrn):
            raise forms.ValidationError(
                "Use letters, numbers, spaces, dots, dashes or slashes, as your records "
                "system writes it."
            )
        return mrn

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        if born is not None and self.today is not None:
            if born > self.today:
                raise forms.ValidationError("A date of birth can't be in the future.")
            if born.year < self.today.year - 120:
                raise forms.ValidationError("Please check the year: that is over 120 years ago.")
        return born


class NoteForm(forms.Form):
    text = forms.CharField(label="Note", max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


# Alert thresholds: each empty field keeps the default, shown beside it.


class OneDecimalField(forms.DecimalField):
    """Takes "2.50" as 2.5: to a reader a trailing zero is not a second decimal place."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and value.is_finite() and abs(value) < 1000:
            rounded = value.quantize(Decimal("0.1"))
            if rounded == value:
                return rounded
        return value


def _threshold_field(name: str, label: str, unit: str, whole: bool = True):
    low, high = alert_rules.BOUNDS[name]
    default = getattr(alert_rules.DEFAULTS, name)
    gap = "" if unit == "%" else " "
    shown = f"{default:g}{gap}{unit}"
    out_of_range = (
        f"Enter {'a whole number' if whole else 'a number'} from {low:g} to {high:g}{gap}{unit}, "
        f"or leave it empty to use the default ({shown})."
    ).replace("%", "%%")  # error messages are %-formatted with the field's limits
    options = {
        "label": label,
        "required": False,
        "help_text": f"Default: {shown}.",
        "error_messages": {
            "invalid": out_of_range,
            "min_value": out_of_range,
            "max_value": out_of_range,
        },
    }
    if whole:
        return forms.IntegerField(**options, min_value=int(low), max_value=int(high))
    options["error_messages"].update(
        max_decimal_places="Use one decimal place at most, like 2.5.",
        max_digits=out_of_range,
        max_whole_digits=out_of_range,
    )
    return OneDecimalField(
        **options,
        min_value=Decimal(str(low)),
        max_value=Decimal(str(high)),
        max_digits=3,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.1"}),
    )


class AlertThresholdsForm(forms.Form):
    persistent_days = _threshold_field(
        "persistent_days", "Persistent side effects: days in a row (moderate or worse)", "days"
    )
    pain_points = _threshold_field(
        "pain_points", "Pain worsening: points above baseline", "points", whole=False
    )
    pain_percent = _threshold_field("pain_percent", "Pain worsening: percent above baseline", "%")
    missed_in_a_row = _threshold_field(
        "missed_in_a_row", "Missed doses: due doses in a row with nothing logged", "doses"
    )
    quiet_days = _threshold_field(
        "quiet_days", "Gone quiet: days with no dose and no diary", "days"
    )

    @classmethod
    def for_row(cls, row, data=None):
        """The form showing a patient's saved adjustments (`row` may be None)."""
        return cls(data, initial=row.adjusted() if row is not None else {})


# Plan control: one small form per change, each with a reason the patient will see.


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Message to the patient",
        max_length=250,
        required=False,
        help_text="Shown on their Today page. Keep it short and plain.",
    )


class StopForm(forms.Form):
    reason = forms.CharField(
        label="Reason for stopping",
        max_length=250,
        error_messages={"required": "Please give a reason for stopping the plan."},
    )


class PauseForm(StopForm):
    reason = forms.CharField(
        label="Reason for pausing",
        max_length=250,
        error_messages={"required": "Please give a reason for pausing the plan."},
    )


class HoldForm(ReasonForm):
    field_order = ["days", "reason"]
    days = forms.IntegerField(
        label="For how many days (leave empty to hold until you end it)",
        required=False,
        min_value=1,
        max_value=60,
        error_messages={
            "min_value": "A hold lasts at least 1 day.",
            "max_value": "A hold lasts at most 60 days.",
        },
    )


class TargetForm(ReasonForm):
    field_order = ["target_mg", "reason"]
    target_mg = forms.ChoiceField(
        label="New target dose",
        choices=TARGET_CHOICES,
        initial="4.5",
        help_text="Never above 6.0 mg. The dose carries on from today's and climbs to it.",
    )


class DoseTimeForm(ReasonForm):
    field_order = ["dose_time", "reason"]
    dose_time = forms.ChoiceField(label="Dose time", choices=PatientProfile.DoseTime.choices)


STEP_LINE = re.compile(
    r"^\s*(?P<dose>\d+(?:\.\d+)?)\s*mg\s*(?:(?:for\s*)?(?P<days>\d+)\s*days?)?\s*$", re.I
)


class CustomScheduleForm(ReasonForm):
    field_order = ["steps", "reason"]
    steps = forms.CharField(
        label="Steps, one per line",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For example: “1.5 mg 7 days”, “3 mg 7 days”, “4 mg”. The last step has no "
        "days: it continues. Doses 0.5-6.0 mg in 0.25 mg steps; the first step starts today.",
    )

    def clean_steps(self):
        steps = []
        lines = [line for line in self.cleaned_data["steps"].splitlines() if line.strip()]
        for number, line in enumerate(lines, start=1):
            match = STEP_LINE.match(line)
            if match is None:
                raise forms.ValidationError(
                    f"Line {number} should look like “1.5 mg 7 days” (or “4.5 mg” for the last)."
                )
            try:
                dose = Decimal(match["dose"])
            except InvalidOperation:
                raise forms.ValidationError(f"Line {number}: the dose is not a number.") from None
            days = int(match["days"]) if match["days"] else None
            steps.append({"dose_mg": str(dose), "min_days": days})
        if steps:
            steps[-1]["min_days"] = None
        errors = engine.validate_custom_steps(
            [engine.Step(Decimal(s["dose_mg"]), s["min_days"]) for s in steps]
        )
        if errors:
            raise forms.ValidationError(errors)
        return steps


class BigChangeConfirmation(forms.Form):
    confirm_big_change = forms.BooleanField(
        label="I confirm this change, which raises tonight's dose by more than 1.5 mg",
        required=False,
    )


class ConfirmedTargetForm(TargetForm, BigChangeConfirmation):
    pass


class ConfirmedCustomScheduleForm(CustomScheduleForm, BigChangeConfirmation):
    pass


PLAN_FORMS = {
    "step_up": ReasonForm,
    "hold": HoldForm,
    "release": ReasonForm,
    "step_back": ReasonForm,
    "target": ConfirmedTargetForm,
    "custom": ConfirmedCustomScheduleForm,
    "dose_time": DoseTimeForm,
    "pause": PauseForm,
    "resume": ReasonForm,
    "stop": StopForm,
}
