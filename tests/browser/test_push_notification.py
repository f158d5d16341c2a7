"""Push in Chromium: Settings offers "Notify me on this device" and lists devices; a push
delivered to the service worker through the DevTools protocol shows the notification with
its two buttons, and its "I took it" records the dose once."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reminders import push
from reminders.models import PushSubscription, Reminder
from titration.models import DoseLog

from .test_installable import log_in, service_worker_ready
from .test_offline import patient  # noqa: F401 - the fixture: a dose window open now

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTIFICATIONS = """() => navigator.serviceWorker.ready
  .then((r) => r.getNotifications())
  .then((list) => list.map((n) => ({
    title: n.title, body: n.body, tag: n.tag,
    actions: n.actions.map((a) => a.title), data: n.data,
  })))"""

POST_JSON = """(url) => fetch(url, {method: "POST", headers: {Accept: "application/json"}})
  .then((r) => r.json())"""


@pytest.fixture
def push_keys(settings, live_server):
    from tests.reminders.push_service import vapid_key_pair

    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = vapid_key_pair()
    settings.SITE_URL = live_server.url


def test_settings_offer_this_device_and_list_the_others(page, check_page, patient, push_keys):  # noqa: F811
    PushSubscription.objects.create(
        patient=patient, endpoint="https://push.example.net/1", p256dh="x", auth="y",
        label="Firefox on Android",
    )  # fmt: skip
    log_in(page, patient)
    page.goto("/settings/reminders/")
    expect(page.get_by_role("button", name="Notify me on this device")).to_be_visible()
    expect(page.get_by_test_id("devices")).to_contain_text("Firefox on Android")
    expect(page.get_by_role("group", name="Remind me by")).to_be_visible()
    check_page("reminder-settings-with-devices")

    page.get_by_role("button", name="Remove Firefox on Android").click()
    expect(page.get_by_role("status").filter(has_text="won't show reminders")).to_be_visible()
    check_page("device-removed")
    assert not PushSubscription.objects.exists()


def test_a_push_shows_the_notification_and_i_took_it_records_the_dose_once(
    page,
    check_page,
    patient,  # noqa: F811
    push_keys,
    browser_context,
    live_server,
):
    browser_context.grant_permissions(["notifications"], origin=live_server.url)
    log_in(page, patient)
    service_worker_ready(page)
    check_page("today-before-the-push")

    reminder = Reminder.objects.create(
        patient=patient,
        local_date=timezone.localdate(timezone=patient.profile.zone),
        kind=Reminder.Kind.FIRST,
        channel=Reminder.Channel.PUSH,
        due_at=timezone.now(),
        status=Reminder.Status.SENT,
    )
    cdp = browser_context.new_cdp_session(page)
    registrations = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    page.wait_for_timeout(200)
    [registration] = [r for r in registrations if not r["isDeleted"]]
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": live_server.url,
            "registrationId": registration["registrationId"],
            "data": push.payload(reminder),
        },
    )

    page.wait_for_function(f"({NOTIFICATIONS})().then((list) => list.length === 1)")
    [shown] = page.evaluate(NOTIFICATIONS)
    assert shown["title"] == "Your evening reminder"
    assert shown["body"] == "Time for your evening dose."
    assert shown["actions"] == ["I took it", "Remind me in 30 minutes"]

    # What the worker's "I took it" does: post the notification's signed link.
    answer = page.evaluate(POST_JSON, shown["data"]["take"])
    again = page.evaluate(POST_JSON, shown["data"]["take"])

    assert answer["recorded"] is True
    assert answer["title"] == "Dose recorded"
    assert again["recorded"] is False
    [log] = DoseLog.objects.all()
    assert log.source == DoseLog.Source.PUSH
    page.goto(again["url"])
    expect(page.locator("#dose-card")).to_contain_text("already used")
    check_page("today-after-the-notification")
