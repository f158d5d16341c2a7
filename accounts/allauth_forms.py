"""allauth's account forms with our labels. Kept apart from accounts/forms.py, which allauth
itself imports for the sign-up form."""

from allauth.account import forms as allauth_forms


class ResetPasswordKeyForm(allauth_forms.ResetPasswordKeyForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].label = "New password"
        self.fields["password2"].label = "New password, again"
        for name in ("password1", "password2"):
            self.fields[name].widget.attrs.pop("placeholder", None)
