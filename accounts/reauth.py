"""The password again before the most sensitive things (downloading all your data, deleting
the account), but only when this session's last login or password check is older than
ACCOUNT_REAUTHENTICATION_TIMEOUT: asking seconds after a login only gets in the way.

allauth's own check counts only a password typed again; a login counts here too."""

import time

from allauth.account import app_settings as allauth_account_settings
from allauth.account.authentication import get_authentication_records
from allauth.account.decorators import reauthentication_required
from allauth.core.exceptions import ReauthenticationRequired


def login_is_recent(request) -> bool:
    """True when this session logged in, or typed its password again, within the timeout."""
    records = get_authentication_records(request, request.user)
    latest = max((record.get("at", 0) for record in records), default=0)
    return time.time() - latest < allauth_account_settings.REAUTHENTICATION_TIMEOUT


def _login_is_old(request) -> bool:
    return not login_is_recent(request)


def recent_login_required(view):
    """allauth's password check (its page, then the request carried on), when the login is
    older than the timeout."""
    return reauthentication_required(view, enabled=_login_is_old)


def recent_login_check(request) -> None:
    """The same, from inside a view that validates its form first: the password is asked
    for only once the action is confirmed, and the confirmed request is carried on."""
    if not login_is_recent(request):
        raise ReauthenticationRequired
