"""The settings production reads (ldn_tracker.settings), for a gunicorn a test starts, with
plain static files: collecting and compressing them takes half a minute and is not what
those tests are about."""

from ldn_tracker.settings import *  # noqa: F403
from ldn_tracker.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
