"""The site's public address, for links that leave the site (emails, exports)."""

from django.conf import settings


def absolute_url(path: str) -> str:
    """`path` (from `reverse`) on the configured SITE_URL."""
    return settings.SITE_URL.rstrip("/") + path
