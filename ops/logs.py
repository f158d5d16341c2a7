"""Log lines an operator can search: JSON in production, one line per request and per task.

Every line carries what identifies the work it belongs to, never who the person is or what
they wrote: the request id (also sent to the client as X-Request-ID), the user's numeric id,
and inside a Celery task its id and name. Loaded by settings.LOGGING before the apps, so
nothing here touches the ORM.
"""

import logging
import re
import uuid
from contextvars import ContextVar

from celery import current_task
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id_var: ContextVar[int | None] = ContextVar("user_id", default=None)


def request_context_start() -> str:
    """A new request id for the request this thread starts now; returns it."""
    request_id = uuid.uuid4().hex
    request_id_var.set(request_id)
    user_id_var.set(None)
    return request_id


def request_context_clear(**kwargs):
    """On request_finished: Django logs a 4xx or 5xx answer after the last middleware has
    returned, so the context lasts until the response is closed, not until the middleware
    is done."""
    request_id_var.set(None)
    user_id_var.set(None)


class ContextFilter(logging.Filter):
    """Adds request_id and user_id inside a request, task_id and task_name inside a task.

    Attributes are only set when known, so a line from start-up has none of them.
    """

    def filter(self, record):
        request_id = request_id_var.get()
        if request_id is not None:
            record.request_id = request_id
            user_id = user_id_var.get()
            if user_id is not None:
                record.user_id = user_id
        # A proxy: false outside a task.
        if current_task and current_task.request.id is not None:
            record.task_id = current_task.request.id
            record.task_name = current_task.name
        return True


class JsonFormatter(BaseJsonFormatter):
    """One JSON object per line: time, level, logger, message, then the context and extras.

    Django attaches the request object to its `django.request` warnings; its text is the full
    URL with the query string (a search term, a token), so that attribute is never written.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(message)s")
        kwargs.setdefault("timestamp", "time")  # ISO 8601 in UTC
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request"])
        super().__init__(*args, **kwargs)


_REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def path_for_log(request) -> str:
    """The request's path without its query string, and with every URL parameter that is
    not a number shown by name: a sharing code, a reminder token or an email-confirmation
    key in a URL is a secret, and numeric ids are what the audit log holds anyway."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return request.path
    kwargs = match.kwargs

    def named(found):
        converter, name = found.group(1), found.group(2)
        if converter == "int" and isinstance(kwargs.get(name), int):
            return str(kwargs[name])
        return f"<{name}>"

    route = _REGEX_GROUP.sub(r"<\1>", match.route).replace("^", "").replace("$", "")
    return (
        request.path[: len(request.path) - len(request.path_info)]
        + "/"
        + _CONVERTER.sub(named, route)
    )
