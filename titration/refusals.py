"""A dose refusal carried to Today by a link (from a notification's "I took it"): signed,
so a link can only make Today say what the dose decision said, and only for an hour."""

from django.core import signing
from django.urls import reverse

SALT = "titration.today.refusal"
MAX_AGE_SECONDS = 60 * 60


def today_url_saying(reason: str) -> str:
    return f"{reverse('today')}?refused={signing.dumps(reason, salt=SALT)}"


def refusal_from(request) -> str:
    value = request.GET.get("refused", "")
    if not value:
        return ""
    try:
        return str(signing.loads(value, salt=SALT, max_age=MAX_AGE_SECONDS))
    except signing.BadSignature:
        return ""
