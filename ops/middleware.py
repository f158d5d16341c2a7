import logging
import time

from .logs import REQUEST_ID_HEADER, path_for_log, request_context_start, user_id_var

logger = logging.getLogger("ops.request")


def _user_id(request) -> int | None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.pk
    return None


class RequestLogMiddleware:
    """First in MIDDLEWARE: gives each request an id (in every log line written while it
    runs and in the X-Request-ID response header) and writes one line when it ends with
    the method, the path without its query string, the status, the duration and the user id.

    The id is always made here, never taken from the request, so a client cannot choose
    what the logs say; a proxy can log the response header to join its lines to ours.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        request_id = request_context_start()
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        # After a login the request's user is the new one; after a logout, the one the view
        # started with.
        user_id = _user_id(request) or user_id_var.get()
        user_id_var.set(user_id)
        duration_ms = round((time.monotonic() - started) * 1000, 1)
        path = path_for_log(request)
        logger.info(
            "%s %s %s %.0f ms",
            request.method,
            path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": path,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # The session and user are loaded by now; lines the view writes carry the user id.
        user_id_var.set(_user_id(request))
