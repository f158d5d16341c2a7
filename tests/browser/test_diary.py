"""A patient fills in the day's diary with the keyboard alone, then sees it on Progress."""

import datetime as dt
import re
import zoneinfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from symptoms.models import DiaryEntry, Severity
from tests.factories import PASSWORD, DiaryEntryFactory, DoseLogFactory, onboarded_patient
from titration.models import Plan

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LONDON = zoneinfo.ZoneInfo("Europe/London")
PLAN_DAY = 20  # far enough in that the baseline week and this week don't overlap
BASELINE_PAIN = 6

# What has keyboard focus, described well enough to steer by.
FOCUSED_JS = """
() => {
  const el = document.activeElement;
  return {
    tag: el.tagName.toLowerCase(),
    name: el.getAttribute("name") || "",
    value: el.value || "",
    text: (el.textContent || "").trim(),
  };
}
"""


def _log_in(page, check_page, email):
    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    check_page("login")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/today/$"))


def _tab_to(page, *, name=None, text=None, limit=120):
    """Press Tab until focus reaches the control with this name (or visible text)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_JS)
        if (name is not None and focused["name"] == name) or (
            text is not None and focused["text"] == text
        ):
            return focused
    pytest.fail(f"Tab never reached {name or text!r}")


@pytest.fixture
def patient_with_a_baseline_week(transactional_db):
    """Day 20 of the plan, pain 6 every day of the first week (the baseline), no diary since."""
    today = timezone.localdate(timezone=LONDON)
    start = today - dt.timedelta(days=PLAN_DAY - 1)
    patient = onboarded_patient(email="ro@example.org", start_date=start)
    plan = Plan.objects.get(patient=patient)
    for offset in range(PLAN_DAY - 1):
        DoseLogFactory(plan=plan, date=start + dt.timedelta(days=offset))
    for offset in range(7):
        DiaryEntryFactory(
            patient=patient, date=start + dt.timedelta(days=offset), pain=BASELINE_PAIN
        )
    return patient


def test_the_diary_can_be_filled_and_saved_with_the_keyboard_alone(
    page, check_page, patient_with_a_baseline_week
):
    patient = patient_with_a_baseline_week
    _log_in(page, check_page, patient.email)

    _tab_to(page, text="Fill in today's diary")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/diary/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("How was today?")
    check_page("diary-empty")

    # Tab enters a radio group on its first answer (0); each arrow press moves and chooses.
    focused = _tab_to(page, name="pain")
    assert focused["value"] == "0"
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#id_pain_3")).to_be_checked()
    expect(page.locator("#id_pain_3")).to_be_focused()
    check_page("pain-chosen-with-arrows")

    page.keyboard.press("Tab")  # on to the next question: sleep quality
    assert page.evaluate(FOCUSED_JS)["name"] == "sleep"
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#id_sleep_5")).to_be_checked()

    _tab_to(page, name="no_side_effects")
    page.keyboard.press("Space")
    expect(page.get_by_label("No side effects today")).to_be_checked()
    check_page("no-side-effects-ticked")

    _tab_to(page, text="Save my diary")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/today/$"))
    expect(page.get_by_role("status")).to_contain_text("Diary saved for")
    check_page("today-after-saving")

    entry = DiaryEntry.objects.get(patient=patient, date=timezone.localdate(timezone=LONDON))
    assert (entry.pain, entry.sleep, entry.nausea) == (3, 5, Severity.NONE)

    page.goto("/progress/")
    # The chart's text summary: the first week's mean (6.0) against this week's (today's 3).
    expect(page.locator("#pain-summary")).to_have_text(
        "Pain 6.0 → 3.0, 50% lower than your baseline. Your baseline is the mean of 7 diary days."
    )
    check_page("progress")
