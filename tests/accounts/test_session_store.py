"""accounts.sessions: the per-request refresh of a session, outside any test transaction (the
store takes its one-statement path only when no transaction is open)."""

import datetime as dt

import pytest
import time_machine
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.urls import reverse

from accounts.middleware import SessionPolicyMiddleware
from accounts.sessions import SessionStore

from ..factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="asynchronous commit is PostgreSQL's"
)


def _stored(session_key):
    row = Session.objects.get(session_key=session_key)
    return row.expire_date, row.get_decoded()


def test_each_request_moves_the_idle_expiry_in_the_database(client, patient):
    with time_machine.travel(T0, tick=False):
        client.post(reverse("account_login"), {"login": patient.email, "password": PASSWORD})
        assert client.get(reverse("today")).status_code == 200
        key = client.cookies["sessionid"].value
        expires, data = _stored(key)
        assert expires == T0 + dt.timedelta(minutes=30)
        assert data[SessionPolicyMiddleware.LOGIN_AT_KEY] == int(T0.timestamp())
    with time_machine.travel(T0 + dt.timedelta(minutes=29), tick=False):
        client.get(reverse("today"))
        assert _stored(key)[0] == T0 + dt.timedelta(minutes=59)
    with time_machine.travel(T0 + dt.timedelta(minutes=59, seconds=1), tick=False):
        response = client.get(reverse("today"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_a_refresh_keeps_what_the_request_put_in_the_session(db):
    store = SessionStore()
    store["step"] = 1
    store.save(must_create=True)
    again = SessionStore(store.session_key)
    again["step"] = 2
    again["note"] = "pain 6, slept badly"
    again.save()
    assert _stored(store.session_key)[1] == {"step": 2, "note": "pain 6, slept badly"}


def test_refreshing_a_session_deleted_meanwhile_fails_as_django_reports_it(db):
    store = SessionStore()
    store["x"] = 1
    store.save(must_create=True)
    stale = SessionStore(store.session_key)
    assert stale["x"] == 1  # this request read its session
    store.delete()  # then it was logged out in another tab
    stale["x"] = 2
    with pytest.raises(UpdateError):
        stale.save()
    assert not Session.objects.filter(session_key=store.session_key).exists()


@on_postgresql
def test_inside_a_transaction_the_refresh_leaves_synchronous_commit_on(db):
    store = SessionStore()
    store.save(must_create=True)
    with transaction.atomic(), connection.cursor() as cursor:
        SessionStore(store.session_key).save()
        cursor.execute("SELECT current_setting('synchronous_commit')")
        assert cursor.fetchone()[0] == "on"


def _wal_syncs(cursor):
    cursor.execute("SELECT pg_stat_force_next_flush()")
    cursor.execute("SELECT wal_sync FROM pg_stat_wal")
    return cursor.fetchone()[0]


@on_postgresql
def test_a_refresh_does_not_wait_for_the_disk_and_a_login_does(db):
    """Counted by PostgreSQL: each durable commit syncs the WAL once; the refreshes leave it
    to the WAL writer. (The count is the whole server's; other work only adds to it.)"""
    n = 100
    stores = []
    for _ in range(n):
        store = SessionStore()
        store["x"] = 0
        stores.append(store)
    with connection.cursor() as cursor:
        before = _wal_syncs(cursor)
        for store in stores:
            store.save(must_create=True)  # a login: Django's durable path
        created = _wal_syncs(cursor)
        for store in stores:
            store["x"] = 1
            store.save()
        refreshed = _wal_syncs(cursor)
        cursor.execute("SELECT current_setting('synchronous_commit')")
        setting_after = cursor.fetchone()[0]
    assert created - before >= n
    assert refreshed - created < n / 2
    assert setting_after == "on"  # only each refresh's own transaction was asynchronous
    assert Session.objects.filter(session_data__isnull=False).count() >= n
