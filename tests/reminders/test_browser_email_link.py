"""In a real browser: the patient opens "I took it" from the reminder email, confirms with the
one button, and the Today page shows tonight's dose as taken.

Uses the browser tests' fixtures (tests/browser/conftest.py): a phone-sized Chromium page on
the live server, axe, console errors and tap targets checked on every screen."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from reminders.models import Reminder, SweepMark
from reminders.services import reminders_send, reminders_tick
from tests.browser import conftest as browser
from tests.factories import PASSWORD
from titration.models import DoseLog

from .conftest import patient_due_at

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The browser tests' fixtures, by the names the tests ask for.
_sync_orm_under_playwright = browser._sync_orm_under_playwright
chromium = browser.chromium
browser_time_zone = browser.browser_time_zone
browser_context = browser.browser_context
_page_checks = browser._page_checks
page = browser.page
check_page = browser.check_page


@pytest.fixture
def emailed_link(live_server, settings, browser_context):
    """A patient due now, the tick and the send run, and the "I took it" link they got."""
    settings.SITE_URL = live_server.url
    patient = patient_due_at(timezone.now(), email="alex@example.org")
    SweepMark.objects.update_or_create(
        pk=1, defaults={"covered_until": timezone.now() - dt.timedelta(minutes=2)}
    )
    reminders_send(reminder_ids=reminders_tick(now=timezone.now()).enqueued)
    [message] = mail.outbox
    took = re.search(r"^I took it:\n(\S+)$", message.body, re.M).group(1)
    assert took.startswith(live_server.url)
    return patient, took


def test_i_took_it_from_the_email_logs_the_dose_shown_on_today(page, check_page, emailed_link):
    patient, took = emailed_link

    page.goto(took)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator(".dose-mg")).to_have_text("1.5 mg")
    check_page("confirm-from-email")
    assert not DoseLog.objects.exists()  # opening the link records nothing

    page.get_by_role("button", name="Yes, I took it").click()
    expect(page.locator("main")).to_contain_text("Recorded: you took 1.5 mg")
    check_page("recorded")
    log = DoseLog.objects.get()
    assert (log.patient, log.status, log.source) == (patient, "taken", "email")
    assert Reminder.objects.get().link_used_at is not None

    page.goto("/accounts/login/?next=/today/")
    page.get_by_role("textbox", name="Email").fill(patient.email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/today/$"))
    expect(page.get_by_test_id("dose-logged")).to_contain_text("✓ Taken at")
    check_page("today-shows-taken")

    page.goto(took)  # the same link again: single use
    expect(page.locator("main")).to_contain_text("already been used")
    check_page("link-already-used")
