"""Helpers for reminder tests: patients due at a given instant, a real SMTP server
(aiosmtpd) that can be told to refuse, and for the integration and fault tests a Redis
server and Celery worker processes of their own (never the machine's shared Redis)."""

import datetime as dt
import email
import email.policy
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zoneinfo
from collections import deque
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.db import connection

from tests.factories import onboarded_patient
from tests.services import require_postgresql, require_service

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Hundreds of patients per test; none of these tests logs in with a password.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def patient_due_at(instant: dt.datetime, *, time_zone="Europe/London", first_name="", **kwargs):
    """A verified, onboarded patient whose reminder time is `instant`'s wall time."""
    wall = instant.astimezone(zoneinfo.ZoneInfo(time_zone))
    patient = onboarded_patient(
        time_zone=time_zone, reminder_time=dt.time(wall.hour, wall.minute), **kwargs
    )
    if first_name:
        patient.first_name = first_name
        patient.save(update_fields=["first_name"])
    return patient


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, seconds=30.0, interval=0.05):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


class SmtpSink:
    """An aiosmtpd handler that keeps what it accepts. `replies` queues answers to DATA
    ("451 ..." or "550 ...") used before accepting; `before_data` runs first, and if it
    returns a reply the message is not kept (the client never saw it accepted).
    `refuse_recipients` maps an address to the answer its RCPT TO gets."""

    def __init__(self):
        self.messages = []
        self.replies = deque()
        self.refuse_recipients = {}
        self.refusals = []
        self.before_data = None
        self.sessions = set()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_recipients:
            return self.refuse_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.sessions.add(id(session))
        if self.before_data is not None:
            reply = self.before_data(envelope)
            if reply:
                return reply
        with self.lock:
            if self.replies:
                reply = self.replies.popleft()
                self.refusals.append(reply)
                return reply
            self.messages.append(
                email.message_from_bytes(envelope.content, policy=email.policy.default)
            )
        return "250 Message accepted for delivery"

    def message_ids(self):
        with self.lock:
            return [m["Message-ID"] for m in self.messages]

    def to(self):
        with self.lock:
            return [m["To"] for m in self.messages]


@pytest.fixture
def smtp_sink():
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    sink.port = controller.port
    yield sink
    controller.stop()


@pytest.fixture
def smtp_mailer(settings, smtp_sink):
    """The default mailer pointed at the real SMTP sink."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": smtp_sink.port, "timeout": 5},
        }
    }
    return smtp_sink


# Processes of our own --------------------------------------------------------------------


class RedisServer:
    def __init__(self, port, workdir):
        self.port, self.workdir, self.process = port, workdir, None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_for(self.ping, 10), "our redis-server did not start"

    def ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


class Worker:
    """`celery worker` as a real process (prefork, two children), in its own process group
    so a SIGKILL takes the parent and its children as a crash would."""

    def __init__(self, env, log_path):
        self.env, self.log_path, self.process = env, log_path, None

    def start(self):
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "ldn_tracker",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(self.env.get("WORKER_CONCURRENCY", "2")),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"reminders-test-{os.getpid()}@%h",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert wait_for(lambda: b"ready." in Path(self.log_path).read_bytes(), 60), (
            "the worker did not start:\n" + Path(self.log_path).read_text()[-3000:]
        )

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None
        self.log.close()


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def stack(transactional_db, smtp_sink, tmp_path, settings):
    """Our own redis-server, a real Celery worker process reading the test database and
    sending to the SMTP sink, and this process's Celery app publishing to that Redis."""
    require_postgresql()  # the worker process must see the test's rows
    require_service("redis-server", shutil.which("redis-server") is not None, "binary not found")
    from ldn_tracker.celery import app
    from tests.services import celery_broker

    redis = RedisServer(free_port(), tmp_path)
    redis.start()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CELERY_", "PYTEST", "DJANGO_"))
    }
    env.update(
        DEBUG="true",
        ENV_FILE="/dev/null",
        DJANGO_SETTINGS_MODULE="ldn_tracker.settings",
        DATABASE_URL=database_url(),
        REDIS_URL=redis.url,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_sink.port}",
        REMINDER_RETRY_BASE_SECONDS="1",
        REMINDER_LEASE_SECONDS="5",
        CONN_MAX_AGE="0",
        LOG_LEVEL="INFO",
    )
    settings.REMINDER_LEASE_SECONDS = 5
    worker = Worker(env, tmp_path / "worker.log")

    class Stack:
        pass

    parts = Stack()
    parts.redis, parts.worker, parts.sink, parts.env = redis, worker, smtp_sink, env
    # Fail fast when Redis is down instead of kombu's default retries.
    with celery_broker(app, redis.url, {"max_retries": 1}):
        worker.start()
        try:
            yield parts
        finally:
            worker.stop()
            redis.stop()


# Web Push ------------------------------------------------------------------------------


@pytest.fixture
def push_service(settings):
    """Our own push service on 127.0.0.1, and this app's VAPID keys set to a new pair."""
    from .push_service import PushService, vapid_key_pair

    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = vapid_key_pair()
    settings.VAPID_SUBJECT = "mailto:reminders@example.org"
    service = PushService(settings.VAPID_PUBLIC_KEY).start()
    yield service
    service.stop()


def push_device(service, patient, *, channel="push"):
    """Subscribe one browser of `patient` on the push service; returns its id there."""
    from reminders.models import PushSubscription, ReminderSettings

    sub_id, browser = service.browser()
    PushSubscription.objects.create(
        patient=patient, endpoint=browser.endpoint, p256dh=browser.p256dh,
        auth=_b64url(browser.auth), label="Chrome on Android",
    )  # fmt: skip
    ReminderSettings.objects.update_or_create(patient=patient, defaults={"channel": channel})
    return sub_id


def _b64url(raw: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
