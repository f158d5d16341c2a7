from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware


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
