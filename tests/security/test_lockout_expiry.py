"""The login lockout lasts 15 minutes (tests/accounts/test_login.py covers the lock itself).

An attempt during the lockout starts the 15 minutes again (django-axes' default), so someone
guessing without pause stays locked out."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from ..factories import PASSWORD

pytestmark = pytest.mark.django_db


def log_in(client, password, ip="203.0.113.7"):
    return client.post(
        reverse("account_login"),
        {"login": "alex@example.org", "password": password},
        REMOTE_ADDR=ip,
    )


def lock_out(client, at):
    with time_machine.travel(at, tick=False):
        statuses = [log_in(client, "not-my-password-99").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]


def test_the_right_password_works_again_15_minutes_after_the_lockout(client, patient):
    start = timezone.now()
    lock_out(client, start)
    with time_machine.travel(start + dt.timedelta(minutes=15, seconds=10), tick=False):
        response = log_in(client, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("today")


def test_an_attempt_during_the_lockout_is_refused_and_restarts_the_15_minutes(client, patient):
    start = timezone.now()
    lock_out(client, start)
    retry = start + dt.timedelta(minutes=14, seconds=50)
    with time_machine.travel(retry, tick=False):
        assert log_in(client, PASSWORD).status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=15, seconds=10), tick=False):
        assert log_in(client, PASSWORD).status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=45), tick=False):
        assert log_in(client, PASSWORD).status_code == 302
