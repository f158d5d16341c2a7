from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import patient_required

from . import selectors, services
from .forms import LateDoseForm, SkipForm
from .models import DoseLog


def _plan_or_onboarding(request):
    plan = selectors.current_plan(request.user)
    if plan is None:
        return None, redirect("onboarding")
    return plan, None


def _render_today(request, plan, *, status=200, error=""):
    context = {"t": selectors.tonight(request.user, plan), "dose_error": error}
    template = "titration/today.html#dose-card" if request.htmx else "titration/today.html"
    return render(request, template, context, status=status)


@patient_required
def today(request):
    plan, redirect_response = _plan_or_onboarding(request)
    if redirect_response:
        return redirect_response
    return _render_today(request, plan)


def _log_tonight(request, plan, status, skip_reason=""):
    error = ""
    try:
        services.dose_log(
            patient=request.user,
            plan=plan,
            day=request.user.profile.local_today(),
            status=status,
            skip_reason=skip_reason,
        )
    except services.DoseAlreadyLogged as exc:
        error = f"Tonight's dose is already logged ({exc.log.get_status_display().lower()})."
    except (services.NothingDue, services.DoseDateNotAllowed) as exc:
        error = str(exc)
    if request.htmx:
        return _render_today(request, plan, error=error)
    if error:
        messages.info(request, error)
    return redirect("today")


@require_POST
@patient_required
def dose_take(request):
    plan, redirect_response = _plan_or_onboarding(request)
    if redirect_response:
        return redirect_response
    return _log_tonight(request, plan, DoseLog.Status.TAKEN)


@require_http_methods(["GET", "POST"])
@patient_required
def dose_skip(request):
    plan, redirect_response = _plan_or_onboarding(request)
    if redirect_response:
        return redirect_response
    form = SkipForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _log_tonight(request, plan, DoseLog.Status.SKIPPED, form.cleaned_data["reason"])
    return render(request, "titration/skip.html", {"form": form})


@require_POST
@patient_required
def dose_undo(request):
    plan, redirect_response = _plan_or_onboarding(request)
    if redirect_response:
        return redirect_response
    error = ""
    try:
        services.dose_undo(patient=request.user, day=request.user.profile.local_today())
    except services.NoUndo as exc:
        error = str(exc)
    if request.htmx:
        return _render_today(request, plan, error=error)
    if error:
        messages.info(request, error)
    return redirect("today")


@require_http_methods(["GET", "POST"])
@patient_required
def dose_late(request):
    plan, redirect_response = _plan_or_onboarding(request)
    if redirect_response:
        return redirect_response
    now = timezone.now()
    form = LateDoseForm(request.POST or None, today=request.user.profile.local_today(now))
    if request.method == "POST" and form.is_valid():
        try:
            log = services.dose_log(
                patient=request.user,
                plan=plan,
                day=form.cleaned_data["day"],
                status=form.cleaned_data["status"],
                now=now,
            )
        except services.DoseAlreadyLogged as exc:
            form.add_error(
                "day", f"That day is already logged ({exc.log.get_status_display().lower()})."
            )
        except (services.NothingDue, services.DoseDateNotAllowed) as exc:
            form.add_error("day", str(exc))
        else:
            messages.success(
                request, f"Logged {log.get_status_display().lower()} for {log.date:%A %-d %B}."
            )
            return redirect("today")
    return render(request, "titration/late.html", {"form": form})
