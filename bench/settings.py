"""The production settings with one change: the URLconf adds the floor views (bench/urls.py),
so the floor is served by the same server and middleware but is never a product URL."""

from ldn_tracker.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
