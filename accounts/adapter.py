import time

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from axes.utils import reset as axes_reset
from django.conf import settings
from django.shortcuts import redirect, resolve_url
from django.urls import reverse

from ldn_tracker.client_ip import client_ip

from . import services
from .middleware import SessionPolicyMiddleware

# allauth.mfa's pages for setting up an authenticator and then saving its recovery codes.
SET_UP_VIEWS = frozenset({"mfa_activate_totp", "mfa_view_recovery_codes"})


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "email_password_mismatch": (
            "That email and password don't match. Please check both, or reset your password."
        ),
        "incorrect_password": "That isn't your password. Please try again, or reset it.",
    }

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        user.first_name = form.cleaned_data.get("first_name", "").strip()
        if commit:
            services.patient_register(user=user)
        return user

    def get_client_ip(self, request):
        # allauth's rate limits count per client, the same address axes and the audit see.
        return client_ip(request) or super().get_client_ip(request)

    def set_password(self, user, password):
        # A new password (a reset from the emailed link, or a change) proves the account is
        # the owner's: lift any login lockout on it, from every address.
        super().set_password(user, password)
        axes_reset(username=user.email.lower())

    def get_login_redirect_url(self, request):
        # Today is a patient page: clinicians start at their panel, administrators at home.
        if request.user.is_clinician:
            return resolve_url("clinic:panel")
        if not request.user.is_patient:
            return resolve_url("home")
        return super().get_login_redirect_url(request)

    def send_mail(self, template_prefix, email, context):
        # Our templates greet and sign off with the site's own name, never the host name
        # allauth would take from the request.
        super().send_mail(template_prefix, email, {"site_name": settings.SITE_NAME, **context})

    def respond_email_verification_sent(self, request, user):
        # Only after the right password (or a new sign-up), so saying "clinician" here tells
        # nobody anything they did not know.
        if user is not None and user.is_clinician:
            return redirect(reverse("account_email_verification_sent") + "?role=clinician")
        return super().respond_email_verification_sent(request, user)

    def is_reauthentication_required(self, *, app, **kwargs):
        required = super().is_reauthentication_required(app=app, **kwargs)
        request = context.request
        match = getattr(request, "resolver_match", None)
        if required and app == "allauth.mfa" and match and match.view_name in SET_UP_VIEWS:
            # Adding an authenticator straight after logging in (or after choosing the
            # password on an invitation), and seeing the recovery codes it made: the password
            # typed moments ago counts, so nobody is asked for it twice in a row. Removing
            # the app, or making new codes, still ask.
            return not logged_in_within(request, settings.ACCOUNT_REAUTHENTICATION_TIMEOUT)
        return required


def logged_in_within(request, seconds: int) -> bool:
    """Whether this session's login happened less than `seconds` ago."""
    if request is None or not request.user.is_authenticated:
        return False
    login_at = request.session.get(SessionPolicyMiddleware.LOGIN_AT_KEY)
    return login_at is not None and time.time() - login_at < seconds
