import datetime as dt

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.access import patient_required
from titration import selectors as titration_selectors

from . import selectors, services
from .forms import DiaryForm
from .models import FACTORS, RATINGS, SIDE_EFFECTS


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


@require_http_methods(["GET", "POST"])
@patient_required
def diary(request, day=None):
    profile = request.user.profile
    today = profile.local_today()
    day = _parse_day(day, today)
    if day not in services.allowed_diary_dates(today):
        messages.info(request, "You can fill in today or up to 7 days back.")
        return redirect("diary")
    plan = titration_selectors.current_plan(request.user)
    short = request.GET.get("full") != "1" and selectors.diary_is_short(plan, day)
    entry = selectors.diary_entry(request.user, day)
    form = DiaryForm(request.POST or None, initial=_initial(entry), short=short)
    if request.method == "POST" and form.is_valid():
        try:
            services.diary_save(patient=request.user, day=day, values=form.entry_values())
        except services.DiaryDateNotAllowed as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Diary saved for {day:%A %-d %B}.")
            return redirect("today")
    context = {
        "form": form,
        "day": day,
        "today": today,
        "entry": entry,
        "short": short,
        "days": services.allowed_diary_dates(today),
    }
    return render(request, "symptoms/diary.html", context)
