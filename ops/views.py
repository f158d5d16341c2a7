import json

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ldn_tracker.celery import app as celery_app

from . import pwa
from .models import WorkerHeartbeat

# How long /healthz waits for the broker. Load balancers give up after a few seconds, and a
# broker that accepts the connection but never answers (frozen Redis, a proxy in front of a
# dead one) would otherwise hold the request forever: kombu's Redis transport has no socket
# timeouts unless they are asked for.
BROKER_CHECK_TIMEOUT_SECONDS = 2.0


def _database_ok():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def _broker_ok():
    timeout = BROKER_CHECK_TIMEOUT_SECONDS
    socket_timeouts = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    try:
        with celery_app.connection_for_write(transport_options=socket_timeouts) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
        return True
    except Exception:  # noqa: BLE001 - any failure to reach the broker is "down"
        return False


def _worker_status():
    try:
        beat = WorkerHeartbeat.objects.order_by("-seen_at").first()
    except DatabaseError:
        return {"status": "unknown", "last_seen": None}
    if beat is None:
        return {"status": "none", "last_seen": None}
    fresh = timezone.now() - beat.seen_at <= settings.WORKER_HEARTBEAT_MAX_AGE
    return {"status": "ok" if fresh else "stale", "last_seen": beat.seen_at.isoformat()}


@never_cache
@require_GET
def healthz(request):
    """Public status for load balancers: 200 only when the database answers."""
    database = _database_ok()
    body = {
        "database": "ok" if database else "down",
        "broker": "ok" if _broker_ok() else "down",
        "worker": _worker_status() if database else {"status": "unknown", "last_seen": None},
    }
    return JsonResponse(body, status=200 if database else 503)


@require_GET
def web_manifest(request):
    """The web app manifest: what a phone needs to put the app on its home screen."""
    icons = [
        {"src": static(f"icons/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
        for size in (192, 512)
    ]
    icons += [
        {
            "src": static(f"icons/icon-maskable-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "maskable",
        }
        for size in (192, 512)
    ]
    icons.append({"src": static("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"})
    body = {
        "name": "LDN Tracker",
        "short_name": "LDN",
        "description": "Your LDN dose tonight, your diary and your reminders.",
        "id": "/",
        "start_url": reverse("today"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#f6f8f7",
        "theme_color": "#0b5e63",
        "icons": icons,
    }
    response = JsonResponse(body)
    response["Content-Type"] = "application/manifest+json"
    return response


@require_GET
def service_worker(request):
    """Served from the site root, so its scope is the whole site. Never cached by the
    browser's HTTP cache: the browser checks it on each visit and installs a new version."""
    config = {
        "version": pwa.shell_version(),
        "shell": pwa.shell_urls(),
        "offlinePages": pwa.OFFLINE_PAGES,
        "icon": static("icons/icon-192.png"),
        "badge": static("icons/favicon-32.png"),
        "logout": reverse("account_logout"),
        "today": reverse("today"),
    }
    # JSON is valid JavaScript; "<" escaped all the same, as json_script does.
    context = {"config": json.dumps(config).replace("<", "\\u003c")}
    response = render(request, "ops/sw.js", context, content_type="text/javascript")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response
