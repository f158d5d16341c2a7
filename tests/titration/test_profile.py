"""The profile page: a new time zone, dose time or strength is shown through the dose
decision before it is saved; name, email and password are one tap away."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.models import PatientProfile
from titration import decision
from titration import schedule as engine
from titration.decision import TAKEN, Clock, Inputs, LogEntry
from titration.models import PlanEvent

from ..factories import DoseLogFactory, onboarded_patient

LONDON = ZoneInfo("Europe/London")
KOLKATA = ZoneInfo("Asia/Kolkata")
START = dt.date(2026, 11, 10)
URL = "/settings/profile/"


def inputs(logs, clock=None):
    spec = engine.PlanSpec(
        start_date=START,
        steps=engine.protocol_steps("standard"),
        counted_from=dt.date(2026, 11, 20),  # joined that day: no missed-dose hold before
    )
    return Inputs(spec, logs, clock or Clock(LONDON, dt.time(21, 30)))


# The pure preview ------------------------------------------------------------------------


def test_flying_to_kolkata_names_the_new_time_the_last_dose_and_the_spacing():
    last = dt.datetime(2026, 11, 20, 21, 30, tzinfo=dt.UTC)  # 21:30 in London
    logs = {dt.date(2026, 11, 20): LogEntry(TAKEN, Decimal("3.0"), last, last)}
    # 01:00 UTC = 06:30 in Kolkata on the 21st: the 21st's window opens at 16:00 there,
    # and 6 hours after the last dose is 03:30 UTC = 09:00 Kolkata.
    now = dt.datetime(2026, 11, 21, 1, 0, tzinfo=dt.UTC)
    change = decision.clock_change(
        inputs(logs), now, clock=Clock(KOLKATA, dt.time(22, 0)), concentration_mg_per_ml=None
    )
    assert change.lines[0] == "Your next dose (3.0 mg) will be due at 22:00 today, Kolkata time."
    assert change.lines[1] == (
        "Your last dose was at 21:30 yesterday, London time, so the next may be taken from "
        "16:00 today, Kolkata time."
    )
    assert change.after.take.allowed_from >= last + decision.MIN_GAP


def test_an_earlier_dose_time_never_allows_a_dose_within_6_hours_of_the_last():
    last = dt.datetime(2026, 11, 20, 21, 30, tzinfo=dt.UTC)
    logs = {dt.date(2026, 11, 20): LogEntry(TAKEN, Decimal("3.0"), last, last)}
    # Moving to Kolkata at 22:00 London: it is 03:30 on the 21st there, inside the 20th's
    # window in the new clock, but the 20th is logged and the 21st's opens later.
    for hour in range(22, 24):
        now = dt.datetime(2026, 11, 20, hour, 0, tzinfo=dt.UTC)
        for zone in (KOLKATA, ZoneInfo("Pacific/Auckland"), ZoneInfo("America/Los_Angeles")):
            for dose_time in (dt.time(6, 0), dt.time(22, 0), dt.time(3, 0)):
                after = decision.clock_change(
                    inputs(logs), now, clock=Clock(zone, dose_time), concentration_mg_per_ml=None
                ).after
                assert not after.can_take or now - last >= decision.MIN_GAP
                if after.take and after.take.allowed_from:
                    assert after.take.allowed_from - last >= decision.MIN_GAP


def test_a_stronger_liquid_says_the_ml_and_warns_when_the_syringe_cannot_measure_it():
    now = dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC)
    clock = Clock(LONDON, dt.time(21, 30))
    change = decision.clock_change(
        inputs({}, clock), now, clock=clock, concentration_mg_per_ml=Decimal("5")
    )
    assert change.lines[0].startswith("Your next dose (3.0 mg = 0.6 mL) will be due at 21:30 today")
    plain = decision.clock_change(
        inputs({}, clock), now, clock=clock, concentration_mg_per_ml=Decimal("1")
    )
    assert "3.0 mg = 3.0 mL" in plain.lines[0]
    assert "You can take it now." in plain.lines


def test_place_names_a_zone_as_people_say_it():
    assert decision.place(ZoneInfo("America/New_York")) == "New York"
    assert decision.place(ZoneInfo("UTC")) == "UTC"


# The page ---------------------------------------------------------------------------------


@pytest.fixture
def me(db):
    with time_machine.travel(dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC), tick=False):
        user = onboarded_patient(email="me@example.org", start_date=START)
        plan = user.plans.get()
        for n in range(10):
            DoseLogFactory(patient=user, plan=plan, date=START + dt.timedelta(days=n))
        yield user


def clock_post(**fields):
    data = {
        "section": "clock",
        "clock-time_zone": "Europe/London",
        "clock-dose_time": "bedtime",
        "clock-reminder_time": "21:30",
    }
    data.update({f"clock-{k}": v for k, v in fields.items() if k != "confirm"})
    if fields.get("confirm"):
        data["confirm"] = "yes"
    return data


def test_settings_links_to_the_profile(client, me):
    client.force_login(me)
    assert 'href="/settings/profile/"' in client.get(reverse("account_settings")).content.decode()


def test_a_new_time_zone_is_previewed_and_not_saved_until_confirmed(client, me):
    client.force_login(me)
    response = client.post(URL, clock_post(time_zone="Asia/Kolkata", reminder_time="22:00"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "What this means for your dose" in body
    # 20:00 in London is 01:30 in Kolkata: tonight's dose, not yet logged, is still open
    # there, and the last dose was more than 6 hours ago.
    assert (
        "Last night&#x27;s dose (3.0 mg) can still be logged until 16:00 today, Kolkata time."
        in body
    )
    assert "Your last dose was at 21:30 yesterday, London time, so you can take the next" in body
    me.profile.refresh_from_db()
    assert me.profile.time_zone == "Europe/London"

    response = client.post(
        URL, clock_post(time_zone="Asia/Kolkata", reminder_time="22:00", confirm=True)
    )
    assert response["Location"] == URL
    me.profile.refresh_from_db()
    assert (me.profile.time_zone, me.profile.reminder_time) == ("Asia/Kolkata", dt.time(22, 0))


def test_switching_to_the_morning_is_recorded_once_in_the_plans_story(client, me):
    client.force_login(me)
    data = clock_post(dose_time="morning", reminder_time="08:00", confirm=True)
    client.post(URL, data)
    client.post(URL, data)  # a resent form
    me.profile.refresh_from_db()
    assert me.profile.dose_time == PatientProfile.DoseTime.MORNING
    assert PlanEvent.objects.filter(kind=PlanEvent.Kind.DOSE_TIME).count() == 1


def test_an_unknown_time_zone_gets_a_message_next_to_the_field(client, me):
    client.force_login(me)
    response = client.post(URL, clock_post(time_zone="Mars/Olympus"))
    assert response.status_code == 200
    assert "We don&#x27;t recognise that time zone" in response.content.decode()


def test_a_bad_time_gets_a_plain_message(client, me):
    client.force_login(me)
    response = client.post(URL, clock_post(reminder_time="late"))
    assert "Please enter a time like 21:30." in response.content.decode()


def test_liquid_needs_its_strength_and_previews_the_ml(client, me):
    client.force_login(me)
    response = client.post(URL, {"section": "medicine", "medicine-formulation": "liquid"})
    assert "we need the strength from the label" in response.content.decode()
    response = client.post(
        URL,
        {
            "section": "medicine",
            "medicine-formulation": "liquid",
            "medicine-concentration_mg_per_ml": "1",
        },
    )
    assert "Your next dose (3.0 mg = 3.0 mL)" in response.content.decode()
    me.profile.refresh_from_db()
    assert me.profile.formulation == PatientProfile.Formulation.CAPSULE


def test_the_name_is_saved_and_email_and_password_link_to_their_pages(client, me):
    client.force_login(me)
    response = client.post(URL, {"section": "name", "name-first_name": " Sam "})
    assert response["Location"] == URL
    me.refresh_from_db()
    assert me.first_name == "Sam"
    body = client.get(URL).content.decode()
    assert f'href="{reverse("account_email")}"' in body
    assert f'href="{reverse("account_change_password")}"' in body


def test_nothing_changed_saves_nothing(client, me):
    client.force_login(me)
    response = client.post(URL, clock_post(confirm=True), follow=True)
    assert "Nothing changed." in response.content.decode()
    assert not PlanEvent.objects.filter(kind=PlanEvent.Kind.DOSE_TIME).exists()


def test_clinicians_get_404_and_visitors_log_in(client, clinician):
    assert client.get(URL).status_code == 302
    client.force_login(clinician)
    assert client.get(URL).status_code == 404


def test_the_email_page_changes_the_address_only_after_confirmation(client, me, mailoutbox):
    from allauth.account.models import EmailAddress

    from ..factories import PASSWORD

    client.force_login(me)
    assert client.get(reverse("account_email")).status_code == 200
    # Changing the login address asks for the password first (allauth's re-authentication).
    change = {"action_add": "", "email": "new@example.org"}
    response = client.post(reverse("account_email"), change)
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    client.post(response["Location"], {"password": PASSWORD})
    client.post(reverse("account_email"), change)
    me.refresh_from_db()
    assert me.email == "me@example.org"  # the old address stays until the new one is confirmed
    assert EmailAddress.objects.filter(email="new@example.org", verified=False).exists()
    assert mailoutbox and mailoutbox[-1].to == ["new@example.org"]


ZONES = ["Europe/London", "Asia/Kolkata", "Pacific/Auckland", "America/Los_Angeles", "UTC"]


@given(
    zone=st.sampled_from(ZONES),
    minutes=st.integers(min_value=0, max_value=24 * 60 - 1),
    offset=st.integers(min_value=0, max_value=36 * 60),
    taken_offset=st.integers(min_value=-12 * 60, max_value=12 * 60),
)
@settings(max_examples=300, deadline=None)
def test_no_new_clock_lets_a_dose_be_taken_within_6_hours_of_the_last(
    zone, minutes, offset, taken_offset
):
    """Whatever zone and dose time the patient moves to, and whenever, the decision under
    the new clock never offers a dose less than 6 hours after the last one taken."""
    old = Clock(LONDON, dt.time(21, 30))
    last = old.scheduled(dt.date(2026, 11, 20)) + dt.timedelta(minutes=taken_offset)
    logs = {dt.date(2026, 11, 20): LogEntry(TAKEN, Decimal("3.0"), last, last)}
    now = max(last, old.scheduled(dt.date(2026, 11, 20))) + dt.timedelta(minutes=offset)
    new = Clock(ZoneInfo(zone), dt.time(minutes // 60, minutes % 60))
    change = decision.clock_change(inputs(logs, old), now, clock=new, concentration_mg_per_ml=None)
    after = change.after
    if after.can_take:
        assert now - last >= decision.MIN_GAP
    if after.take and after.take.allowed_from:
        assert after.take.allowed_from - last >= decision.MIN_GAP
    assert change.lines  # always says something
