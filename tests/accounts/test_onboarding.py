import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import PatientProfile
from tests.factories import SafetyScreeningFactory, UserFactory
from titration.models import Plan, PlanEvent, SafetyScreening

pytestmark = pytest.mark.django_db

STEPS = ["safety", "time-zone", "dose-time", "formulation", "start"]
ALL_NO = {"opioid_use": "no", "alcohol": "no", "liver_medications": "no", "liver_disease": "no"}
# 23:30 in London is already 12:30 the next day in Auckland (NZDT, UTC+13).
LATE_EVENING_UTC = dt.datetime(2026, 3, 10, 23, 30, tzinfo=dt.UTC)
AUCKLAND_TODAY = dt.date(2026, 3, 11)


def _step_url(step):
    return reverse("onboarding_step", args=[step])


def _onboarding_urls():
    return [reverse("onboarding"), reverse("onboarding_stop")] + [_step_url(s) for s in STEPS]


def _screened(user, **answers):
    return SafetyScreeningFactory(patient=user, **answers)


def _ready_to_start(user, time_zone="Pacific/Auckland"):
    """The patient has answered every step before the start date."""
    _screened(user)
    profile = user.profile
    profile.time_zone = time_zone
    profile.dose_time = PatientProfile.DoseTime.BEDTIME
    profile.reminder_time = dt.time(21, 30)
    profile.formulation = PatientProfile.Formulation.CAPSULE
    profile.save()
    return profile


def _checked(body, name, value):
    return re.search(rf'name="{name}" value="{value}"[^>]*\bchecked\b', body) is not None


def _answered_up_to(user, step):
    """The patient has answered every step before `step`."""
    _screened(user)
    profile = user.profile
    done = STEPS[: STEPS.index(step)]
    if "time-zone" in done:
        profile.time_zone = "Europe/London"
    if "dose-time" in done:
        profile.dose_time = PatientProfile.DoseTime.BEDTIME
        profile.reminder_time = dt.time(21, 30)
    if "formulation" in done:
        profile.formulation = PatientProfile.Formulation.CAPSULE
    profile.save()
    return profile


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def new_client(client, new_patient):
    client.force_login(new_patient)
    return client


@pytest.fixture
def clinician_client(client, clinician):
    client.force_login(clinician)
    return client


@pytest.fixture
def frozen_late_evening():
    with time_machine.travel(LATE_EVENING_UTC, tick=False):
        yield


# Personas -------------------------------------------------------------------


@pytest.mark.parametrize("url", _onboarding_urls())
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("url", _onboarding_urls())
def test_a_clinician_gets_404(clinician_client, url):
    assert clinician_client.get(url).status_code == 404
    assert clinician_client.post(url, ALL_NO).status_code == 404
    assert not SafetyScreening.objects.exists()


@pytest.mark.parametrize("step", STEPS)
def test_the_patient_sees_each_step_in_turn(new_client, new_patient, step):
    _answered_up_to(new_patient, step)
    response = new_client.get(_step_url(step))
    assert response.status_code == 200
    assert response.context["step"] == step
    assert f"Step {STEPS.index(step) + 1} of 5" in response.content.decode()


def test_a_new_patient_starts_with_the_safety_questions(new_client):
    response = new_client.get(reverse("onboarding"))
    assert response.status_code == 302
    assert response["Location"] == _step_url("safety")


@pytest.mark.parametrize("step", STEPS[1:])
def test_later_steps_wait_for_the_safety_questions(new_client, step):
    response = new_client.get(_step_url(step))
    assert response.status_code == 302
    assert response["Location"] == reverse("onboarding")


@pytest.mark.parametrize("step", STEPS[2:])
def test_the_patient_cannot_skip_a_step(new_client, new_patient, step):
    _answered_up_to(new_patient, "time-zone")
    assert new_client.get(_step_url(step))["Location"] == reverse("onboarding")
    assert new_client.post(_step_url(step), {})["Location"] == reverse("onboarding")


def test_posting_the_start_step_without_a_time_zone_creates_no_plan(new_client, new_patient):
    _answered_up_to(new_patient, "time-zone")
    response = new_client.post(_step_url("start"), {"start_date": "2026-03-11"}, follow=True)
    assert response.redirect_chain[-1][0] == _step_url("time-zone")
    assert not Plan.objects.filter(patient=new_patient).exists()


@pytest.mark.parametrize("step", STEPS)
def test_the_patient_can_go_back_to_an_answered_step(new_client, new_patient, step):
    _ready_to_start(new_patient)
    assert new_client.get(_step_url(step)).status_code == 200


def test_an_unknown_step_is_404(new_client):
    assert new_client.get(_step_url("payment")).status_code == 404


def test_the_stop_page_is_only_for_a_blocking_answer(new_client, new_patient):
    _screened(new_patient)
    response = new_client.get(reverse("onboarding_stop"))
    assert response.status_code == 302
    assert response["Location"] == reverse("onboarding")


def test_another_patients_answers_do_not_count(new_client, other_patient):
    # other_patient has a clear screen and a plan; none of it moves this patient on.
    response = new_client.get(reverse("onboarding"))
    assert response["Location"] == _step_url("safety")


# The happy path ---------------------------------------------------------------


@pytest.mark.usefixtures("frozen_late_evening")
def test_the_full_path_starts_a_standard_plan_on_the_patients_local_date(new_client, new_patient):
    response = new_client.get(reverse("onboarding"), follow=True)
    assert response.redirect_chain[-1][0] == _step_url("safety")

    response = new_client.post(_step_url("safety"), ALL_NO)
    assert response["Location"] == reverse("onboarding")
    assert new_client.get(reverse("onboarding"))["Location"] == _step_url("time-zone")

    response = new_client.post(_step_url("time-zone"), {"time_zone": " Pacific/Auckland "})
    assert response["Location"] == reverse("onboarding")
    assert new_client.get(reverse("onboarding"))["Location"] == _step_url("dose-time")

    response = new_client.post(
        _step_url("dose-time"), {"dose_time": "bedtime", "reminder_time": "22:15"}
    )
    assert response["Location"] == reverse("onboarding")
    assert new_client.get(reverse("onboarding"))["Location"] == _step_url("formulation")

    response = new_client.post(
        _step_url("formulation"), {"formulation": "liquid", "concentration_mg_per_ml": "1"}
    )
    assert response["Location"] == reverse("onboarding")
    assert new_client.get(reverse("onboarding"))["Location"] == _step_url("start")

    response = new_client.get(_step_url("start"))
    assert response.context["form"]["start_date"].value() == AUCKLAND_TODAY
    assert 'value="2026-03-11"' in response.content.decode()

    response = new_client.post(_step_url("start"), {"start_date": "2026-03-11"})
    assert response["Location"] == reverse("today")

    plan = Plan.objects.get(patient=new_patient)
    assert plan.protocol == Plan.Protocol.STANDARD
    assert plan.start_date == AUCKLAND_TODAY
    assert plan.events.get().kind == PlanEvent.Kind.START
    profile = PatientProfile.objects.get(user=new_patient)
    assert profile.time_zone == "Pacific/Auckland"
    assert profile.dose_time == PatientProfile.DoseTime.BEDTIME
    assert profile.reminder_time == dt.time(22, 15)
    assert profile.formulation == PatientProfile.Formulation.LIQUID
    assert profile.concentration_mg_per_ml == Decimal("1.00")
    assert profile.onboarded_at == LATE_EVENING_UTC
    assert "Your plan is ready" in " ".join(_messages(response))
    assert new_client.get(reverse("today")).status_code == 200


@pytest.mark.parametrize(
    "now,time_zone,local_date",
    [
        # Auckland is ahead: at 23:30 UTC it is already tomorrow there.
        (LATE_EVENING_UTC, "Pacific/Auckland", AUCKLAND_TODAY),
        # Honolulu is behind: at 05:00 UTC it is still yesterday evening there.
        (dt.datetime(2026, 3, 11, 5, 0, tzinfo=dt.UTC), "Pacific/Honolulu", dt.date(2026, 3, 10)),
        # The night New Zealand's clocks go back (03:00 NZDT becomes 02:00 NZST).
        (dt.datetime(2026, 4, 4, 13, 30, tzinfo=dt.UTC), "Pacific/Auckland", dt.date(2026, 4, 5)),
        # The night London's clocks go forward (01:00 GMT becomes 02:00 BST).
        (dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC), "Europe/London", dt.date(2026, 3, 29)),
    ],
)
def test_the_start_date_defaults_to_the_patients_local_date(
    new_client, new_patient, now, time_zone, local_date
):
    _ready_to_start(new_patient, time_zone=time_zone)
    with time_machine.travel(now, tick=False):
        response = new_client.get(_step_url("start"))
        assert response.context["form"]["start_date"].value() == local_date
        new_client.post(_step_url("start"), {"start_date": local_date.isoformat()})
    assert Plan.objects.get(patient=new_patient).start_date == local_date


def test_capsules_clear_a_concentration_typed_by_mistake(new_client, new_patient):
    _answered_up_to(new_patient, "formulation")
    response = new_client.post(
        _step_url("formulation"), {"formulation": "capsule", "concentration_mg_per_ml": "5"}
    )
    assert response.status_code == 302
    new_patient.profile.refresh_from_db()
    assert new_patient.profile.formulation == PatientProfile.Formulation.CAPSULE
    assert new_patient.profile.concentration_mg_per_ml is None


def test_the_dose_time_step_suggests_bedtime_at_half_past_nine(new_client, new_patient):
    _answered_up_to(new_patient, "dose-time")
    form = new_client.get(_step_url("dose-time")).context["form"]
    assert form["dose_time"].value() == "bedtime"
    assert form["reminder_time"].value() == dt.time(21, 30)


def test_a_finished_patient_visiting_the_start_step_goes_to_today(patient_client, patient):
    for method in (patient_client.get, patient_client.post):
        response = method(_step_url("start"), {"start_date": "2026-01-01"})
        assert response.status_code == 302
        assert response["Location"] == reverse("today")
    assert Plan.objects.filter(patient=patient).count() == 1


def test_a_finished_patient_visiting_welcome_goes_to_today(patient_client):
    response = patient_client.get(reverse("onboarding"))
    assert response["Location"] == reverse("today")


def test_starting_twice_creates_one_plan(new_client, new_patient):
    profile = _ready_to_start(new_patient)
    day = profile.local_today().isoformat()
    new_client.post(_step_url("start"), {"start_date": day})
    response = new_client.post(_step_url("start"), {"start_date": day})
    assert response["Location"] == reverse("today")
    assert Plan.objects.filter(patient=new_patient).count() == 1


# Safety gates -------------------------------------------------------------------


def test_opioid_use_stops_onboarding_and_keeps_the_answers(new_client, new_patient):
    answers = {**ALL_NO, "opioid_use": "yes", "alcohol": "yes"}

    response = new_client.post(_step_url("safety"), answers)

    assert response.status_code == 302
    assert response["Location"] == reverse("onboarding_stop")
    screening = SafetyScreening.objects.get(patient=new_patient)
    assert screening.opioid_use is True
    assert screening.alcohol is True
    assert not Plan.objects.filter(patient=new_patient).exists()

    assert new_client.get(reverse("onboarding"))["Location"] == reverse("onboarding_stop")
    response = new_client.get(reverse("onboarding_stop"))
    assert response.status_code == 200
    assert "Please talk to your prescriber first" in response.content.decode()
    assert new_client.get(reverse("today"), follow=True).redirect_chain[-1][0] == reverse(
        "onboarding_stop"
    )


@pytest.mark.parametrize("step", STEPS[1:])
def test_after_opioid_use_later_steps_lead_to_the_stop_page(new_client, new_patient, step):
    _screened(new_patient, opioid_use=True)
    response = new_client.get(_step_url(step), follow=True)
    assert response.redirect_chain[-1][0] == reverse("onboarding_stop")


def test_after_opioid_use_posting_the_start_step_creates_no_plan(new_client, new_patient):
    profile = _ready_to_start(new_patient)
    _screened(new_patient, opioid_use=True)

    response = new_client.post(
        _step_url("start"), {"start_date": profile.local_today().isoformat()}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("onboarding_stop")
    assert not Plan.objects.filter(patient=new_patient).exists()


def test_answering_no_a_minute_after_an_opioid_report_does_not_lift_the_block(
    new_client, new_patient
):
    # DOMAIN.md, dose safety: the patient alone can't lift the block by answering again at
    # once; the stop page offers "My medicines changed" instead.
    _screened(new_patient, opioid_use=True)
    response = new_client.post(_step_url("safety"), ALL_NO)
    assert response["Location"] == reverse("onboarding_stop")
    assert SafetyScreening.objects.filter(patient=new_patient).count() == 2
    assert new_client.get(reverse("onboarding"))["Location"] == reverse("onboarding_stop")
    body = new_client.get(reverse("onboarding_stop")).content.decode()
    assert reverse("medicines_changed") in body


def test_a_clear_screen_after_a_mistaken_report_within_the_first_answer_carries_on(
    new_client, new_patient
):
    response = new_client.post(_step_url("safety"), ALL_NO)
    assert response["Location"] == reverse("onboarding")
    assert new_client.get(reverse("onboarding"))["Location"] == _step_url("time-zone")


def test_alcohol_shows_a_warning_and_carries_on(new_client, new_patient):
    response = new_client.post(_step_url("safety"), {**ALL_NO, "alcohol": "yes"}, follow=True)
    assert response.redirect_chain[-1][0] == _step_url("time-zone")
    messages = " ".join(_messages(response))
    assert "Alcohol" in messages
    assert "Liver:" not in messages
    assert 'class="alert alert-warning"' in response.content.decode()


@pytest.mark.parametrize("answer", ["liver_medications", "liver_disease"])
def test_liver_answers_show_a_warning_and_carry_on(new_client, answer):
    response = new_client.post(_step_url("safety"), {**ALL_NO, answer: "yes"}, follow=True)
    assert response.redirect_chain[-1][0] == _step_url("time-zone")
    messages = " ".join(_messages(response))
    assert "Liver: please check with your prescriber" in messages
    assert "Alcohol" not in messages


def test_clear_answers_show_no_warning(new_client):
    response = new_client.post(_step_url("safety"), ALL_NO, follow=True)
    assert _messages(response) == []


# Bad input ------------------------------------------------------------------------


def _field_errors(response, field):
    assert response.status_code == 200
    return response.context["form"].errors.get(field, [])


def test_missing_safety_answers_are_asked_for_by_each_question(new_client, new_patient):
    response = new_client.post(_step_url("safety"), {"opioid_use": "no", "alcohol": "yes"})
    form = response.context["form"]
    assert set(form.errors) == {"liver_medications", "liver_disease"}
    assert form.errors["liver_disease"] == ["Please answer yes or no."]
    body = response.content.decode()
    assert body.count("Please answer yes or no.") == 2
    assert _checked(body, "alcohol", "yes")
    assert _checked(body, "opioid_use", "no")
    assert not SafetyScreening.objects.filter(patient=new_patient).exists()


def test_a_made_up_safety_answer_is_refused(new_client, new_patient):
    response = new_client.post(_step_url("safety"), {**ALL_NO, "opioid_use": "maybe"})
    assert _field_errors(response, "opioid_use")
    assert not SafetyScreening.objects.filter(patient=new_patient).exists()


def test_an_unknown_time_zone_is_explained_and_kept(new_client, new_patient):
    _screened(new_patient)
    response = new_client.post(_step_url("time-zone"), {"time_zone": "Mars/Olympus"})
    assert _field_errors(response, "time_zone") == [
        "We don't recognise that time zone. Pick one from the list, like Europe/London."
    ]
    body = response.content.decode()
    assert 'value="Mars/Olympus"' in body
    assert 'id="error_1_id_time_zone"' in body
    new_patient.profile.refresh_from_db()
    assert new_patient.profile.time_zone == ""


def test_an_empty_time_zone_is_asked_for(new_client, new_patient):
    _screened(new_patient)
    response = new_client.post(_step_url("time-zone"), {"time_zone": "  "})
    assert _field_errors(response, "time_zone") == [
        "Please choose your time zone, for example Europe/London."
    ]


def test_a_missing_dose_time_choice_is_asked_for_and_the_time_kept(new_client, new_patient):
    _answered_up_to(new_patient, "dose-time")
    response = new_client.post(_step_url("dose-time"), {"reminder_time": "22:45"})
    assert _field_errors(response, "dose_time") == ["Please choose bedtime or morning."]
    assert 'value="22:45"' in response.content.decode()


def test_a_nonsense_reminder_time_is_explained(new_client, new_patient):
    _answered_up_to(new_patient, "dose-time")
    response = new_client.post(
        _step_url("dose-time"), {"dose_time": "bedtime", "reminder_time": "late"}
    )
    assert _field_errors(response, "reminder_time") == ["Please enter a time like 21:30."]
    assert 'value="late"' in response.content.decode()


def test_a_missing_formulation_choice_is_asked_for(new_client, new_patient):
    _answered_up_to(new_patient, "formulation")
    response = new_client.post(_step_url("formulation"), {})
    assert _field_errors(response, "formulation") == ["Please choose capsules or liquid."]


def test_liquid_without_a_concentration_asks_for_the_label_strength(new_client, new_patient):
    _answered_up_to(new_patient, "formulation")
    response = new_client.post(
        _step_url("formulation"), {"formulation": "liquid", "concentration_mg_per_ml": ""}
    )
    errors = _field_errors(response, "concentration_mg_per_ml")
    assert errors == [
        "For liquid LDN we need the strength from the label to work out your dose in mL."
    ]
    assert 'id="error_1_id_concentration_mg_per_ml"' in response.content.decode()
    new_patient.profile.refresh_from_db()
    assert new_patient.profile.formulation == ""


@pytest.mark.parametrize("typed", ["0", "-1", "-0.5"])
def test_a_zero_or_negative_concentration_is_refused_and_kept(new_client, new_patient, typed):
    _answered_up_to(new_patient, "formulation")
    response = new_client.post(
        _step_url("formulation"), {"formulation": "liquid", "concentration_mg_per_ml": typed}
    )
    errors = _field_errors(response, "concentration_mg_per_ml")
    assert errors == ["The strength must be more than 0 mg per mL."]
    assert f'value="{typed}"' in response.content.decode()
    new_patient.profile.refresh_from_db()
    assert new_patient.profile.concentration_mg_per_ml is None


def test_a_non_numeric_concentration_is_explained_and_kept(new_client, new_patient):
    _answered_up_to(new_patient, "formulation")
    response = new_client.post(
        _step_url("formulation"), {"formulation": "liquid", "concentration_mg_per_ml": "one"}
    )
    assert _field_errors(response, "concentration_mg_per_ml") == [
        "Please enter a number, like 1 or 5."
    ]
    body = response.content.decode()
    assert 'value="one"' in body
    assert _checked(body, "formulation", "liquid")


def test_an_implausibly_strong_concentration_is_questioned(new_client, new_patient):
    _answered_up_to(new_patient, "formulation")
    response = new_client.post(
        _step_url("formulation"), {"formulation": "liquid", "concentration_mg_per_ml": "50.01"}
    )
    assert _field_errors(response, "concentration_mg_per_ml")


@pytest.mark.usefixtures("frozen_late_evening")
@pytest.mark.parametrize(
    "offset,accepted",
    [(-31, False), (-30, True), (0, True), (90, True), (91, False)],
)
def test_the_start_date_must_be_within_30_days_back_and_90_ahead_of_the_local_date(
    new_client, new_patient, offset, accepted
):
    _ready_to_start(new_patient, time_zone="Pacific/Auckland")
    typed = (AUCKLAND_TODAY + dt.timedelta(days=offset)).isoformat()

    response = new_client.post(_step_url("start"), {"start_date": typed})

    if accepted:
        # A plan begun in the past goes on to the nights since, in one step.
        expected = "onboarding_history" if offset < 0 else "today"
        assert response["Location"] == reverse(expected)
        assert Plan.objects.get(patient=new_patient).start_date.isoformat() == typed
    else:
        assert len(_field_errors(response, "start_date")) == 1
        assert f'value="{typed}"' in response.content.decode()
        assert not Plan.objects.filter(patient=new_patient).exists()


def test_a_start_date_that_is_not_a_date_is_explained(new_client, new_patient):
    _ready_to_start(new_patient)
    response = new_client.post(_step_url("start"), {"start_date": "next tuesday"})
    assert _field_errors(response, "start_date") == ["Please enter a date like 2026-11-22."]
    assert 'value="next tuesday"' in response.content.decode()
    assert not Plan.objects.filter(patient=new_patient).exists()


def test_a_missing_start_date_is_asked_for(new_client, new_patient):
    _ready_to_start(new_patient)
    response = new_client.post(_step_url("start"), {"start_date": ""})
    assert _field_errors(response, "start_date") == ["Please choose the date of your first dose."]


def test_a_patient_without_a_profile_can_still_onboard(client):
    # An administrator can add a patient in the admin, which makes no profile.
    user = UserFactory(email="admin.added@example.org")
    client.force_login(user)
    response = client.get(reverse("onboarding"))
    assert response["Location"] == _step_url("safety")
    assert client.post(_step_url("safety"), ALL_NO).status_code == 302
    assert PatientProfile.objects.filter(user=user).exists()
