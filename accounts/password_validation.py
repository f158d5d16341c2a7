"""Password rules Django does not ship: an upper bound, and a longer minimum for clinicians."""

from django.core.exceptions import ValidationError

MAX_PASSWORD_LENGTH = 128
CLINICIAN_MIN_LENGTH = 12


class MaximumLengthValidator:
    """Long passphrases are welcome, but hashing megabytes of input is a denial of service."""

    def __init__(self, max_length=MAX_PASSWORD_LENGTH):
        self.max_length = max_length

    def validate(self, password, user=None):
        if len(password) > self.max_length:
            raise ValidationError(
                f"Please use a password of at most {self.max_length} characters.",
                code="password_too_long",
            )

    def get_help_text(self):
        return f"Your password can be up to {self.max_length} characters long."


class ClinicianMinimumLengthValidator:
    """Clinician accounts open many patients' records, so their passwords must be longer."""

    def __init__(self, min_length=CLINICIAN_MIN_LENGTH):
        self.min_length = min_length

    def validate(self, password, user=None):
        is_clinician = user is not None and getattr(user, "is_clinician", False)
        if is_clinician and len(password) < self.min_length:
            raise ValidationError(
                f"Clinician passwords need at least {self.min_length} characters.",
                code="password_too_short_for_clinician",
            )

    def get_help_text(self):
        return f"Clinicians need at least {self.min_length} characters."
