"""Every response carries the security headers, also those made before any view runs: the
400 for a Host not in ALLOWED_HOSTS (over HTTPS through the proxy, and over plain HTTP),
with production settings (DEBUG off)."""

import pytest
from django.test import Client, override_settings

from ..test_settings import manage
from .test_headers import assert_hardened

pytestmark = pytest.mark.django_db

production = override_settings(
    DEBUG=False,
    ALLOWED_HOSTS=["ldn.example.org"],
    SECURE_SSL_REDIRECT=True,
    SECURE_SSL_HOST="ldn.example.org",
    SECURE_HSTS_SECONDS=31536000,
)


@production
def test_a_bad_host_over_https_gets_a_400_with_every_header():
    response = Client().get("/", secure=True, HTTP_HOST="attacker.example.com")
    assert response.status_code == 400
    assert_hardened(response)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


@production
def test_a_bad_host_over_http_is_sent_to_the_sites_own_host_with_every_header():
    response = Client().get("/today/?a=1", HTTP_HOST="attacker.example.com")
    assert response.status_code == 301
    assert response["Location"] == "https://ldn.example.org/today/?a=1"
    assert_hardened(response)


@production
def test_the_good_host_still_works():
    response = Client().get("/", secure=True, HTTP_HOST="ldn.example.org")
    assert response.status_code == 200
    assert_hardened(response)


def test_the_header_middlewares_come_before_any_that_can_refuse_a_request(settings):
    # A middleware answers for everything after it in the list, even errors raised there.
    order = settings.MIDDLEWARE
    security = order.index("django.middleware.security.SecurityMiddleware")
    for name in (
        "django.middleware.csp.ContentSecurityPolicyMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ):
        assert order.index(name) < security
    assert security < order.index("django.middleware.common.CommonMiddleware")


def test_production_redirects_plain_http_to_the_sites_own_host(production_env):
    done = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings; print(settings.SECURE_SSL_HOST)",
        env=production_env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ldn.example.org"
