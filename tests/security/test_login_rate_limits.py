"""allauth's login rate limits count per client address, so behind the proxy one client
hammering the login form does not shut it for everyone."""

import pytest
from django.test import override_settings
from django.urls import reverse

from ..factories import PASSWORD, onboarded_patient

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.5"
NOISY = "198.51.100.66"
OTHER = "203.0.113.7"
WRONG = "not-my-password-99"


def log_in(client, email, password, forwarded):
    return client.post(
        reverse("account_login"),
        {"login": email, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


@override_settings(BEHIND_TLS_PROXY=True, TRUSTED_PROXY_COUNT=1)
def test_31_failed_logins_from_one_client_do_not_block_another(client, patient):
    others = [onboarded_patient(email=f"p{n}@example.org") for n in range(8)]
    emails = [p.email for p in others]

    statuses = [
        log_in(client, emails[n % len(emails)], WRONG, NOISY).status_code for n in range(31)
    ]

    # The noisy client is stopped: by its 31st post in a minute at the latest.
    assert statuses[-1] == 429
    assert log_in(client, "alex@example.org", PASSWORD, NOISY).status_code == 429
    # Another client logs in, to an account the noisy one tried and to another.
    assert log_in(client, emails[0], PASSWORD, OTHER).status_code == 302
    client.logout()
    assert log_in(client, "alex@example.org", PASSWORD, OTHER).status_code == 302


@override_settings(BEHIND_TLS_PROXY=True, TRUSTED_PROXY_COUNT=1)
def test_wrong_passwords_across_accounts_from_one_client_are_slowed(client, patient):
    accounts = [onboarded_patient(email=f"q{n}@example.org") for n in range(11)]
    pages = [log_in(client, p.email, WRONG, NOISY) for p in accounts]
    # Ten wrong passwords a minute per client address, whichever accounts they name.
    assert [p.status_code for p in pages] == [200] * 11
    assert "Too many failed login attempts" not in pages[9].content.decode()
    assert "Too many failed login attempts" in pages[10].content.decode()
    assert log_in(client, "alex@example.org", PASSWORD, OTHER).status_code == 302
