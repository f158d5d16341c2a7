"""Your account: download all your data, and delete the account."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import patient_required
from accounts.forms import AccountDeleteForm
from accounts.reauth import recent_login_check, recent_login_required
from accounts.services import profile_ensure

from . import downloads, services


def _download_start(request, kind):
    downloads.download_grant(request.session, kind)
    return redirect("download_started", kind=kind)


@require_POST
@patient_required
@recent_login_required
def data_export(request):
    # A POST behind a recent password: the zip is the patient's whole record.
    return _download_start(request, "everything")


@require_POST
@patient_required
@recent_login_required
def diary_export(request):
    return _download_start(request, "diary")


@require_POST
@patient_required
@recent_login_required
def fhir_export(request):
    return _download_start(request, "fhir")


def _granted_download(request, kind):
    """The download, if this session pressed its button in the last few minutes, else None."""
    if kind not in downloads.DOWNLOADS:
        raise Http404("No such download.")
    if not downloads.download_granted(request.session, kind):
        return None
    return downloads.DOWNLOADS[kind]


def _download_expired(request):
    messages.info(request, "That download link has expired. Please ask for it again.")
    return redirect("account_settings")


@require_GET
@patient_required
def download_started(request, kind):
    download = _granted_download(request, kind)
    if download is None:
        return _download_expired(request)
    return render(request, "privacy/download_started.html", {"download": download, "kind": kind})


@require_GET
@patient_required
def download_file(request, kind):
    download = _granted_download(request, kind)
    if download is None:
        return _download_expired(request)
    response = HttpResponse(download.build(request.user), content_type=download.content_type)
    today = profile_ensure(user=request.user).local_today()
    response["Content-Disposition"] = (
        f'attachment; filename="{download.filename}-{today}.{download.extension}"'
    )
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@patient_required
def account_delete(request):
    if request.user.deletion_pending:
        return redirect("account_delete_scheduled")
    # Bound on every POST, even one with no fields: an unticked box is an answer to explain.
    form = AccountDeleteForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        # Only a confirmed request asks for the password, and is carried on after it.
        recent_login_check(request)
        services.account_deletion_request(user=request.user)
        return redirect("account_delete_scheduled")
    return render(request, "accounts/account_delete.html", {"form": form})


@require_GET
@patient_required
def account_delete_scheduled(request):
    if not request.user.deletion_pending:
        return redirect("account_settings")
    return render(request, "accounts/account_delete_scheduled.html", {"just_asked": True})


@require_http_methods(["GET", "POST"])
@patient_required
def account_delete_cancel(request):
    # The email's link opens this page; only its button (a POST) keeps the account.
    if request.method == "GET":
        if not request.user.deletion_pending:
            messages.info(request, "Your account is not going to be deleted.")
            return redirect("account_settings")
        return render(request, "accounts/account_delete_scheduled.html", {"just_asked": False})
    services.account_deletion_cancel(user=request.user)
    messages.success(request, "Your account will not be deleted.")
    return redirect("account_settings")
