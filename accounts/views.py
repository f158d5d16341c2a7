from django.shortcuts import redirect, render

from .access import patient_required


def home(request):
    if request.user.is_authenticated and request.user.is_patient:
        return redirect("today")
    if request.user.is_authenticated and request.user.is_clinician:
        return redirect("clinic:panel")
    return render(request, "home.html")


# Your account: the settings page. Onboarding is titration's (it starts the plan); the data
# export and deletion are privacy's.


@patient_required
def account_settings(request):
    return render(request, "accounts/account.html")
