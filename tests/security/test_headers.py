"""Security headers on a page, a 404 and a 500; production's HSTS and cookie flags."""

import re

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

PRODUCTION = {
    "DEBUG": False,
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
}


def directives(response) -> dict:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def assert_hardened(response):
    policy = directives(response)
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def assert_scripts_carry_the_nonce(response):
    nonces = [v for v in directives(response)["script-src"] if v.startswith("'nonce-")]
    assert len(nonces) == 1, "script-src needs a per-response nonce"
    nonce = nonces[0][len("'nonce-") : -1]
    scripts = re.findall(r"<script[^>]*>", response.content.decode())
    assert scripts
    assert all(f'nonce="{nonce}"' in tag for tag in scripts)
    return nonce


def test_a_page_has_the_headers_and_a_fresh_nonce_each_time(client):
    first, second = client.get("/"), client.get("/")
    assert first.status_code == 200
    assert_hardened(first)
    assert assert_scripts_carry_the_nonce(first) != assert_scripts_carry_the_nonce(second)


def test_a_404_has_the_headers(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert_hardened(response)
    assert_scripts_carry_the_nonce(response)


@override_settings(ROOT_URLCONF="tests.security.boom_urls")
def test_a_500_has_the_headers_and_says_nothing_about_the_failure(patient):
    client = Client(raise_request_exception=False)
    client.force_login(patient)
    response = client.get("/boom/")
    assert response.status_code == 500
    assert_hardened(response)
    assert b"deliberate failure" not in response.content
    assert b"Traceback" not in response.content


@override_settings(**PRODUCTION)
def test_production_sends_hsts_and_redirects_plain_http(client):
    assert client.get("/").status_code == 301
    response = client.get("/", secure=True)
    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    assert_hardened(response)


@override_settings(**PRODUCTION)
def test_production_cookies_are_secure_httponly_and_samesite(client, patient):
    page = client.get("/accounts/login/", secure=True)
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"] and csrf["samesite"] == "Lax"
    response = client.post(
        "/accounts/login/",
        {"login": patient.email, "password": "calm-river-stone-42"},
        secure=True,
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"
