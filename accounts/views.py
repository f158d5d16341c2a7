from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from titration import selectors as titration_selectors
from titration import services as titration_services

from . import exports, services
from .access import patient_required
from .forms import (
    AccountDeleteForm,
    DoseTimeForm,
    FormulationForm,
    SafetyForm,
    StartDateForm,
    TimeZoneForm,
)
from .models import PatientProfile

# One short question per screen, in this order.
ONBOARDING_STEPS = ["safety", "time-zone", "dose-time", "formulation", "start"]
STEP_TITLES = {
    "safety": "A few safety questions",
    "time-zone": "Your time zone",
    "dose-time": "Your dose time",
    "formulation": "Your medicine",
    "start": "Your first dose",
}


def home(request):
    if request.user.is_authenticated and request.user.is_patient:
        return redirect("today")
    if request.user.is_authenticated and request.user.is_clinician:
        return redirect("clinic:panel")
    return render(request, "home.html")


def _next_step(profile):
    patient = profile.user
    screening = titration_selectors.latest_screening(patient)
    if screening is None:
        return "safety"
    if screening.blocks_plan:
        return "stop"
    if not profile.time_zone:
        return "time-zone"
    if not profile.dose_time or profile.reminder_time is None:
        return "dose-time"
    if not profile.formulation:
        return "formulation"
    if titration_selectors.current_plan(patient) is None:
        return "start"
    return None


def _step_is_open(step, next_step):
    """A patient may go back to any step already answered, but not skip one ahead."""
    if next_step is None:
        return True
    if next_step == "stop":
        return step == "safety"
    return ONBOARDING_STEPS.index(step) <= ONBOARDING_STEPS.index(next_step)


def _form_data(request):
    # Not `request.POST or None`: a POST with every field left empty must still be validated.
    return request.POST if request.method == "POST" else None


@patient_required
def onboarding(request):
    step = _next_step(services.profile_ensure(user=request.user))
    if step is None:
        return redirect("today")
    if step == "stop":
        return redirect("onboarding_stop")
    return redirect("onboarding_step", step=step)


@patient_required
def onboarding_stop(request):
    screening = titration_selectors.latest_screening(request.user)
    if screening is None or not screening.blocks_plan:
        return redirect("onboarding")
    return render(request, "accounts/onboarding_stop.html")


def _safety_step(request, profile):
    form = SafetyForm(_form_data(request))
    if request.method == "POST" and form.is_valid():
        screening = titration_services.safety_screening_record(
            patient=request.user, **form.cleaned_data
        )
        if screening.blocks_plan:
            return None, redirect("onboarding_stop")
        if screening.alcohol:
            messages.warning(
                request,
                "Alcohol: LDN and alcohol are both processed by the liver. Please talk to your "
                "prescriber about how much you drink. You can note drinks in your daily diary.",
            )
        if screening.needs_prescriber_discussion:
            messages.warning(
                request,
                "Liver: please check with your prescriber that LDN is right for you with your "
                "liver condition or medicines before you start.",
            )
        return None, redirect("onboarding")
    return form, None


def _profile_step(request, profile, form_class, initial=None):
    form = form_class(_form_data(request), instance=profile, initial=initial or {})
    if request.method == "POST" and form.is_valid():
        services.profile_update(profile=profile, **form.cleaned_data)
        return None, redirect("onboarding")
    return form, None


def _start_step(request, profile):
    form = StartDateForm(_form_data(request), today=profile.local_today())
    if request.method == "POST" and form.is_valid():
        try:
            titration_services.plan_start(
                patient=request.user,
                start_date=form.cleaned_data["start_date"],
                protocol=form.cleaned_data["protocol"] or "standard",
                target_mg=form.cleaned_data["target_mg"],
            )
        except titration_services.PlanNotAllowed:
            return None, redirect("onboarding_stop")
        messages.success(request, "Your plan is ready. Here is your dose for tonight.")
        return None, redirect("today")
    return form, None


@require_http_methods(["GET", "POST"])
@patient_required
def onboarding_step(request, step):
    if step not in ONBOARDING_STEPS:
        raise Http404("No such step.")
    profile = services.profile_ensure(user=request.user)
    if step == "start" and titration_selectors.current_plan(request.user) is not None:
        return redirect("today")
    if not _step_is_open(step, _next_step(profile)):
        return redirect("onboarding")

    if step == "safety":
        form, done = _safety_step(request, profile)
    elif step == "time-zone":
        form, done = _profile_step(request, profile, TimeZoneForm)
    elif step == "dose-time":
        default_time = (
            PatientProfile.DEFAULT_MORNING
            if profile.dose_time == PatientProfile.DoseTime.MORNING
            else PatientProfile.DEFAULT_BEDTIME
        )
        form, done = _profile_step(
            request,
            profile,
            DoseTimeForm,
            initial={
                "dose_time": profile.dose_time or PatientProfile.DoseTime.BEDTIME,
                "reminder_time": profile.reminder_time or default_time,
            },
        )
    elif step == "formulation":
        form, done = _profile_step(request, profile, FormulationForm)
    else:
        form, done = _start_step(request, profile)
    if done:
        return done

    index = ONBOARDING_STEPS.index(step)
    context = {
        "form": form,
        "step": step,
        "title": STEP_TITLES[step],
        "number": index + 1,
        "total": len(ONBOARDING_STEPS),
        "previous": ONBOARDING_STEPS[index - 1] if index else None,
        "zone_names": TimeZoneForm.zone_names() if step == "time-zone" else (),
    }
    return render(request, "accounts/onboarding_step.html", context)


# Your account: data export and deletion (issue 7) --------------------------------------------


@patient_required
def account_settings(request):
    return render(request, "accounts/account.html")


@require_POST
@patient_required
@reauthentication_required
def data_export(request):
    # A POST behind a fresh password check: the zip is the patient's whole record.
    response = HttpResponse(
        exports.account_export_zip(request.user), content_type="application/zip"
    )
    today = services.profile_ensure(user=request.user).local_today()
    response["Content-Disposition"] = f'attachment; filename="ldn-tracker-all-my-data-{today}.zip"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@patient_required
@reauthentication_required(allow_get=True)
def account_delete(request):
    if request.user.deletion_pending:
        return redirect("account_settings")
    form = AccountDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.account_deletion_request(user=request.user)
        messages.success(
            request,
            f"Your account will be deleted on {user.deletion_due_at:%-d %B %Y}. "
            "You can change your mind until then.",
        )
        return redirect("account_settings")
    return render(request, "accounts/account_delete.html", {"form": form})


@require_POST
@patient_required
def account_delete_cancel(request):
    services.account_deletion_cancel(user=request.user)
    messages.success(request, "Your account will not be deleted.")
    return redirect("account_settings")
