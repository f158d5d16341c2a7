from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.access import patient_required
from accounts.models import User
from titration import selectors as titration_selectors
from titration import services as titration_services

from . import selectors, services, tokens
from .forms import ReminderSettingsForm
from .models import Reminder

ACTION_TITLES = {
    tokens.Action.TAKEN: "I took it",
    tokens.Action.SKIPPED: "Skip tonight",
    tokens.Action.SNOOZE: "Remind me again in 30 minutes",
}


@require_http_methods(["GET", "POST"])
@patient_required
def reminder_settings(request):
    profile = request.user.profile
    current = selectors.reminder_settings_of(request.user)
    initial = {
        "reminders_enabled": profile.reminders_enabled,
        "nudge_enabled": current.nudge_enabled,
        "travel": current.travel,
        "home_time_zone": current.home_time_zone,
    }
    form = ReminderSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.reminder_settings_update(patient=request.user, **form.cleaned_data)
        messages.success(request, "Your reminder settings are saved.")
        return redirect("reminder_settings")
    context = {
        "form": form,
        "last": selectors.last_reminder(request.user),
        "profile": profile,
    }
    return render(request, "reminders/settings.html", context)


def _problem(request, heading, text):
    return render(request, "reminders/link_problem.html", {"heading": heading, "text": text})


@require_http_methods(["GET", "POST"])
def reminder_action(request, token):
    """Opened from an email. A GET only shows the page: mail scanners open links, so
    nothing is recorded until the patient presses the one button."""
    try:
        claim = tokens.action_claim(token)
    except tokens.BadLink:
        return _problem(
            request,
            "This link has expired",
            "Links in reminder emails work for 24 hours. Log in to record your dose.",
        )
    reminder = get_object_or_404(
        Reminder.objects.select_related("patient__profile"), link_key=claim.link_key
    )
    used = reminder.link_used_at is not None and claim.action != tokens.Action.SNOOZE
    if request.method == "GET" and not used:
        patient = reminder.patient
        plan = titration_selectors.current_plan(patient)
        d = titration_selectors.dose_decision(patient, plan) if plan is not None else None
        context = {
            "claim": claim,
            "reminder": reminder,
            "d": d,
            "title": ACTION_TITLES[claim.action],
        }
        return render(request, "reminders/confirm.html", context)
    try:
        if used:
            raise services.LinkUsed
        result = services.reminder_link_act(claim=claim)
    except services.LinkUsed:
        return _problem(
            request,
            "This link has already been used",
            "Each link in a reminder email works once. Log in to see what is recorded.",
        )
    except titration_services.DoseRefused as exc:
        return _problem(request, "Not recorded", f"{exc} Log in to see today's dose.")
    except (services.LinkNoLongerValid, services.NoMoreSnoozes) as exc:
        return _problem(request, "We couldn't do that from this link", f"{exc} Log in to check.")
    context = {"claim": claim, "result": result, "profile": reminder.patient.profile}
    return render(request, "reminders/done.html", context)


@csrf_exempt  # RFC 8058 one-click: the mail provider POSTs without our form; the token is the key
@require_http_methods(["GET", "POST"])
def reminders_pause(request, token):
    try:
        claim = tokens.pause_claim(token)
    except tokens.BadLink:
        return _problem(request, "This link doesn't work", "Log in to change your reminders.")
    if claim.link_key is not None:
        reminder = get_object_or_404(
            Reminder.objects.select_related("patient__profile"), link_key=claim.link_key
        )
        patient = reminder.patient
    else:
        patient = get_object_or_404(User.objects.select_related("profile"), pk=claim.patient_id)
    if request.method == "GET":
        return render(request, "reminders/pause.html", {"paused": False})
    services.reminders_pause(patient=patient)
    return render(request, "reminders/pause.html", {"paused": True})
