"""Two-factor authentication (allauth.mfa) in the app's own words: the messages, and a
code typed twice is told apart from a wrong one."""

from allauth.mfa.adapter import DefaultMFAAdapter, get_adapter
from allauth.mfa.base import forms as mfa_forms
from allauth.mfa.models import Authenticator
from allauth.mfa.totp import forms as totp_forms
from allauth.mfa.totp.internal.auth import validate_totp_code
from django import forms


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


class _CodeField:
    """Our label and hint for the code box, and the "already used" answer."""

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
        except forms.ValidationError:
            if self._was_used_moments_ago(self.cleaned_data.get("code", "")):
                raise get_adapter().validation_error("code_already_used") from None
            raise

    def _was_used_moments_ago(self, code: str) -> bool:
        # allauth refuses a TOTP code it accepted in the last 30 seconds (kept in the cache),
        # with the same words as a wrong one. A code that matches the app right now but was
        # refused is that case: the person did nothing wrong and only has to wait.
        totp = Authenticator.objects.filter(user=self.user, type=Authenticator.Type.TOTP).first()
        if totp is None or not code:
            return False
        secret = get_adapter().decrypt(totp.data["secret"])
        return validate_totp_code(secret, code)


class AuthenticateForm(_CodeField, mfa_forms.AuthenticateForm):
    pass


class ReauthenticateForm(_CodeField, mfa_forms.ReauthenticateForm):
    pass


class ActivateTotpForm(totp_forms.ActivateTOTPForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].label = "6-digit code from the app"
        self.fields["code"].widget.attrs.update(
            {"placeholder": "", "inputmode": "numeric", "autocomplete": "one-time-code"}
        )
