"""The product's URLs plus the floor: the least an authenticated Django request can cost.

The floor views go through every middleware the product's views do (sessions saved on each
request, CSRF, the login-required allow-list, time zone, session policy, CSP...) and do
nothing else: no query of their own, a tiny response. What a product view costs above them
is the view's own work.
"""

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_GET, require_POST

# A minimal valid page, so the browser benchmark can time its Largest Contentful Paint too.
FLOOR_PAGE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Floor</title></head>'
    b"<body><h1>Floor</h1><p>The least an authenticated page can cost.</p></body></html>"
)


@require_GET
def floor(request):
    return HttpResponse(FLOOR_PAGE)


@require_POST
def floor_post(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/floor/", floor, name="bench_floor"),
    path("bench/floor/post/", floor_post, name="bench_floor_post"),
    path("", include("ldn_tracker.urls")),
]
