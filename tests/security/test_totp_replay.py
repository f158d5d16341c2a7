"""A two-factor code is accepted once, however many web processes there are: gunicorn with
two workers and production settings, sharing a Redis cache (a redis-server of the test's
own), in front of the test database on PostgreSQL.

Which worker answers a request is the kernel's choice, so the test makes it: a connection
that has sent only half its headers keeps the worker that accepted it busy, and the next
request goes to the other one. The access log names the worker of every request."""

import http.client
import os
import re
import shutil
import socket
import subprocess
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis
from django.conf import settings

from clinic.models import Clinic

from ..clinic.conftest import approved_clinician, totp_code
from ..factories import PASSWORD
from ..reminders.conftest import RedisServer, database_url, free_port, wait_for
from ..services import require_postgresql, require_service

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BASE_DIR = Path(__file__).resolve().parents[2]
GUNICORN = BASE_DIR / ".venv" / "bin" / "gunicorn"
CLIENT = "203.0.113.7"


class Browser:
    """Cookies and CSRF over plain HTTP, as if through the TLS proxy (X-Forwarded-*)."""

    def __init__(self, port):
        self.port, self.cookies = port, {}

    def request(self, method, path, form=None):
        headers = {
            "Host": f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": CLIENT,
            "Origin": f"https://127.0.0.1:{self.port}",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode({**form, "csrfmiddlewaretoken": self.cookies["csrftoken"]})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            content = response.read().decode()
        finally:
            connection.close()
        for header in response.msg.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, response.getheader("Location"), content

    def log_in_with_password(self, email):
        self.request("GET", "/accounts/login/")
        status, location, _ = self.request(
            "POST", "/accounts/login/", {"login": email, "password": PASSWORD}
        )
        assert (status, location) == (302, "/accounts/2fa/authenticate/")

    def send_code(self, code):
        return self.request("POST", "/accounts/2fa/authenticate/", {"code": code})


class Gunicorn:
    def __init__(self, env, workdir):
        self.port = free_port()
        self.env, self.log_path, self.access_path = env, workdir / "gunicorn.log", workdir / "a.log"
        self.process = None

    def start(self):
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                str(GUNICORN),
                "ldn_tracker.wsgi",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "60",
                "--access-logfile",
                str(self.access_path),
                "--access-logformat",
                "%(p)s %(m)s %(U)s %(s)s",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        assert wait_for(self._both_workers_booted, 60), self.log_path.read_text()[-3000:]

    def _both_workers_booted(self):
        return self.log_path.read_bytes().count(b"Booting worker") >= 2 and self._answers()

    def _answers(self):
        try:
            Browser(self.port).request("GET", "/healthz")
        except OSError:
            return False
        return True

    def hold_a_worker(self):
        """A request cut off halfway through its headers: the worker that takes it waits."""
        held = socket.create_connection(("127.0.0.1", self.port))
        held.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n".encode())
        time.sleep(0.5)  # for a worker to accept it
        return held

    def release(self, held):
        held.sendall(b"X-Forwarded-Proto: https\r\nConnection: close\r\n\r\n")
        held.recv(65536)
        held.close()

    def workers_of(self, method, path):
        lines = self.access_path.read_text().splitlines()
        return [line.split()[0] for line in lines if line.split()[1:3] == [method, path]]

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None
        self.log.close()


@pytest.fixture
def served(transactional_db, tmp_path):
    require_postgresql()  # the workers must see the test's rows
    require_service("redis-server", shutil.which("redis-server") is not None, "binary not found")
    cache_redis = RedisServer(free_port(), tmp_path)
    cache_redis.start()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CELERY_", "PYTEST", "DJANGO_")) and key != "CACHE_URL"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="tests.security.served_settings",
        ENV_FILE="/dev/null",
        DEBUG="false",
        # The authenticator's secret is stored encrypted with the signing key.
        SECRET_KEY=settings.SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url(),
        REDIS_URL=cache_redis.url,
        EMAIL_URL="smtp://127.0.0.1:1",
        BEHIND_TLS_PROXY="true",
        CONN_MAX_AGE="0",
        LOG_LEVEL="WARNING",
    )
    server = Gunicorn(env, tmp_path)
    server.start()
    server.redis = cache_redis
    try:
        yield server
    finally:
        server.stop()
        cache_redis.stop()


def test_the_same_code_in_two_fresh_logins_on_two_workers_is_accepted_once(served):
    doctor = approved_clinician("dr.lee@example.org", Clinic.objects.create(name="Riverside"))
    first, second = Browser(served.port), Browser(served.port)
    first.log_in_with_password(doctor.email)
    second.log_in_with_password(doctor.email)
    code = totp_code(doctor.totp_secret)

    held = served.hold_a_worker()
    accepted = first.send_code(code)
    other_held = served.hold_a_worker()  # the worker that accepted the code
    served.release(held)
    replayed = second.send_code(code)
    served.release(other_held)

    workers = served.workers_of("POST", "/accounts/2fa/authenticate/")
    assert len(workers) == 2 and workers[0] != workers[1], workers
    assert accepted[:2] == (302, "/clinic/")
    assert replayed[0] == 200
    assert "That code was already used" in replayed[2]
    # The cache is the Redis database of its own (1), apart from the broker's (0).
    used = redis.Redis(port=served.redis.port, db=1).keys("*totp.used*")
    assert len(used) == 2, used  # allauth's mark and ours
    assert redis.Redis(port=served.redis.port, db=0).dbsize() == 0
    errors = re.findall(r"Traceback|\bERROR\b", served.log_path.read_text())
    assert not errors, served.log_path.read_text()[-3000:]
