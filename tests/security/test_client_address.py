"""Behind the TLS proxy every request arrives from the proxy's address. The client's own
address (ldn_tracker.client_ip) is what the login lockout, allauth's rate limits and the
audit log count: read from X-Forwarded-For only behind the proxy, only from the entries our
proxies appended."""

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.test import RequestFactory, override_settings
from django.urls import reverse

from clinic.models import AuditEvent
from clinic.services import audit_event_record
from ldn_tracker.client_ip import client_ip

from ..factories import PASSWORD

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.5"  # every request reaches the app from the proxy
ATTACKER = "198.51.100.66"
VICTIM = "203.0.113.7"
WRONG = "not-my-password-99"
behind_proxy = override_settings(BEHIND_TLS_PROXY=True, TRUSTED_PROXY_COUNT=1)


def request_from(remote=PROXY, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def log_in(client, password, forwarded, email="alex@example.org"):
    return client.post(
        reverse("account_login"),
        {"login": email, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


# The address -------------------------------------------------------------------------------


def test_without_the_proxy_setting_the_header_is_ignored():
    assert client_ip(request_from("192.0.2.1", forwarded=ATTACKER)) == "192.0.2.1"


@behind_proxy
def test_behind_one_proxy_the_client_is_the_entry_the_proxy_appended():
    assert client_ip(request_from(forwarded=VICTIM)) == VICTIM
    # Whatever the client wrote itself is to the left of what our proxy appended.
    assert client_ip(request_from(forwarded=f"1.2.3.4, 5.6.7.8, {VICTIM}")) == VICTIM


@override_settings(BEHIND_TLS_PROXY=True, TRUSTED_PROXY_COUNT=2)
def test_behind_two_proxies_the_client_is_second_from_the_right():
    assert client_ip(request_from(forwarded=f"1.2.3.4, {VICTIM}, 10.0.0.9")) == VICTIM


@behind_proxy
def test_a_missing_short_or_garbled_header_falls_back_to_the_peer():
    assert client_ip(request_from()) == PROXY
    assert client_ip(request_from(forwarded="")) == PROXY
    assert client_ip(request_from(forwarded="not-an-address")) == PROXY
    with override_settings(TRUSTED_PROXY_COUNT=3):
        assert client_ip(request_from(forwarded=f"{VICTIM}, 10.0.0.9")) == PROXY


@behind_proxy
def test_ipv6_is_normalised():
    assert client_ip(request_from(forwarded="2001:DB8:0:0::1")) == "2001:db8::1"


# The lockout -------------------------------------------------------------------------------


@behind_proxy
def test_wrong_passwords_from_elsewhere_do_not_lock_the_patient_out(client, patient):
    statuses = [log_in(client, WRONG, ATTACKER).status_code for _ in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]

    response = log_in(client, PASSWORD, VICTIM)

    assert response.status_code == 302
    assert response["Location"] == reverse("today")
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address) == ("alex@example.org", ATTACKER)


@behind_proxy
def test_rewriting_the_header_does_not_escape_the_lockout(client, patient):
    # An attacker can write anything left of the proxy's entry; it is not read.
    statuses = [log_in(client, WRONG, f"192.0.2.{n}, {ATTACKER}").status_code for n in range(1, 6)]
    assert statuses == [200, 200, 200, 200, 429]
    assert log_in(client, PASSWORD, f"192.0.2.99, {ATTACKER}").status_code == 429


def test_without_the_proxy_setting_a_forged_header_does_not_escape_the_lockout(client, patient):
    statuses = [log_in(client, WRONG, f"192.0.2.{n}").status_code for n in range(1, 6)]
    assert statuses == [200, 200, 200, 200, 429]
    assert AccessAttempt.objects.get().ip_address == PROXY


@behind_proxy
def test_the_lockout_page_says_when_to_try_again_and_offers_a_reset(client, patient):
    for _ in range(5):
        response = log_in(client, WRONG, ATTACKER)
    assert response.status_code == 429
    page = " ".join(response.content.decode().split())
    assert "You can try again in 15 minutes." in page
    assert "paused after 5 wrong passwords" in page
    assert reverse("account_reset_password") in page


@behind_proxy
def test_a_locked_out_patient_can_reset_the_password_and_log_in_at_once(client, patient):
    for _ in range(5):
        log_in(client, WRONG, VICTIM)
    assert log_in(client, PASSWORD, VICTIM).status_code == 429

    asked = client.post(
        reverse("account_reset_password"),
        {"email": "alex@example.org"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=VICTIM,
    )
    assert asked.status_code == 302
    [message] = mail.outbox
    link = next(line for line in message.body.splitlines() if "/password/reset/key/" in line)
    path = "/" + link.strip().split("/", 3)[3]
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    new_password = "a-brand-new-calm-sentence-7"
    done = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else path,
        {"password1": new_password, "password2": new_password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=VICTIM,
    )
    assert done.status_code == 302

    response = log_in(client, new_password, VICTIM)

    assert response.status_code == 302
    assert response["Location"] == reverse("today")


# The audit log -----------------------------------------------------------------------------


@behind_proxy
def test_the_audit_log_records_the_clients_address_not_the_proxys(patient, clinician):
    request = request_from(forwarded=f"192.0.2.1, {VICTIM}")
    request.user = clinician

    audit_event_record(
        request=request,
        patient_id=patient.pk,
        action=AuditEvent.Action.choices[0][0],
        outcome=AuditEvent.Outcome.DENIED,
    )

    assert AuditEvent.objects.get().ip_address == VICTIM
