"""Push delivery throughput: `.venv/bin/python -m bench.push [--notifications N]`.

What one worker process spends per notification on our delivery path (reminders.push.Sender:
VAPID signature, aes128gcm encryption, one POST over a kept-alive session), against a floor
measured in the same run: the same payloads encrypted and posted by a bare pywebpush loop.
Both post to a local push service in its own process (tests/reminders/push_service.py) that
checks every VAPID signature and decrypts every payload, as a real one and the browser would.
Reports notifications per second for each and their ratio, and what 100,000 would take with
one process per core. It does not include the database (the tick's rows, claims and status
writes): bench.reminders measures those for email, and push shares them.
"""

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(BASE_DIR))


def service_main(vapid_public, count, conn, delivered):
    from tests.reminders.push_service import PushService, b64url

    service = PushService(vapid_public)
    subscriptions = []
    for _ in range(count):
        _, browser = service.browser()
        subscriptions.append((browser.endpoint, browser.p256dh, b64url(browser.auth)))

    class Counted(list):
        def append(self, item):
            super().append(item)
            with delivered.get_lock():
                delivered.value += 1

    service.delivered = Counted()
    service.start()
    conn.send(subscriptions)
    conn.recv()  # until told to stop
    service.stop()


def django_ready(vapid_public, vapid_private):
    os.environ.update(
        DJANGO_SETTINGS_MODULE="ldn_tracker.settings",
        DEBUG="true",
        ENV_FILE="/dev/null",
        VAPID_PUBLIC_KEY=vapid_public,
        VAPID_PRIVATE_KEY=vapid_private,
        VAPID_SUBJECT="mailto:bench@example.org",
    )
    import django

    django.setup()


def ours(subscriptions, payload):
    from reminders import push
    from reminders.models import PushSubscription

    sender = push.Sender()
    started = time.perf_counter()
    for endpoint, p256dh, auth in subscriptions:
        outcome = sender.send(
            PushSubscription(endpoint=endpoint, p256dh=p256dh, auth=auth), payload
        )
        assert outcome.delivered, outcome
    elapsed = time.perf_counter() - started
    sender.close()
    return elapsed


def floor(subscriptions, payload, private_key):
    import requests
    from py_vapid import Vapid
    from pywebpush import webpush

    session, key = requests.Session(), Vapid.from_string(private_key)
    started = time.perf_counter()
    for endpoint, p256dh, auth in subscriptions:
        webpush(
            {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
            data=payload,
            vapid_private_key=key,
            vapid_claims={"sub": "mailto:bench@example.org"},
            ttl=7200,
            requests_session=session,
        )
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notifications", type=int, default=2000)
    args = parser.parse_args()
    from tests.reminders.push_service import vapid_key_pair

    public, private = vapid_key_pair()
    django_ready(public, private)
    payload = (
        '{"title": "Your evening reminder", "body": "Time for your evening dose.", '
        '"tag": "dose-2026-01-15", "url": "https://ldn.example.org/today/", '
        '"take": "https://ldn.example.org/r/' + "x" * 80 + '/push/", '
        '"snooze": "https://ldn.example.org/r/' + "y" * 80 + '/push/"}'
    )
    delivered = multiprocessing.Value("i", 0)
    parent, child = multiprocessing.Pipe()
    service = multiprocessing.Process(
        target=service_main, args=(public, 2 * args.notifications, child, delivered)
    )
    service.start()
    subscriptions = parent.recv()
    half = args.notifications
    try:
        floor_s = floor(subscriptions[:half], payload, private)
        ours_s = ours(subscriptions[half:], payload)
    finally:
        parent.send("stop")
        service.join(10)
    assert delivered.value == 2 * half, delivered.value
    cores = os.cpu_count() or 1
    for name, seconds in [("floor (bare pywebpush loop)", floor_s), ("ours (Sender.send)", ours_s)]:
        rate = half / seconds
        print(
            f"{name:30} {rate:8.0f} notifications/s per process; 100,000 with {cores} "
            f"processes: {100_000 / (rate * cores):5.0f} s"
        )
    print(f"ratio ours/floor: {floor_s / ours_s:.2f} ({half} each, all verified and decrypted)")


if __name__ == "__main__":
    main()
