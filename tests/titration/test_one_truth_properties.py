"""Every gatherer of the dose decision gives the same answer (hypothesis, on PostgreSQL):
Today's card (`record_of` for one patient) and the reminders (`dose_decisions`, batched),
for random histories of doses, skips, gaps and side effects, in zones on both sides of the
date line, at random instants."""

import datetime as dt
import zoneinfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import PatientProfile
from reminders import selectors as reminder_selectors
from symptoms.models import DiaryEntry
from titration import selectors
from titration.models import DoseLog

from ..factories import onboarded_patient

pytestmark = pytest.mark.django_db

START = dt.date(2026, 3, 1)  # spans Europe's and America's clock change
ZONES = ["Europe/London", "America/Los_Angeles", "Pacific/Auckland", "Asia/Kolkata"]
SIDE_EFFECTS = ["headache", "nausea", "vivid_dreams", "insomnia"]

nights = st.lists(
    st.tuples(
        st.sampled_from(["taken", "taken", "taken", "skipped", "none"]),
        st.integers(-120, 300),  # minutes after the dose time it was taken
        st.sampled_from([None, None, None, *SIDE_EFFECTS]),
        st.integers(1, 3),  # that side effect's severity: mild, moderate, severe
    ),
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    nights=nights,
    zone=st.sampled_from(ZONES),
    protocol=st.sampled_from(["standard", "gentle"]),
    minutes=st.integers(0, 36 * 60),
)
def test_todays_dose_and_the_reminders_dose_are_the_same(db, nights, zone, protocol, minutes):
    with transaction.atomic():
        user = onboarded_patient(start_date=START, time_zone=zone)
        plan = user.plans.get()
        plan.protocol = protocol
        plan.save(update_fields=["protocol"])
        profile = PatientProfile.objects.get(user=user)
        tz = zoneinfo.ZoneInfo(zone)
        day = START
        for status, offset, side_effect, severity in nights:
            scheduled = dt.datetime.combine(day, profile.dose_clock_time, tzinfo=tz)
            if status != "none":
                planned = plan.planned_dose_on(day).dose_mg
                DoseLog.objects.create(
                    patient=user,
                    plan=plan,
                    date=day,
                    status=status,
                    dose_mg=planned,
                    logged_at=scheduled + dt.timedelta(minutes=max(offset, 0) + 1),
                    taken_at=scheduled + dt.timedelta(minutes=offset)
                    if status == "taken"
                    else None,
                )
            if side_effect:
                DiaryEntry.objects.create(patient=user, date=day, **{side_effect: severity})
            day += dt.timedelta(days=1)
        now = dt.datetime.combine(day, dt.time(12), tzinfo=tz) + dt.timedelta(minutes=minutes)

        user = type(user).objects.select_related("profile").get(pk=user.pk)
        today = selectors.dose_decision(user, plan, now)
        batched = selectors.dose_decisions([user.pk], now=now)[user.pk]
        assert batched == today
        card = selectors.tonight(user, plan, now=now)
        assert card.dose_day == today.dose_day
        assert card.due.dose_mg == today.dose_mg
        emailed = reminder_selectors.doses_still_due([(user.pk, today.dose_day)], now=now)
        if emailed:
            assert emailed == {(user.pk, today.dose_day): card.due.dose_mg}
        transaction.set_rollback(True)
