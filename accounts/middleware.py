import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.utils import timezone
from django.utils.cache import patch_cache_control


class AllowlistLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Every view needs a logged-in user unless its name is in settings.PUBLIC_VIEW_NAMES.

    Django's own middleware trusts a `login_not_required` decorator wherever it appears,
    including in third-party apps; one explicit list is easier to review for a health app.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.user.is_authenticated:
            return None
        match = request.resolver_match
        if match is not None and match.view_name in settings.PUBLIC_VIEW_NAMES:
            return None
        return self.handle_no_permission(request, view_func)


class PatientTimeZoneMiddleware:
    """Show every time in the logged-in person's own time zone, never the server's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            profile = getattr(user, "profile", None) if user.is_patient else None
            if profile is not None and profile.time_zone:
                zone = profile.zone
        if zone is not None:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class SessionPolicyMiddleware:
    """Idle and absolute session limits (issue 7).

    Idle: 30 minutes for patients, 15 for clinicians and administrators (the cookie's expiry
    is refreshed on every request). Absolute: 12 hours after login, whatever the activity.
    """

    LOGIN_AT_KEY = "_ldn_login_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            login_at = request.session.get(self.LOGIN_AT_KEY)
            if login_at is None:
                request.session[self.LOGIN_AT_KEY] = now
            elif now - login_at > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                return redirect_to_login(request.get_full_path())
            idle = (
                settings.SESSION_IDLE_SECONDS_PATIENT
                if user.is_patient
                else settings.SESSION_IDLE_SECONDS_STAFF
            )
            request.session.set_expiry(idle)
        return self.get_response(request)


class NoStoreWhenLoggedInMiddleware:
    """A page or file for a logged-in person holds their health data: no browser, proxy or
    shared cache may keep a copy (`Cache-Control: no-store, private`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response
