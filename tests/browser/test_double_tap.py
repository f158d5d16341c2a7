"""A double tap after midnight on a phone logs one dose, and the card says when the next may
be taken (DOMAIN.md, dose safety)."""

import datetime as dt
import re

import pytest
import time_machine
from playwright.sync_api import expect

from tests.factories import PASSWORD, DoseLogFactory, onboarded_patient
from titration.models import DoseLog

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# 00:30 in London on Saturday 21 November: Friday night's dose was not logged.
AFTER_MIDNIGHT = dt.datetime(2026, 11, 21, 0, 30, tzinfo=dt.UTC)


@pytest.fixture
def after_midnight():
    with time_machine.travel(AFTER_MIDNIGHT, tick=True):
        yield


def test_a_double_tap_after_midnight_logs_one_dose_and_says_when_the_next_may_be_taken(
    after_midnight, page, check_page
):
    patient = onboarded_patient(email="robin@example.org", start_date=dt.date(2026, 11, 17))
    plan = patient.plans.get()
    for day in range(17, 20):  # Tuesday to Thursday taken; Friday night not logged
        DoseLogFactory(plan=plan, date=dt.date(2026, 11, day))

    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="Email").fill(patient.email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/today/$"))
    card = page.locator("#dose-card")
    expect(card).to_contain_text("1.5 mg")
    check_page("last-nights-dose")

    # Two taps 150 ms apart on the same spot, as a shaky finger does.
    button = card.get_by_role("button", name="I took it")
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    page.wait_for_timeout(150)
    page.mouse.click(x, y)

    expect(card).to_contain_text("Taken at 00:30")
    expect(card).to_contain_text("can be taken from")
    expect(card.get_by_role("button", name="I took it")).to_have_count(0)
    page.wait_for_timeout(1000)  # anything the second tap set off has landed
    check_page("one-dose-logged")

    taken = DoseLog.objects.filter(patient=patient, date__gte=dt.date(2026, 11, 20))
    assert [(log.date, log.status) for log in taken] == [(dt.date(2026, 11, 20), "taken")]

    page.reload()
    expect(page.locator("#dose-card")).to_contain_text("can be taken from")
    check_page("after-reload")
