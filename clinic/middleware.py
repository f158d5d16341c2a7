from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.shortcuts import redirect
from django.urls import reverse

from accounts.middleware import SessionPolicyMiddleware

# Where a clinician was going when sent to set up an authenticator app; the "Continue"
# button after the recovery codes goes back there.
AFTER_MFA_SETUP_KEY = "clinic_after_mfa_setup"

# The clinician's pages; the patient's sharing pages and the public sign-up pages are not.
CLINICIAN_VIEW_NAMES = frozenset(
    {
        "clinic:panel",
        "clinic:clinician_pending",
        "clinic:care_invite",
        "clinic:patient_detail",
        "clinic:patient_plan",
        "clinic:note_add",
        "clinic:note_edit",
        "clinic:alert_acknowledge",
        "clinic:alert_settings",
        "clinic:export_pdf",
        "clinic:export_csv",
        "clinic:export_fhir",
    }
)


def mfa_state(request) -> str:
    """ "missing" (no authenticator app yet), "unverified" (this session has not proved it)
    or "ok"."""
    user = request.user
    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if totp is None:
        return "missing"
    records = get_authentication_records(request, user)
    if any(record.get("method") == "mfa" for record in records):
        return "ok"
    # Activating the app takes a code from it: an app added in this session has been proved.
    # A session opened outside allauth (an accepted invitation) has no records: its login
    # time stands in.
    started = min(
        (record.get("at", 0) for record in records),
        default=request.session.get(SessionPolicyMiddleware.LOGIN_AT_KEY),
    )
    if started is not None and totp.created_at.timestamp() >= started:
        return "ok"
    return "unverified"


class RequireMfaMiddleware:
    """Clinicians, and anyone on the admin site, must have passed two-factor authentication.

    Until a clinician has an authenticator app every page sends them to set one up; a session
    that logged in without the code (a password-only login) is asked for one. Everyone
    else's pages, and a patient opening a clinician's URL (a 404), are left alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        user = request.user
        if match is None or not user.is_authenticated:
            return None
        name = match.view_name
        if "admin" in match.namespaces:
            # The admin's own login form takes a password only; after it, this asks for the
            # code (or sends the person to set up an app) before any admin page.
            if name == "admin:login":
                return None
        elif not (user.is_clinician and name in CLINICIAN_VIEW_NAMES):
            return None
        state = mfa_state(request)
        if state == "ok":
            return None
        if state == "missing":
            request.session[AFTER_MFA_SETUP_KEY] = request.get_full_path()
            target = "mfa_activate_totp"
        else:
            target = "mfa_reauthenticate"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
