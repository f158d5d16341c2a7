"""Two-factor codes (allauth MFA forms, named in settings.MFA_FORMS).

- A code from the authenticator app is accepted once. allauth remembers a used code for one
  30-second period, but with MFA_TOTP_TOLERANCE a code is valid for the steps either side
  too, so it is remembered here for the whole time it is valid. Both live in the shared
  cache (Redis in production), so another web process refuses it as well.
- One login allows MFA_WRONG_CODES_PER_LOGIN wrong codes; then it starts again from the
  password, which django-axes counts.
"""

from allauth.account.stages import LoginStageController
from allauth.core import context
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.adapter import get_adapter
from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from allauth.mfa.models import Authenticator
from allauth.mfa.stages import AuthenticateStage
from django import forms
from django.conf import settings
from django.core.cache import cache

WRONG_CODES_SESSION_KEY = "accounts_mfa_wrong_codes"


def _code_lifetime_seconds() -> int:
    return (2 * mfa_settings.TOTP_TOLERANCE + 1) * mfa_settings.TOTP_PERIOD


class _CodeOnceMixin:
    def clean_code(self):
        code = super().clean_code()
        if self.authenticator.type == Authenticator.Type.TOTP:
            digits = "".join(c for c in code if c.isdigit())
            key = f"accounts.mfa.totp.used:{self.user.pk}:{digits}"
            if not cache.add(key, True, timeout=_code_lifetime_seconds()):
                raise get_adapter().validation_error("incorrect_code")
        return code


class MfaAuthenticateForm(_CodeOnceMixin, AuthenticateForm):
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


class MfaReauthenticateForm(_CodeOnceMixin, ReauthenticateForm):
    pass
