from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .access import patient_required
from .forms import ReportDetailsForm


def home(request):
    if request.user.is_authenticated and request.user.is_patient:
        return redirect("today")
    if request.user.is_authenticated and request.user.is_clinician:
        return redirect("clinic:panel")
    return render(request, "home.html")


# Your account: the settings page. Onboarding is titration's (it starts the plan); the data
# export and deletion are privacy's.


@require_http_methods(["GET", "POST"])
@patient_required
def account_settings(request):
    profile = request.user.profile
    form = ReportDetailsForm(request.POST or None, instance=profile, today=profile.local_today())
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Saved: the report for your doctor uses these details.")
        return redirect("account_settings")
    return render(
        request,
        "accounts/account.html",
        {"report_form": form},
        status=400 if request.method == "POST" else 200,
    )
