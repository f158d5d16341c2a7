from allauth.account.adapter import DefaultAccountAdapter
from axes.utils import reset as axes_reset
from django.shortcuts import resolve_url

from ldn_tracker.client_ip import client_ip

from . import services


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
