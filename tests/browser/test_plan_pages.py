"""The patient's other pages on a phone: plan, calendar, hold, supply, diary, progress, report,
and Today's morning-dosing suggestion. Each is checked by axe and screenshotted."""

import datetime as dt
import re
import zoneinfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from symptoms.models import Severity
from tests.factories import PASSWORD, DiaryEntryFactory, DoseLogFactory, onboarded_patient
from titration.models import Plan, PlanEvent

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LONDON = zoneinfo.ZoneInfo("Europe/London")


def _today():
    # The live server runs on the real clock: plans are laid out around the real local date.
    return timezone.localdate(timezone=LONDON)


def _log_in(page, check_page, email):
    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    check_page("login")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/today/$"))


def _patient_on_day(day, *, email, diary=None):
    """A patient on `day` of the standard plan who took every earlier dose.

    `diary(offset)` gives the diary values for plan day `offset + 1` (None: no entry).
    """
    today = _today()
    start = today - dt.timedelta(days=day - 1)
    patient = onboarded_patient(email=email, start_date=start)
    plan = Plan.objects.get(patient=patient)
    for offset in range(day - 1):
        DoseLogFactory(plan=plan, date=start + dt.timedelta(days=offset))
    for offset in range(day):
        values = diary(offset) if diary else None
        if values is not None:
            DiaryEntryFactory(patient=patient, date=start + dt.timedelta(days=offset), **values)
    return patient


def _a_slowly_better_day(offset):
    """Twenty days of a believable diary: pain easing from 7 to about 4, sleep improving."""
    if offset % 6 == 5:
        return None  # a day off from the diary now and then
    return {
        "pain": max(3, 7 - offset // 5 - offset % 2),
        "sleep": min(8, 3 + offset // 4),
        "fatigue": 7 - offset // 7,
        "fog": 6 - offset // 8,
        "mood": 4 + offset // 6,
        "headache": Severity.MILD if offset in (3, 8) else Severity.NONE,
        "nausea": Severity.MILD if offset == 8 else Severity.NONE,
        "stress": offset % 3 == 0,
    }


@pytest.fixture
def day_ten_patient(transactional_db):
    return _patient_on_day(10, email="lee@example.org")


@pytest.fixture
def patient_with_history(transactional_db):
    return _patient_on_day(20, email="mo@example.org", diary=_a_slowly_better_day)


@pytest.fixture
def patient_with_vivid_dreams(transactional_db):
    # Mild vivid dreams on two of the last seven days: enough to suggest the morning, too mild
    # to hold the next step.
    def diary(offset):
        if offset in (6, 8):
            return {"pain": 5, "vivid_dreams": Severity.MILD}
        return None

    return _patient_on_day(10, email="vi@example.org", diary=diary)


def test_the_plan_the_printable_calendar_and_a_chosen_hold(page, check_page, day_ten_patient):
    _log_in(page, check_page, day_ten_patient.email)

    page.get_by_role("link", name="My plan").click()
    expect(page).to_have_url(re.compile(r"/plan/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My plan")
    expect(page.locator(".next-step")).to_contain_text("Next step: 4.5 mg from")
    check_page("plan")

    page.get_by_role("link", name="Printable calendar").click()
    expect(page).to_have_url(re.compile(r"/plan/calendar/$"))
    today = _today()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Dose calendar: {today:%B %Y}")
    expect(page.get_by_role("table")).to_contain_text("3.0 mg")
    check_page("calendar")
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(page.locator(".print-only")).to_be_visible()
    check_page.screenshot("calendar-print")
    page.emulate_media(media="screen")

    page.get_by_role("link", name="Back to my plan").click()
    page.get_by_role("link", name="Stay at this dose longer").click()
    expect(page).to_have_url(re.compile(r"/plan/hold/$"))
    check_page("hold")
    page.get_by_role("group", name="How long would you like to stay at this dose?").get_by_label(
        "A week"
    ).check()
    page.get_by_role("textbox", name="Why?").fill("My stomach needs a little longer.")
    check_page("hold-filled-in")
    page.get_by_role("button", name="Stay at this dose").click()

    expect(page).to_have_url(re.compile(r"/plan/$"))
    expect(page.get_by_role("status")).to_contain_text("Done: you'll stay at this dose.")
    expect(page.locator(".hold-note")).to_have_text(
        "Why the hold: My stomach needs a little longer."
    )
    check_page("plan-on-hold")
    hold = PlanEvent.objects.get(plan__patient=day_ten_patient, kind=PlanEvent.Kind.HOLD)
    assert (hold.days, hold.effective_date) == (7, today)


def test_recording_a_count_shows_when_the_supply_runs_out(page, check_page, transactional_db):
    patient = onboarded_patient(email="cy@example.org")  # day 1, 1.5 mg capsules
    _log_in(page, check_page, patient.email)

    page.goto("/supply/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My supply")
    check_page("supply-empty")

    page.get_by_label("What I have left right now").check()
    page.get_by_role("spinbutton", name="How many capsules").fill("5")
    page.get_by_role("spinbutton", name="strength of one capsule").fill("1.5")
    check_page("supply-filled-in")
    page.get_by_role("button", name="Save").click()

    # One 1.5 mg capsule a night from tonight: five last until the night before day 6.
    runs_out = _today() + dt.timedelta(days=5)
    expect(page).to_have_url(re.compile(r"/supply/$"))
    expect(page.locator(".supply-amount")).to_have_text("About 5 capsules left")
    expect(page.get_by_role("region", name="What you have")).to_contain_text(
        f"runs out on {runs_out:%A %-d %B}."
    )
    check_page("supply-runs-out")


def test_the_diary_progress_and_report_pages_with_three_weeks_of_history(
    page, check_page, patient_with_history
):
    _log_in(page, check_page, patient_with_history.email)

    page.goto("/diary/")
    expect(page.get_by_role("heading", level=1)).to_have_text("How was today?")
    check_page("diary")
    yesterday = _today() - dt.timedelta(days=1)
    page.get_by_role("navigation", name="Choose a day").get_by_role(
        "link", name=f"{yesterday:%a %-d}"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"How was {yesterday:%A %-d %B}?")
    expect(page.get_by_text("You saved this day before")).to_be_visible()
    check_page("diary-yesterday-saved")

    page.goto("/progress/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My progress")
    expect(page.locator("#pain-summary")).to_contain_text("Pain ")
    check_page("progress-whole-plan")
    page.get_by_role("link", name="Last 4 weeks").click()
    expect(page).to_have_url(re.compile(r"/progress/\?period=4w$"))
    expect(page.get_by_role("link", name="Last 4 weeks")).to_have_attribute("aria-current", "page")
    check_page("progress-last-4-weeks")

    page.emulate_media(color_scheme="dark")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    check_page("progress-dark")
    page.emulate_media(color_scheme="light")

    page.get_by_role("link", name="Report for my doctor").click()
    expect(page).to_have_url(re.compile(r"/report/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Report for my doctor")
    check_page("report")


def test_today_suggests_the_morning_after_two_nights_of_vivid_dreams(
    page, check_page, patient_with_vivid_dreams
):
    _log_in(page, check_page, patient_with_vivid_dreams.email)

    suggestion = page.get_by_role("region", name="Sleep trouble? Try the morning")
    expect(suggestion).to_be_visible()
    expect(suggestion.get_by_role("button", name="Keep bedtime")).to_be_visible()
    expect(page.locator("#dose-card .dose-mg")).to_have_text("3.0 mg")
    check_page("today-morning-suggestion")

    page.emulate_media(color_scheme="dark")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    check_page("today-morning-suggestion-dark")
    page.emulate_media(color_scheme="light")

    suggestion.get_by_role("button", name="Switch to the morning").click()
    expect(page.get_by_role("status")).to_contain_text("take your dose in the morning")
    expect(page.locator("#dose-heading")).to_have_text("Your dose this morning")
    expect(page.get_by_role("region", name="Sleep trouble? Try the morning")).to_have_count(0)
    check_page("today-switched-to-morning")
