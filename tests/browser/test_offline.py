"""Offline in Chromium: Today opens from the cache and says it is offline, "I took it" is kept
on the phone with the instant it was pressed, and reconnecting records exactly one dose at
that instant, however many tabs pressed it."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from symptoms.models import DiaryEntry
from tests.factories import onboarded_patient
from titration.models import DoseLog

from .test_installable import log_in, service_worker_ready

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUEUED = """() => new Promise((resolve) => {
  const open = indexedDB.open("ldn-offline", 1);
  open.onupgradeneeded = () => open.result.createObjectStore("queue", {keyPath: "client_id"});
  open.onsuccess = () => {
    const request = open.result.transaction("queue").objectStore("queue").getAll();
    request.onsuccess = () => { open.result.close(); resolve(request.result); };
  };
})"""


@pytest.fixture
def patient(db):
    # A dose time just ahead of the patient's clock, so tonight's window is open now.
    zone = zoneinfo.ZoneInfo("Europe/London")
    local_now = timezone.now().astimezone(zone)
    at = min(local_now + dt.timedelta(hours=2), local_now.replace(hour=23, minute=59))
    return onboarded_patient(email="alex@example.org", reminder_time=at.time().replace(second=0))


def test_a_dose_logged_offline_in_two_tabs_is_recorded_once_at_the_pressed_instant(
    page, check_page, patient, browser_context
):
    log_in(page, patient)
    service_worker_ready(page)
    page.reload()
    page.wait_for_function(
        "caches.open('ldn-pages').then((c) => c.match('/today/')).then((r) => !!r)"
    )

    browser_context.set_offline(True)
    response = page.reload()
    assert response.from_service_worker
    expect(page.locator("#offline-notice")).to_be_visible()
    expect(page.locator("#offline-notice")).to_contain_text("You are offline")
    expect(page.locator("#dose-card")).to_contain_text("1.5 mg")  # the last known dose
    check_page("today-offline")

    page.get_by_role("button", name="I took it").click()
    expect(page.get_by_test_id("offline-saved")).to_contain_text("Saved on this phone")
    [item] = page.evaluate(QUEUED)
    check_page("dose-kept-offline")

    # A second tab, also offline, presses it too: the phone keeps the first press.
    other = browser_context.new_page()
    other.goto("/today/")
    other.get_by_role("button", name="I took it").click()
    expect(other.get_by_test_id("offline-saved")).to_be_visible()
    assert [i["client_id"] for i in page.evaluate(QUEUED)] == [item["client_id"]]
    other.close()
    assert not DoseLog.objects.exists()

    browser_context.set_offline(False)
    expect(page.locator("#offline-status")).to_contain_text("is recorded", timeout=15_000)
    expect(page.locator("#offline-notice")).to_be_hidden()
    expect(page.get_by_test_id("dose-logged")).to_contain_text("Taken at")
    check_page("back-online")

    [log] = DoseLog.objects.all()
    pressed = dt.datetime.fromisoformat(item["pressed_at"])
    assert log.taken_at == pressed
    assert str(log.client_id) == item["client_id"]
    assert page.evaluate(QUEUED) == []


def test_the_diary_filled_in_offline_is_saved_when_the_connection_returns(
    page, check_page, patient, browser_context
):
    log_in(page, patient)
    service_worker_ready(page)
    page.goto("/diary/")
    page.wait_for_function(
        "caches.open('ldn-pages').then((c) => c.match('/diary/')).then((r) => !!r)"
    )

    browser_context.set_offline(True)
    assert page.reload().from_service_worker
    expect(page.locator("#offline-notice")).to_be_visible()
    page.locator("label[for=id_pain_3]").click()
    page.locator("label[for=id_sleep_5]").click()
    page.get_by_role("button", name="Save my diary").click()
    expect(page.get_by_test_id("offline-saved")).to_contain_text(
        "Your diary is saved on this phone"
    )
    check_page("diary-kept-offline")
    assert not DiaryEntry.objects.exists()

    browser_context.set_offline(False)
    expect(page.locator("#offline-status")).to_contain_text("is saved", timeout=15_000)
    check_page("diary-sent")

    entry = DiaryEntry.objects.get(patient=patient)
    assert (entry.pain, entry.sleep) == (3, 5)
