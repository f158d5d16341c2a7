import json

from django.conf import settings
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import patient_required
from accounts.models import User
from titration import refusals
from titration import selectors as titration_selectors
from titration import services as titration_services

from . import push, selectors, services, tokens
from .forms import PushSubscriptionForm, ReminderSettingsForm
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
        "repeat": current.repeat,
        "channel": current.channel,
        "travel": current.travel,
        "home_time_zone": current.home_time_zone,
    }
    push_available = push.push_enabled()
    form = ReminderSettingsForm(
        request.POST or None, initial=initial, push_available=push_available
    )
    if request.method == "POST" and form.is_valid():
        services.reminder_settings_update(patient=request.user, **form.cleaned_data)
        messages.success(request, "Your reminder settings are saved.")
        return redirect("reminder_settings")
    context = {
        "form": form,
        "last": selectors.last_reminder(request.user),
        "profile": profile,
        "push_available": push_available,
        "vapid_public_key": settings.VAPID_PUBLIC_KEY,
        "devices": selectors.devices_of(request.user),
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


@require_POST
@patient_required
def push_device_add(request):
    """The settings page's "Notify me on this device" posts the browser's subscription."""
    try:
        if request.content_type != "application/json":
            raise ValueError("not JSON")
        data = json.loads(request.body)
        keys = data.get("keys") or {}
        fields = {
            "endpoint": data.get("endpoint", ""),
            "p256dh": keys.get("p256dh", ""),
            "auth": keys.get("auth", ""),
            "label": data.get("label", ""),
        }
    except (ValueError, AttributeError):
        fields = {}
    form = PushSubscriptionForm(fields)
    if not push.push_enabled() or not form.is_valid():
        return JsonResponse(
            {"message": "This device couldn't be set up for notifications. Please try again."},
            status=400,
        )
    services.push_subscription_save(patient=request.user, **form.cleaned_data)
    messages.success(request, "This device will show your reminders.")
    return JsonResponse({"message": "This device will show your reminders."}, status=201)


@require_POST
@patient_required
def push_device_remove(request, pk):
    if not services.push_subscription_remove(patient=request.user, pk=pk):
        raise Http404("No such device.")
    messages.success(request, "That device won't show reminders any more.")
    return redirect("reminder_settings")


@csrf_exempt  # posted by the service worker from a notification's button; the token is the key
@require_http_methods(["GET", "POST"])
def reminder_push_action(request, token):
    """A notification's "I took it" or "Remind me in 30 minutes": JSON for the service worker.
    The dose goes through the dose decision as from an email link, once per notification;
    a refusal sends the patient to Today, which says why."""
    if request.method == "GET":  # opened as a link: the email's confirmation page
        return redirect("reminder_action", token=token)
    try:
        claim = tokens.action_claim(token)
        result = services.reminder_link_act(claim=claim)
    except tokens.BadLink:
        return _push_refused("That notification has expired. Here is your dose now.")
    except services.LinkUsed:
        return _push_refused("That notification was already used. Here is what is recorded.")
    except (
        titration_services.DoseRefused,
        services.LinkNoLongerValid,
        services.NoMoreSnoozes,
    ) as exc:
        return _push_refused(str(exc))
    # The confirmation shows on the lock screen too: no medicine, no dose.
    if claim.action == tokens.Action.SNOOZE:
        body = "We'll remind you again in 30 minutes."
        return JsonResponse({"recorded": True, "title": "Reminder", "body": body})
    taken_at = timezone.localtime(result.taken_at, result.patient.profile.zone)
    return JsonResponse(
        {"recorded": True, "title": "Dose recorded", "body": f"Taken at {taken_at:%H:%M}."}
    )


def _push_refused(reason: str) -> JsonResponse:
    """The service worker opens Today, which says why (the reason travels signed)."""
    return JsonResponse({"recorded": False, "url": refusals.today_url_saying(reason)})
