"""The address a request came from: the one answer used by the login lockout (django-axes),
allauth's rate limits and the audit log.

Behind the TLS proxy REMOTE_ADDR is the proxy, the same for everyone, so the client is read
from X-Forwarded-For. Only the entries our own proxies appended can be trusted (anything to
their left is whatever the client sent), so with TRUSTED_PROXY_COUNT proxies the client is the
entry that many places from the right. Without BEHIND_TLS_PROXY the header is ignored: anyone
could send it.
"""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    if not settings.BEHIND_TLS_PROXY:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop for hop in (part.strip() for part in header.split(",")) if hop]
    count = settings.TRUSTED_PROXY_COUNT
    if count < 1 or len(hops) < count:
        # Not through all our proxies (or none is configured): only the peer is known.
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote
