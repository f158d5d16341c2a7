"""Onboarding: one short question per screen, from the safety screen to starting a plan.

Here, not in accounts, because it records the safety screen and starts the plan."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts import services as account_services
from accounts.access import patient_required
from accounts.forms import (
    DoseTimeForm,
    FormulationForm,
    SafetyForm,
    StartDateForm,
    TimeZoneForm,
)
from accounts.models import PatientProfile

from . import selectors, services, views
from .access import plan_required
from .forms import JoiningReportForm

# One short question per screen, in this order.
ONBOARDING_STEPS = ["safety", "time-zone", "dose-time", "formulation", "start"]
STEP_TITLES = {
    "safety": "A few safety questions",
    "time-zone": "Your time zone",
    "dose-time": "Your dose time",
    "formulation": "Your medicine",
    "start": "Your first dose",
}


def _next_step(profile):
    patient = profile.user
    screening = selectors.latest_screening(patient)
    if screening is None:
        return "safety"
    if selectors.plan_blocked_by_screening(patient):
        return "stop"
    if not profile.time_zone:
        return "time-zone"
    if not profile.dose_time or profile.reminder_time is None:
        return "dose-time"
    if not profile.formulation:
        return "formulation"
    if selectors.current_plan(patient) is None:
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
    step = _next_step(account_services.profile_ensure(user=request.user))
    if step is None:
        return redirect("today")
    if step == "stop":
        return redirect("onboarding_stop")
    return redirect("onboarding_step", step=step)


@patient_required
def onboarding_stop(request):
    block = selectors.opioid_block(request.user)
    if block is None:
        return redirect("onboarding")
    return render(request, "accounts/onboarding_stop.html", {"opioid": block})


def _safety_step(request, profile):
    form = SafetyForm(_form_data(request))
    if request.method == "POST" and form.is_valid():
        screening = services.safety_screening_record(patient=request.user, **form.cleaned_data)
        if selectors.plan_blocked_by_screening(request.user):
            return None, redirect("onboarding_stop")
        views.safety_advice(
            request, alcohol=screening.alcohol, liver=screening.needs_prescriber_discussion
        )
        return None, redirect("onboarding")
    return form, None


def _profile_step(request, profile, form_class, initial=None):
    form = form_class(_form_data(request), instance=profile, initial=initial or {})
    if request.method == "POST" and form.is_valid():
        account_services.profile_update(profile=profile, **form.cleaned_data)
        return None, redirect("onboarding")
    return form, None


def _start_step(request, profile):
    form = StartDateForm(_form_data(request), today=profile.local_today())
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_start(
                patient=request.user,
                start_date=form.cleaned_data["start_date"],
                protocol=form.cleaned_data["protocol"] or "standard",
                target_mg=form.cleaned_data["target_mg"],
            )
        except services.PlanNotAllowed:
            return None, redirect("onboarding_stop")
        if selectors.reportable_days(request.user, plan):
            return None, redirect("onboarding_history")
        messages.success(request, "Your plan is ready. Here is your dose for tonight.")
        return None, redirect("today")
    return form, None


@require_http_methods(["GET", "POST"])
@patient_required
def onboarding_step(request, step):
    if step not in ONBOARDING_STEPS:
        raise Http404("No such step.")
    profile = account_services.profile_ensure(user=request.user)
    if step == "start" and selectors.current_plan(request.user) is not None:
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


@require_http_methods(["GET", "POST"])
@plan_required
def onboarding_history(request, plan):
    """Started before joining: the nights since the first dose, in one step, on the
    patient's word. Only nights before the one whose dose can be logged now are listed."""
    days = selectors.reportable_days(request.user, plan)
    if not days:
        return redirect("today")
    form = JoiningReportForm(_form_data(request), days=days)
    if request.method == "POST" and form.is_valid():
        logs = services.doses_report_when_joining(
            patient=request.user, plan=plan, taken_days=set(form.cleaned_data["taken"])
        )
        taken = sum(log.status == "taken" for log in logs)
        messages.success(
            request,
            f"Saved: {taken} of {len(logs)} night{'s' if len(logs) != 1 else ''} taken before "
            "you joined. Here is your dose now.",
        )
        return redirect("today")
    context = {"form": form, "first": days[0], "last": days[-1], "count": len(days)}
    return render(request, "titration/joining_history.html", context)
