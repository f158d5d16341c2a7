import datetime as dt
import json
import uuid

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import patient_required
from accounts.models import PatientProfile
from symptoms import selectors as symptom_selectors

from . import decision, refusals, selectors, services
from .access import plan_required
from .forms import HoldForm, LateDoseForm, MedicinesChangedForm, SkipForm, SupplyForm
from .models import DoseLog, SupplyEntry


def _render_today(request, plan, *, status=200, error="", now=None):
    now = now or timezone.now()
    record = selectors.record_of(request.user, plan, now=now)
    t = selectors.tonight(request.user, plan, now=now, record=record)
    diary_done = symptom_selectors.diary_entry(request.user, t.local_today) is not None
    context = {
        "t": t,
        "reportable": bool(decision.reportable_days(record.inputs, now)),
        "dose_error": error,
        "diary_done": diary_done,
        "week_lines": symptom_selectors.weekly_summary(request.user, t.local_today),
        "oob": False,  # set, not missing: a failed lookup would log the whole context
    }
    if request.htmx:
        # The card that was tapped, and "Your week" out of band: its counts just changed.
        card = render_to_string("titration/today.html#dose-card", context, request=request)
        week = render_to_string(
            "titration/today.html#week-card", {**context, "oob": True}, request=request
        )
        return HttpResponse(card + week, status=status)
    context.update(
        questionnaires=symptom_selectors.open_questionnaires(request.user, plan, t.local_today),
        supply=selectors.supply_status(request.user, plan, now=now, record=record),
    )
    return render(request, "titration/today.html", context, status=status)


@plan_required
def today(request, plan):
    block = selectors.opioid_block(request.user)
    if block is not None:
        return render(request, "titration/safety_stop.html", {"opioid": block})
    return _render_today(request, plan, error=refusals.refusal_from(request))


def safety_advice(request, *, alcohol: bool, liver: bool) -> None:
    """What the safety answers ask the patient to discuss with their prescriber."""
    if alcohol:
        messages.warning(
            request,
            "Alcohol: LDN and alcohol are both processed by the liver. Please talk to your "
            "prescriber about how much you drink. You can note drinks in your daily diary.",
        )
    if liver:
        messages.warning(
            request,
            "Liver: please check with your prescriber that LDN is right for you with your "
            "liver condition or medicines before you start.",
        )


@require_http_methods(["GET", "POST"])
@patient_required
def medicines_changed(request):
    """ "My medicines changed": the safety questions again (DOMAIN.md, dose safety)."""
    block = selectors.opioid_block(request.user)
    ask_opioid_free = block is not None and block.patient_clear_from is not None
    form = MedicinesChangedForm(
        request.POST if request.method == "POST" else None, ask_opioid_free=ask_opioid_free
    )
    if request.method == "POST" and form.is_valid():
        answers = form.cleaned_data
        services.safety_screening_record(
            patient=request.user,
            opioid_use=answers["opioid_use"],
            alcohol=answers["alcohol"],
            liver_medications=answers["liver_medications"],
            liver_disease=answers["liver_disease"],
            opioid_free_confirmed=answers.get("opioid_free_confirmed", False),
        )
        block = selectors.opioid_block(request.user)
        if block is not None:
            return render(request, "titration/safety_stop.html", {"opioid": block, "saved": True})
        safety_advice(
            request,
            alcohol=answers["alcohol"],
            liver=answers["liver_medications"] or answers["liver_disease"],
        )
        messages.success(request, "Thank you. Your answers are saved.")
        return redirect("today" if selectors.current_plan(request.user) else "onboarding")
    return render(
        request,
        "titration/medicines_changed.html",
        {"form": form, "opioid": block, "ask_opioid_free": ask_opioid_free},
        status=400 if form.is_bound else 200,
    )


def _posted_day(request):
    """The date the page showed, or None when it sent none (then: what the decision says)."""
    try:
        return dt.date.fromisoformat(request.POST.get("day", ""))
    except ValueError:
        return None


def _log_from_card(request, plan, status, skip_reason=""):
    error = ""
    now = timezone.now()
    try:
        services.dose_log(
            patient=request.user,
            plan=plan,
            day=_posted_day(request),
            status=status,
            skip_reason=skip_reason,
            now=now,
        )
    except services.DoseRefused as exc:
        error = str(exc)
    if request.htmx:
        return _render_today(request, plan, error=error, now=now)
    if error:
        messages.info(request, error)
    return redirect("today")


@require_POST
@plan_required
def dose_take(request, plan):
    return _log_from_card(request, plan, DoseLog.Status.TAKEN)


CLOCK_SKEW_ALLOWED = dt.timedelta(minutes=2)


def _queued_press(request):
    """(client id, day, pressed at) from the offline queue's JSON, or None if it is not one.
    A device whose clock is off says so by the time it sent the item: the pressed instant
    is moved by the same amount, so a phone set to the wrong hour records the right one."""
    if request.content_type != "application/json":
        return None
    try:
        data = json.loads(request.body)
        client_id = uuid.UUID(str(data["client_id"]))
        fields = dict(data.get("fields") or [])
        day = dt.date.fromisoformat(fields["day"])
        pressed_at = dt.datetime.fromisoformat(data["pressed_at"])
        sent_at = dt.datetime.fromisoformat(data.get("sent_at") or data["pressed_at"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if pressed_at.tzinfo is None or sent_at.tzinfo is None:
        return None
    skew = timezone.now() - sent_at
    if abs(skew) > CLOCK_SKEW_ALLOWED:
        pressed_at += skew
    return client_id, day, pressed_at


@require_POST
@plan_required
def dose_offline(request, plan):
    """The offline queue sends "I took it" pressed without a connection. JSON in and out;
    the message is shown to the patient as it is."""
    press = _queued_press(request)
    if press is None:
        return JsonResponse(
            {"status": "refused", "message": "Not recorded: this saved dose could not be read."},
            status=400,
        )
    client_id, day, pressed_at = press
    try:
        log, recorded = services.dose_replay(
            patient=request.user, plan=plan, client_id=client_id, day=day, pressed_at=pressed_at
        )
    except services.DoseRefused as exc:
        taken = timezone.localtime(pressed_at, request.user.profile.zone)
        return JsonResponse(
            {
                "status": "refused",
                "message": f"Your dose pressed at {taken:%H:%M} was not recorded: {exc}",
            }
        )
    taken = timezone.localtime(log.taken_at, request.user.profile.zone)
    message = f"Your dose taken at {taken:%H:%M} is recorded."
    return JsonResponse({"status": "recorded" if recorded else "duplicate", "message": message})


@require_http_methods(["GET", "POST"])
@plan_required
def dose_skip(request, plan):
    morning = request.user.profile.dose_time == PatientProfile.DoseTime.MORNING
    d = selectors.dose_decision(request.user, plan)
    form = SkipForm(request.POST or None, morning=morning, earlier=d.is_earlier_day)
    if request.method == "POST" and form.is_valid():
        return _log_from_card(request, plan, DoseLog.Status.SKIPPED, form.cleaned_data["reason"])
    context = {"form": form, "d": d, "yesterday": d.local_today - dt.timedelta(days=1)}
    return render(request, "titration/skip.html", context)


@require_POST
@plan_required
def dose_undo(request, plan):
    error = ""
    d = selectors.dose_decision(request.user, plan)
    day = _posted_day(request) or d.undo_day
    try:
        if day is None:
            raise services.NoUndo("There is nothing logged tonight to undo.")
        services.dose_undo(patient=request.user, plan=plan, day=day)
    except services.NoUndo as exc:
        error = str(exc)
    if request.htmx:
        return _render_today(request, plan, error=error)
    if error:
        messages.info(request, error)
    return redirect("today")


@require_http_methods(["GET", "POST"])
@plan_required
def dose_late(request, plan):
    now = timezone.now()
    record = selectors.record_of(request.user, plan, now=now)
    profile = request.user.profile
    form = LateDoseForm(
        request.POST or None,
        days=decision.late_days(record.inputs, now),
        today=profile.local_today(now),
        zone=profile.zone,
    )
    if request.method == "POST" and form.is_valid():
        try:
            log = services.dose_log(
                patient=request.user,
                plan=plan,
                day=form.cleaned_data["day"],
                status=form.cleaned_data["status"],
                taken_at=form.cleaned_data["taken_at"],
                late=True,
                now=now,
            )
        except services.DoseRefused as exc:
            field = "taken_at" if form.cleaned_data["status"] == DoseLog.Status.TAKEN else "day"
            form.add_error(field, str(exc))
        else:
            messages.success(
                request, f"Logged {log.get_status_display().lower()} for {log.date:%A %-d %B}."
            )
            return redirect("today")
    return render(request, "titration/late.html", {"form": form})


@plan_required
def plan(request, plan):
    overview = selectors.plan_overview(request.user, plan)
    tonight = selectors.tonight(request.user, plan)
    return render(request, "titration/plan.html", {"o": overview, "t": tonight})


@plan_required
def plan_calendar(request, plan, year=None, month=None):
    today = request.user.profile.local_today()
    year, month = year or today.year, month or today.month
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise Http404("No such month.")
    first = dt.date(year, month, 1)
    previous = first - dt.timedelta(days=1)
    following = first + dt.timedelta(days=32)
    context = {
        "weeks": selectors.month_weeks(request.user, plan, year, month),
        "month": first,
        "previous": previous.replace(day=1),
        "following": following.replace(day=1),
        "plan": plan,
        "today": today,
    }
    return render(request, "titration/calendar.html", context)


@require_http_methods(["GET", "POST"])
@plan_required
def plan_hold(request, plan):
    form = HoldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"] or "You asked to stay at this dose for a while."
        try:
            services.plan_hold(
                plan=plan,
                actor=request.user,
                day=request.user.profile.local_today(),
                days=form.cleaned_data["days"],
                reason=reason,
            )
        except services.PlanChangeNotAllowed as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Done: you'll stay at this dose. Your next step moves back.")
            return redirect("plan")
    return render(request, "titration/hold.html", {"form": form})


@require_http_methods(["GET", "POST"])
@plan_required
def step_back(request, plan):
    """Offered after a severe side effect or three moderate days: one confirm goes back."""
    t = selectors.tonight(request.user, plan)
    if t.step_back_unavailable:
        messages.info(
            request,
            "You are already on the lowest dose of your plan, so there is no step back. "
            "Please contact your prescriber about the side effects.",
        )
        return redirect("today")
    if t.step_back_offer is None:
        messages.info(request, "There is no step back to decide on right now.")
        return redirect("today")
    if request.method == "POST":
        today = request.user.profile.local_today()
        if request.POST.get("choice") == "back":
            try:
                services.plan_step_back(
                    plan=plan,
                    actor=request.user,
                    day=today,
                    reason=f"Side effects reported on {t.step_back_offer:%-d %B}",
                    confirmation_key=f"step_back:{t.step_back_offer.isoformat()}",
                )
            except services.PlanChangeNotAllowed as exc:
                messages.info(request, str(exc))
            else:
                messages.success(request, "You are back on your previous dose from tonight.")
            return redirect("today")
        if request.POST.get("choice") == "keep":
            services.plan_keep_dose(
                plan=plan,
                actor=request.user,
                day=today,
                reason=f"Kept the dose after side effects on {t.step_back_offer:%-d %B}",
            )
            messages.success(request, "Okay, you'll stay on this dose for now.")
            return redirect("today")
    return render(request, "titration/step_back.html", {"t": t})


@require_POST
@plan_required
def dose_time_choice(request, plan):
    """The answer to the 'take it in the morning?' suggestion: switch, or keep bedtime."""
    today = request.user.profile.local_today()
    if request.POST.get("choice") == "morning":
        try:
            services.plan_dose_time_switch(
                plan=plan,
                actor=request.user,
                day=today,
                dose_time=PatientProfile.DoseTime.MORNING,
                reason="Vivid dreams or trouble sleeping",
            )
        except services.PlanChangeNotAllowed as exc:
            messages.info(request, str(exc))
        else:
            messages.success(
                request, "Switched: take your dose in the morning. Your reminder is now 08:00."
            )
    elif request.POST.get("choice") == "keep":
        services.plan_keep_time(
            plan=plan, actor=request.user, day=today, reason="Kept bedtime dosing"
        )
        messages.success(request, "Okay, you'll keep taking it at bedtime.")
    return redirect("today")


@require_http_methods(["GET", "POST"])
@plan_required
def supply(request, plan):
    profile = request.user.profile
    last = SupplyEntry.objects.filter(patient=request.user).first()
    initial = {"received_on": profile.local_today(), "kind": "refill"}
    if last is not None:
        initial["capsule_strength_mg"] = last.capsule_strength_mg
        initial["concentration_mg_per_ml"] = last.concentration_mg_per_ml
    elif profile.is_liquid:
        initial["concentration_mg_per_ml"] = profile.concentration_mg_per_ml
    form = SupplyForm(request.POST or None, liquid=profile.is_liquid, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.supply_record(patient=request.user, **form.cleaned_data)
        messages.success(request, "Saved. Here is how long your supply lasts.")
        return redirect("supply")
    context = {
        "form": form,
        "status": selectors.supply_status(request.user, plan),
        "entries": SupplyEntry.objects.filter(patient=request.user)[:20],
    }
    return render(request, "titration/supply.html", context)
