"""Two-factor codes (allauth MFA, named in settings.MFA_ADAPTER and MFA_FORMS), in the app's
own words.

- A code from the authenticator app is accepted once. allauth remembers a used code for one
  30-second period, but with MFA_TOTP_TOLERANCE a code is valid for the steps either side
  too, so it is remembered here for the whole time it is valid. Both live in the shared
  cache (Redis in production), so another web process refuses it as well. A code refused
  because it was used is told apart from a wrong one: the person only has to wait.
- One login allows MFA_WRONG_CODES_PER_LOGIN wrong codes; then it starts again from the
  password, which django-axes counts.
"""

from allauth.account.stages import LoginStageController
from allauth.core import context
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.adapter import DefaultMFAAdapter, get_adapter
from allauth.mfa.base import forms as mfa_forms
from allauth.mfa.models import Authenticator
from allauth.mfa.stages import AuthenticateStage
from allauth.mfa.totp import forms as totp_forms
from allauth.mfa.totp.internal.auth import validate_totp_code
from django import forms
from django.conf import settings
from django.core.cache import cache

WRONG_CODES_SESSION_KEY = "accounts_mfa_wrong_codes"


class MfaAdapter(DefaultMFAAdapter):
    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "incorrect_code": (
            "That code doesn't match. Type the 6 digits your authenticator app shows now, "
            "or one of your recovery codes."
        ),
        "code_already_used": "That code was already used; wait for the next one.",
        "unverified_email": (
            "Please confirm your email address first (we emailed you a link), then set up the app."
        ),
    }


def _code_lifetime_seconds() -> int:
    return (2 * mfa_settings.TOTP_TOLERANCE + 1) * mfa_settings.TOTP_PERIOD


def _totp_of(user):
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()


class _CodeOnceMixin:
    def clean_code(self):
        code = super().clean_code()
        if self.authenticator.type == Authenticator.Type.TOTP:
            digits = "".join(c for c in code if c.isdigit())
            key = f"accounts.mfa.totp.used:{self.user.pk}:{digits}"
            if not cache.add(key, True, timeout=_code_lifetime_seconds()):
                raise get_adapter().validation_error("code_already_used")
        return code


class _CodeField:
    """Our label and hint for the code box, and the "already used" answer where allauth's
    own check gives the words of a wrong code."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].label = "Code from your authenticator app"
        self.fields["code"].help_text = "6 digits. Lost your phone? Use a recovery code."
        self.fields["code"].widget.attrs.update(
            {"placeholder": "", "inputmode": "numeric", "autocomplete": "one-time-code"}
        )

    def clean_code(self):
        try:
            return super().clean_code()
        except forms.ValidationError as error:
            if error.code != "code_already_used" and self._matches_now(
                self.cleaned_data.get("code", "")
            ):
                # allauth refuses a code it accepted in the last 30 seconds with the words
                # of a wrong one; a code that matches the app right now is that case.
                raise get_adapter().validation_error("code_already_used") from None
            raise

    def _matches_now(self, code: str) -> bool:
        totp = _totp_of(self.user)
        if totp is None or not code:
            return False
        return validate_totp_code(get_adapter().decrypt(totp.data["secret"]), code)


class _WrongCodeLimit:
    def clean_code(self):
        try:
            return super().clean_code()
        except forms.ValidationError:
            if self._wrong_code_count() >= settings.MFA_WRONG_CODES_PER_LOGIN:
                self._restart_login()
                raise forms.ValidationError(
                    "That was too many wrong codes. For your safety, please log in again "
                    "with your password, then enter a new code from your app.",
                    code="too_many_codes",
                ) from None
            raise

    def _wrong_code_count(self) -> int:
        """Count this wrong code against the login in progress (a new login starts at 0)."""
        request = context.request
        stage = LoginStageController.enter(request, AuthenticateStage.key)
        login_id = stage.login.initiated_at if stage else None
        seen = request.session.get(WRONG_CODES_SESSION_KEY) or {}
        count = (seen.get("count", 0) if seen.get("login") == login_id else 0) + 1
        request.session[WRONG_CODES_SESSION_KEY] = {"login": login_id, "count": count}
        return count

    def _restart_login(self) -> None:
        request = context.request
        request.session.pop(WRONG_CODES_SESSION_KEY, None)
        stage = LoginStageController.enter(request, AuthenticateStage.key)
        if stage is not None:
            stage.abort()


class MfaAuthenticateForm(_WrongCodeLimit, _CodeField, _CodeOnceMixin, mfa_forms.AuthenticateForm):
    pass


class MfaReauthenticateForm(_CodeField, _CodeOnceMixin, mfa_forms.ReauthenticateForm):
    pass


class ActivateTotpForm(totp_forms.ActivateTOTPForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].label = "6-digit code from the app"
        self.fields["code"].widget.attrs.update(
            {"placeholder": "", "inputmode": "numeric", "autocomplete": "one-time-code"}
        )
