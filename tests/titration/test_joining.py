"""Joining part-way through a plan: the nights before joining, reported in one step on the
patient's word, and days before joining that nobody reported are unknown, not missed."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from clinic import alert_rules
from symptoms.exports import doses_csv
from titration import adherence, decision, selectors
from titration import schedule as engine
from titration.decision import Clock, Inputs
from titration.models import DoseLog, Plan
from titration.services import plan_start

from ..factories import PatientProfileFactory, SafetyScreeningFactory, UserFactory

LONDON = ZoneInfo("Europe/London")
START = dt.date(2026, 11, 1)
JOINED = dt.date(2026, 11, 20)
EVENING = dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC)  # 20:00 in London, window open


def spec(**kwargs):
    return engine.PlanSpec(start_date=START, steps=engine.protocol_steps("standard"), **kwargs)


# The pure rules ---------------------------------------------------------------------------


def test_unlogged_days_before_joining_do_not_hold_the_step_up():
    joined = spec(as_of=JOINED, counted_from=JOINED)
    assert engine.dose_on(joined, JOINED).status == engine.DayStatus.ACTIVE
    assert engine.dose_on(joined, JOINED).dose_mg == Decimal("4.5")


def test_without_a_joining_day_the_same_unlogged_days_hold_it():
    unknown = engine.dose_on(spec(as_of=JOINED), dt.date(2026, 11, 8))
    assert unknown.held_by == engine.HoldCause.MISSED_DOSES


def test_days_missed_after_joining_still_count():
    # Joined on the 10th; nothing logged since: the 10th, 11th and 12th are missed.
    due = engine.dose_on(spec(as_of=JOINED, counted_from=dt.date(2026, 11, 10)), JOINED)
    assert due.held_by == engine.HoldCause.MISSED_DOSES


def test_adherence_counts_reported_days_and_ignores_unknown_ones():
    due_days = [START + dt.timedelta(days=n) for n in range(20)]
    logs = {dt.date(2026, 11, 18): "taken", dt.date(2026, 11, 19): "skipped"}
    week = adherence.adherence(
        today=JOINED, days=7, due_days=due_days, logs=logs, counted_from=JOINED
    )
    assert (week.due, week.taken) == (2, 1)
    assert adherence.adherence(today=JOINED, days=7, due_days=due_days, logs=logs).due == 6
    assert (
        adherence.missed_days(today=JOINED, due_days=due_days, logs=logs, counted_from=JOINED) == []
    )


def test_no_missed_dose_or_gone_quiet_alert_for_days_before_joining():
    due_days = [START + dt.timedelta(days=n) for n in range(20)]
    facts = alert_rules.Facts(
        today=JOINED, plan_start=START, due_days=due_days, counted_from=JOINED
    )
    assert alert_rules.missed_doses(facts) is None
    assert alert_rules.gone_quiet(facts) is None
    without = alert_rules.Facts(today=JOINED, plan_start=START, due_days=due_days)
    assert alert_rules.missed_doses(without) is not None
    assert alert_rules.gone_quiet(without) is not None


def test_missed_doses_after_joining_still_raise_the_alert():
    due_days = [START + dt.timedelta(days=n) for n in range(25)]
    later = dt.date(2026, 11, 25)
    facts = alert_rules.Facts(today=later, plan_start=START, due_days=due_days, counted_from=JOINED)
    finding = alert_rules.missed_doses(facts)
    assert finding is not None and finding.episode == JOINED


def inputs(logs=None):
    return Inputs(spec(counted_from=JOINED), logs or {}, Clock(LONDON, dt.time(21, 30)))


def test_reportable_days_run_from_the_start_to_the_night_before_the_open_window():
    days = decision.reportable_days(inputs(), EVENING)
    assert days[0] == START and days[-1] == dt.date(2026, 11, 19) and len(days) == 19


def test_after_midnight_last_nights_dose_is_todays_to_log_not_reported():
    after_midnight = dt.datetime(2026, 11, 21, 0, 30, tzinfo=dt.UTC)
    assert decision.reportable_days(inputs(), after_midnight)[-1] == dt.date(2026, 11, 19)


def test_a_plan_begun_in_the_app_has_nothing_to_report():
    # No joining day: the nights before today are the patient's own log, missed or not.
    plain = Inputs(spec(), {}, Clock(LONDON, dt.time(21, 30)))
    assert decision.reportable_days(plain, EVENING) == []


def test_nights_after_joining_are_not_reported_later():
    later = dt.datetime(2026, 11, 24, 20, 0, tzinfo=dt.UTC)
    assert decision.reportable_days(inputs(), later)[-1] == dt.date(2026, 11, 19)


def test_a_blocked_plan_reports_nothing():
    blocked = Inputs(spec(), {}, Clock(LONDON, dt.time(21, 30)), blocked=True)
    assert decision.reportable_days(blocked, EVENING) == []


def test_the_report_takes_the_ticked_nights_at_the_usual_time_and_skips_the_rest():
    days = decision.reportable_days(inputs(), EVENING)
    missed = {dt.date(2026, 11, 3), dt.date(2026, 11, 9)}
    report = decision.joining_report(inputs(), EVENING, set(days) - missed)
    assert [r.day for r in report] == days
    assert {r.day for r in report if r.status == "skipped"} == missed
    first = report[0]
    assert first.taken_at == dt.datetime(2026, 11, 1, 21, 30, tzinfo=dt.UTC)
    assert first.dose_mg == Decimal("1.5")
    # The schedule with the report applied: 1.5 mg for 7 nights, 3.0 mg for 7, then 4.5 mg.
    assert report[7].dose_mg == Decimal("3.0") and report[-1].dose_mg == Decimal("4.5")
    taken = sorted(r.taken_at for r in report if r.taken_at)
    assert all(b - a >= decision.MIN_GAP for a, b in zip(taken, taken[1:], strict=False))
    # Tonight's dose can still be taken now: the last reported night is well over 6 h ago.
    logs = {
        r.day: decision.LogEntry(r.status, r.dose_mg, logged_at=EVENING, taken_at=r.taken_at)
        for r in report
    }
    assert decision.decide(inputs(logs), EVENING).can_take


def test_the_report_refuses_a_night_that_is_not_reportable():
    with pytest.raises(ValueError):
        decision.joining_report(inputs(), EVENING, {JOINED})


# Through the app --------------------------------------------------------------------------


@pytest.fixture
def joining(db):
    with time_machine.travel(EVENING, tick=False):
        user = UserFactory(email="joins@example.org")
        PatientProfileFactory(user=user)
        SafetyScreeningFactory(patient=user)
        yield user


def test_onboarding_with_a_past_start_asks_about_the_nights_since(client, joining):
    client.force_login(joining)
    response = client.post(reverse("onboarding_step", args=["start"]), {"start_date": "2026-11-01"})
    assert response["Location"] == reverse("onboarding_history")
    assert Plan.objects.get(patient=joining).tracked_from == JOINED
    body = client.get(reverse("onboarding_history")).content.decode()
    assert "You started on Sunday 1 November" in body
    assert body.count('type="checkbox"') == 19


def test_saving_the_nights_records_them_on_the_patients_word_once(client, joining):
    plan = plan_start(patient=joining, start_date=START)
    client.force_login(joining)
    days = selectors.reportable_days(joining, plan)
    ticked = [d.isoformat() for d in days if d != dt.date(2026, 11, 5)]
    response = client.post(reverse("onboarding_history"), {"taken": ticked})
    assert response["Location"] == reverse("today")
    logs = DoseLog.objects.filter(patient=joining)
    assert logs.count() == 19
    assert logs.filter(source=DoseLog.Source.REPORTED).count() == 19
    assert logs.get(date=dt.date(2026, 11, 5)).status == DoseLog.Status.SKIPPED
    # A resent form finds nothing left to report.
    assert client.post(reverse("onboarding_history"), {"taken": ticked})["Location"] == reverse(
        "today"
    )
    assert DoseLog.objects.filter(patient=joining).count() == 19
    # recorded_from: "reported", which the data dictionary explains.
    assert ",reported\r\n" in doses_csv(joining)
    body = client.get(reverse("plan")).content.decode()
    assert "(reported)" in body and "the ones you told us about when you joined" in body
    assert "18 of 19" in body


def test_a_night_outside_the_list_is_refused_next_to_the_field(client, joining):
    plan_start(patient=joining, start_date=START)
    client.force_login(joining)
    response = client.post(reverse("onboarding_history"), {"taken": ["2026-11-20"]})
    assert response.status_code == 200
    assert "Please tick only nights from the list." in response.content.decode()
    assert not DoseLog.objects.exists()


def test_a_patient_who_reports_nothing_is_not_held_or_missed(client, joining):
    plan_start(patient=joining, start_date=START)
    client.force_login(joining)
    body = client.get(reverse("today")).content.decode()
    assert "4.5 mg" in body
    assert "several doses were missed" not in body
    plan_body = client.get(reverse("plan")).content.decode()
    assert "not recorded (before joining)" in plan_body
    assert ">missed<" not in plan_body


def test_another_patient_cannot_see_or_report_the_nights(client, joining, other_patient):
    plan_start(patient=joining, start_date=START)
    client.force_login(other_patient)
    response = client.post(reverse("onboarding_history"), {"taken": ["2026-11-02"]})
    assert not DoseLog.objects.filter(patient=joining).exists()
    assert response.status_code in (302, 404)


def test_today_offers_the_nights_before_joining_until_they_are_reported(client, joining):
    plan = plan_start(patient=joining, start_date=START)
    client.force_login(joining)
    assert (
        "Tell us about the nights before you joined"
        in client.get(reverse("today")).content.decode()
    )
    doses_report = selectors.reportable_days(joining, plan)
    client.post(reverse("onboarding_history"), {"taken": [d.isoformat() for d in doses_report]})
    assert "nights before you joined" not in client.get(reverse("today")).content.decode()
