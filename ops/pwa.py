"""The installable app's shell: the files the service worker keeps for offline use, and the
version that names their cache. Pure reading of static files; no ORM."""

import functools
import hashlib

from django.contrib.staticfiles import finders
from django.template.loader import get_template
from django.templatetags.static import static

# Everything a cached page needs to draw itself with no network: the vendored libraries,
# our CSS and JS, and the icons. Pages themselves are cached as they are visited.
SHELL_FILES = [
    "vendor/bootstrap-5.3.9/bootstrap.min.css",
    "vendor/htmx-2.0.11/htmx.min.js",
    "css/app.css",
    "js/theme.js",
    "js/app.js",
    "js/pwa.js",
    "icons/icon-192.png",
    "icons/favicon-32.png",
]
# Patient pages that open offline from the cache (the last version seen online).
OFFLINE_PAGES = ["/today/", "/diary/"]


@functools.cache
def shell_version() -> str:
    """Changes whenever a shell file or the worker itself changes, so a release replaces
    the cache instead of serving yesterday's CSS next to today's HTML. Cached per process:
    static files only change with a deploy, which restarts it."""
    digest = hashlib.sha256()
    for name in SHELL_FILES:
        path = finders.find(name)
        if path:
            with open(path, "rb") as handle:
                digest.update(handle.read())
    template = get_template("ops/sw.js").template
    digest.update(template.source.encode())
    return digest.hexdigest()[:12]


def shell_urls() -> list[str]:
    return [static(name) for name in SHELL_FILES]
