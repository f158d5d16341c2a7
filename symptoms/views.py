import datetime as dt
import json

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import patient_required
from titration import selectors as titration_selectors
from titration.access import plan_required

from . import documents, selectors, services
from . import questionnaires as q
from .forms import DiaryForm, FiqrForm, PgicForm, ReportPeriodForm
from .models import FACTORS, RATINGS, SIDE_EFFECTS

DIARY_FORMS = ("short", "full")  # the hidden field that says which form was shown


def _parse_day(value, today):
    if value is None:
        return today
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Http404("No such day.") from None


def _initial(entry):
    if entry is None:
        return {}
    names = [*RATINGS, *SIDE_EFFECTS, *FACTORS, "other_text", "notes", "share_notes"]
    return {name: getattr(entry, name) for name in names}


def _queued_diary(request):
    """(day, form, saved at) from the offline queue's JSON, or None if it is not one."""
    if request.content_type != "application/json":
        return None
    try:
        data = json.loads(request.body)
        fields = QueryDict(mutable=True)
        for name, value in data.get("fields") or []:
            fields.appendlist(str(name), str(value))
        day = dt.date.fromisoformat(fields.get("day", ""))
        saved_at = dt.datetime.fromisoformat(data["pressed_at"])
        sent_at = dt.datetime.fromisoformat(data.get("sent_at") or data["pressed_at"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if saved_at.tzinfo is None or sent_at.tzinfo is None:
        return None
    # A device clock that is off moves the saved instant by as much (as for a dose).
    skew = timezone.now() - sent_at
    if abs(skew) > dt.timedelta(minutes=2):
        saved_at += skew
    form = DiaryForm(fields, short=fields.get("diary_form") == "short")
    return day, form, saved_at


@require_POST
@patient_required
def diary_offline(request):
    """The offline queue sends a diary filled in without a connection. JSON in and out; the
    message is shown to the patient as it is."""
    queued = _queued_diary(request)
    if queued is None:
        return JsonResponse(
            {"status": "refused", "message": "Not saved: this diary could not be read."},
            status=400,
        )
    day, form, saved_at = queued
    if not form.is_valid():
        return JsonResponse(
            {
                "status": "refused",
                "message": f"Your diary for {day:%A %-d %B} was not saved: please fill it in "
                "again (some answers could not be read).",
            }
        )
    try:
        changed = services.diary_replay(
            patient=request.user, day=day, values=form.entry_values(), saved_at=saved_at
        )
    except services.DiaryDateNotAllowed as exc:
        message = f"Your diary for {day:%A %-d %B} was not saved: {exc}"
        return JsonResponse({"status": "refused", "message": message})
    except services.DiaryNewerKept as exc:
        newer = timezone.localtime(exc.args[0], request.user.profile.zone)
        message = (
            f"Your diary for {day:%A %-d %B} was changed at {newer:%H:%M}, after you filled it "
            "in on this phone, so that newer version was kept."
        )
        return JsonResponse({"status": "refused", "message": message})
    message = f"Your diary for {day:%A %-d %B} is saved."
    return JsonResponse({"status": "recorded" if changed else "duplicate", "message": message})


@require_http_methods(["GET", "POST"])
@patient_required
def diary(request, day=None):
    profile = request.user.profile
    today = profile.local_today()
    day = _parse_day(day, today)
    if day not in services.allowed_diary_dates(today):
        messages.info(request, "You can fill in today or up to 7 days back.")
        return redirect("diary")
    posted = request.method == "POST"
    shown = request.POST.get("diary_form") if posted else None
    if shown in DIARY_FORMS:
        # Save the fields of the form the patient filled in, even if the page was opened
        # before a dose change made the full form due: a full form's empty notes and
        # factors must not overwrite what was saved before.
        short = shown == "short"
    else:
        plan = titration_selectors.current_plan(request.user)
        short = request.GET.get("full") != "1" and selectors.diary_is_short(plan, day)
    # A POST carries every value: the saved entry is read only to show the page again.
    entry = None if posted else selectors.diary_entry(request.user, day)
    form = DiaryForm(request.POST or None, initial=_initial(entry), short=short)
    if posted and form.is_valid():
        try:
            services.diary_save(patient=request.user, day=day, values=form.entry_values())
        except services.DiaryDateNotAllowed as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Diary saved for {day:%A %-d %B}.")
            return redirect("today")
    if posted:
        entry = selectors.diary_entry(request.user, day)
    context = {
        "form": form,
        "day": day,
        "today": today,
        "entry": entry,
        "short": short,
        "days": services.allowed_diary_dates(today),
    }
    return render(request, "symptoms/diary.html", context)


@plan_required
def progress_page(request, plan):
    period = "4w" if request.GET.get("period") == "4w" else "all"
    today = request.user.profile.local_today()
    report = selectors.progress_report(request.user, plan, today, period=period)
    return render(request, "symptoms/progress.html", {"r": report, "plan": plan, "today": today})


@require_http_methods(["GET", "POST"])
@plan_required
def questionnaire(request, plan, kind, week):
    if kind not in (q.FIQR, q.PGIC):
        raise Http404("No such questionnaire.")
    form_class = FiqrForm if kind == q.FIQR else PgicForm
    # Bound on every POST: a PGIC sent with nothing chosen has an empty body, and must be
    # told so rather than shown again as if it had never been sent.
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            response = services.questionnaire_complete(
                patient=request.user, plan=plan, kind=kind, week=week, answers=form.cleaned_data
            )
        except services.QuestionnaireNotOpen as exc:
            messages.info(request, str(exc))
            return redirect("today")
        messages.success(request, f"Thank you. Saved ({response.get_kind_display()}).")
        return redirect("progress")
    open_now = selectors.open_questionnaires(request.user, plan, request.user.profile.local_today())
    if not any(item["kind"] == kind and item["week"] == week for item in open_now):
        messages.info(request, "This questionnaire isn't open now, or it's already done.")
        return redirect("today")
    template = "symptoms/fiqr.html" if kind == q.FIQR else "symptoms/pgic.html"
    return render(request, template, {"form": form, "week": week})


def _report_period(request, plan):
    today = request.user.profile.local_today()
    # Only a chosen period binds the form: a stray parameter (a tracking tag on a link)
    # must not greet the patient with "please choose" errors.
    chosen = "start" in request.GET or "end" in request.GET
    # The form shows the period the report shows; the clinician's copy has the same one.
    default_start, _end = selectors.report_period(plan, today)
    form = ReportPeriodForm(
        request.GET if chosen else None,
        today=today,
        earliest=plan.start_date - dt.timedelta(days=7),
        initial={"start": default_start, "end": today},
    )
    if chosen and form.is_valid():
        return form, form.cleaned_data["start"], form.cleaned_data["end"]
    return form, default_start, today


@plan_required
def report(request, plan):
    form, start, end = _report_period(request, plan)
    context = selectors.report_context(request.user, plan, start, end)
    context["copy"] = "patient"
    context["form"] = form
    context["query"] = request.GET.urlencode()
    return render(request, "symptoms/report.html", context)


@plan_required
def report_pdf(request, plan):
    _form, start, end = _report_period(request, plan)
    context = selectors.report_context(request.user, plan, start, end)
    pdf = documents.report_pdf(context={**context, "copy": "patient"})
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="ldn-report-{start}-{end}.pdf"'
    return response
