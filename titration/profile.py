"""The patient's profile: name, email and password (allauth's pages), time zone, dose time
and medicine. Here, not in accounts, because a new clock or strength is shown through the
dose decision before it is saved."""

import copy

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts import services as account_services
from accounts.access import patient_required
from accounts.forms import DoseClockForm, FormulationForm, NameForm

from . import selectors, services

CLOCK_FIELDS = ("time_zone", "dose_time", "reminder_time")
MEDICINE_FIELDS = ("formulation", "concentration_mg_per_ml")


def _changed(profile, form, fields):
    return any(form.cleaned_data[name] != getattr(profile, name) for name in fields)


@require_http_methods(["GET", "POST"])
@patient_required
def profile(request):
    user = request.user
    current = account_services.profile_ensure(user=user)
    section = request.POST.get("section") if request.method == "POST" else None

    def data(name):
        return request.POST if section == name else None

    # Each form gets its own copy: a valid form writes its values onto its instance, and the
    # preview must compare them with the profile as saved.
    name_form = NameForm(data("name"), instance=copy.copy(user), prefix="name")
    clock_form = DoseClockForm(data("clock"), instance=copy.copy(current), prefix="clock")
    medicine_form = FormulationForm(
        data("medicine"), instance=copy.copy(current), prefix="medicine"
    )
    preview, preview_section = None, None
    confirmed = request.POST.get("confirm") == "yes"

    if section == "name" and name_form.is_valid():
        account_services.user_first_name_set(
            user=user, first_name=name_form.cleaned_data["first_name"]
        )
        messages.success(request, "Saved: your name.")
        return redirect("profile")

    for name, form, fields in (
        ("clock", clock_form, CLOCK_FIELDS),
        ("medicine", medicine_form, MEDICINE_FIELDS),
    ):
        if section != name or not form.is_valid():
            continue
        if not _changed(current, form, fields):
            messages.info(request, "Nothing changed.")
            return redirect("profile")
        plan = selectors.current_plan(user)
        if not confirmed and plan is not None:
            # First press: say what it means for the dose now; the second saves.
            preview = selectors.profile_change_preview(user, plan, form.instance)
            preview_section = name
            break
        if name == "clock":
            services.profile_dose_clock_change(
                patient=user, **{f: form.cleaned_data[f] for f in CLOCK_FIELDS}
            )
        else:
            services.profile_medicine_change(
                patient=user, **{f: form.cleaned_data[f] for f in MEDICINE_FIELDS}
            )
        messages.success(request, "Saved. Today shows your dose with the change.")
        return redirect("profile")

    context = {
        "name_form": name_form,
        "clock_form": clock_form,
        "medicine_form": medicine_form,
        "preview": preview,
        "preview_section": preview_section,
        "zone_names": DoseClockForm.zone_names(),
    }
    return render(request, "titration/profile.html", context)
