"""A test-only URLconf: the project's URLs and one view that fails, to see the 500 page."""

from django.urls import path

from ldn_tracker.urls import urlpatterns as project_urlpatterns


def boom(request):
    raise RuntimeError("A deliberate failure for the security headers test.")


urlpatterns = [*project_urlpatterns, path("boom/", boom, name="boom")]
