"""A patient with a severe side effect on 3.0 mg is offered a step back and takes it."""

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


def _log_in(page, check_page, email):
    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    check_page("login")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/today/$"))


@pytest.fixture
def patient_on_day_ten_with_severe_nausea(transactional_db):
    # The live server runs on the real clock, so the plan is laid out around the real local
    # date: day 10 of the standard plan is the second step (3.0 mg).
    today = timezone.localdate(timezone=LONDON)
    patient = onboarded_patient(email="kit@example.org", start_date=today - dt.timedelta(days=9))
    plan = Plan.objects.get(patient=patient)
    # Every earlier dose taken: three missed doses would hold the step-up on day 8.
    for back in range(9, 0, -1):
        DoseLogFactory(plan=plan, date=today - dt.timedelta(days=back))
    DiaryEntryFactory(patient=patient, date=today, nausea=Severity.SEVERE)
    return patient


def test_a_severe_side_effect_offers_a_step_back_that_one_confirm_takes(
    page, check_page, patient_on_day_ten_with_severe_nausea
):
    patient = patient_on_day_ten_with_severe_nausea
    _log_in(page, check_page, patient.email)

    card = page.locator("#dose-card")
    expect(card).to_contain_text("Day 10 of your plan")
    expect(card.locator(".dose-mg")).to_have_text("3.0 mg")
    offer = page.get_by_role("region", name="Side effects: go back a step?")
    expect(offer).to_be_visible()
    check_page("today-with-step-back-offer")

    offer.get_by_role("link", name="Decide about my dose").click()
    expect(page).to_have_url(re.compile(r"/plan/step-back/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Go back to your previous dose?")
    check_page("step-back-question")

    page.get_by_role("button", name="Go back to my previous dose").click()
    expect(page).to_have_url(re.compile(r"/today/$"))
    expect(page.get_by_role("status")).to_contain_text(
        "You are back on your previous dose from tonight."
    )
    expect(card.locator(".dose-mg")).to_have_text("1.5 mg")
    expect(page.get_by_role("region", name="Side effects: go back a step?")).to_have_count(0)
    check_page("today-back-on-1-5-mg")

    event = PlanEvent.objects.filter(plan__patient=patient).latest("id")
    assert event.kind == PlanEvent.Kind.STEP_BACK
    assert event.actor == patient
