"""Your account: download all your data, and delete the account."""

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import patient_required
from accounts.forms import AccountDeleteForm
from accounts.services import profile_ensure

from . import exports, services


@require_POST
@patient_required
@reauthentication_required
def data_export(request):
    # A POST behind a fresh password check: the zip is the patient's whole record.
    response = HttpResponse(
        exports.account_export_zip(request.user), content_type="application/zip"
    )
    today = profile_ensure(user=request.user).local_today()
    response["Content-Disposition"] = f'attachment; filename="ldn-tracker-all-my-data-{today}.zip"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@patient_required
@reauthentication_required(allow_get=True)
def account_delete(request):
    if request.user.deletion_pending:
        return redirect("account_settings")
    form = AccountDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.account_deletion_request(user=request.user)
        messages.success(
            request,
            f"Your account will be deleted on {user.deletion_due_at:%-d %B %Y}. "
            "You can change your mind until then.",
        )
        return redirect("account_settings")
    return render(request, "accounts/account_delete.html", {"form": form})


@require_POST
@patient_required
def account_delete_cancel(request):
    services.account_deletion_cancel(user=request.user)
    messages.success(request, "Your account will not be deleted.")
    return redirect("account_settings")
