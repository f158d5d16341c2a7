import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import PatientProfile
from titration.models import Plan, PlanEvent

from .conftest import TODAY, Personas, add_history, audit_rows, login_redirect, mfa_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def url(linked_patient):
    return reverse("clinic:patient_plan", args=[linked_patient.pk])


def post(client, url, change, confirm=True, **fields):
    data = {"change": change, **{f"{change}-{k}": v for k, v in fields.items()}}
    if confirm:
        data["confirm"] = "yes"  # the second press, on the preview
    return client.post(url, data)


def latest_event(patient):
    return PlanEvent.objects.filter(plan__patient=patient).order_by("-id").first()


def test_the_linked_clinician_sees_the_plan_page(client, linked_patient, doctor, url):
    response = Personas(client, url).request(doctor)
    assert response.status_code == 200
    assert "plan day 21" in response.content.decode()
    assert audit_rows(linked_patient)[0].outcome == "allowed"


@pytest.mark.parametrize("who", ["stranger", "colleague", "linked_patient"])
def test_anyone_else_cannot_change_the_plan(client, request, linked_patient, url, who):
    user = request.getfixturevalue(who)
    response = Personas(client, url, "post", {"change": "pause", "pause-reason": "x"}).request(user)
    assert response.status_code == 404
    assert not PlanEvent.objects.filter(kind="pause").exists()
    assert audit_rows(linked_patient)[-1].outcome == "denied"


def test_anonymous_is_sent_to_log_in(client, linked_patient, url):
    assert login_redirect(Personas(client, url, "post", {"change": "pause"}).request(None))


def test_approving_a_held_step_up_moves_the_patient_on_and_shows_on_today(
    client, linked_patient, doctor, url
):
    add_history(linked_patient, days=21)
    plan = linked_patient.plans.get()
    # A hold open since day 14 keeps the patient on 3.0 mg.
    PlanEvent.objects.create(
        plan=plan, kind="hold", effective_date=TODAY - dt.timedelta(days=7), actor=linked_patient
    )
    assert plan.planned_dose_on(TODAY).dose_mg == Decimal("3.0")
    mfa_login(client, doctor)
    response = post(client, url, "step_up", reason="Side effects settled: go to 4.5 mg")
    assert response.status_code == 302
    event = latest_event(linked_patient)
    assert (event.kind, event.actor_id) == ("step_up", doctor.pk)
    assert plan.planned_dose_on(TODAY).dose_mg == Decimal("4.5")
    assert audit_rows(linked_patient)[-1].action == "plan_change"
    client.force_login(linked_patient)
    body = client.get(reverse("today")).content.decode()
    assert "Your clinician changed your plan" in body
    assert "Side effects settled: go to 4.5 mg" in body


def test_hold_step_back_pause_resume_and_stop_are_clinician_events(
    client, linked_patient, doctor, url
):
    add_history(linked_patient, days=21)
    mfa_login(client, doctor)
    post(client, url, "step_back", reason="Back to 3 mg")
    assert latest_event(linked_patient).kind == "step_back"
    # Below the target again, a hold means something.
    post(client, url, "hold", days="5", reason="Wait a few days")
    assert latest_event(linked_patient).days == 5
    post(client, url, "pause", reason="Surgery")
    assert latest_event(linked_patient).kind == "pause"
    post(client, url, "resume", reason="")
    assert latest_event(linked_patient).kind == "resume"
    response = post(client, url, "stop", reason="")
    assert response.status_code == 400
    assert "Please give a reason" in response.content.decode()
    post(client, url, "stop", reason="Not helping")
    event = latest_event(linked_patient)
    assert (event.kind, event.actor_id, event.reason) == ("stop", doctor.pk, "Not helping")


def test_changing_the_target_starts_a_new_plan_capped_at_6mg(client, linked_patient, doctor, url):
    add_history(linked_patient, days=21)
    mfa_login(client, doctor)
    response = post(client, url, "target", target_mg="6.25", reason="")
    assert response.status_code == 400  # not a choice: 6.0 mg is the ceiling
    post(client, url, "target", target_mg="6.0", reason="Try 6 mg as in FINAL")
    plan = Plan.objects.filter(patient=linked_patient).first()
    assert plan.target_mg == Decimal("6.0")
    assert plan.events.get().actor_id == doctor.pk


def test_a_custom_schedule_is_validated_in_plain_words(client, linked_patient, doctor, url):
    mfa_login(client, doctor)
    response = post(client, url, "custom", steps="1.5 mg 7 days\n1.3 mg", reason="")
    assert "multiple of 0.25" in response.content.decode()
    post(client, url, "custom", steps="1 mg 3 days\n2 mg 7 days\n3.5 mg", reason="Slower")
    plan = Plan.objects.filter(patient=linked_patient).first()
    assert plan.custom_steps == [
        {"dose_mg": "1", "min_days": 3},
        {"dose_mg": "2", "min_days": 7},
        {"dose_mg": "3.5", "min_days": None},
    ]
    assert plan.planned_dose_on(TODAY).dose_mg == Decimal("1")


def test_switching_the_dose_time_moves_the_reminder(client, linked_patient, doctor, url):
    mfa_login(client, doctor)
    post(client, url, "dose_time", dose_time="morning", reason="Vivid dreams")
    profile = PatientProfile.objects.get(user=linked_patient)
    assert profile.dose_time == "morning"
    assert profile.reminder_time == PatientProfile.DEFAULT_MORNING
    assert latest_event(linked_patient).actor_id == doctor.pk


def test_a_change_the_plan_cannot_take_is_explained(client, linked_patient, doctor, url):
    mfa_login(client, doctor)
    # Day 21 of the standard plan is the last step: there is no step up.
    add_history(linked_patient, days=21)
    assert "Approve the next step" not in client.get(url).content.decode()
    response = post(client, url, "step_up", reason="")
    assert response.status_code == 400
    assert "That change doesn&#x27;t fit the plan today." in response.content.decode()
    assert latest_event(linked_patient).kind == "start"


# Only the changes that fit, each previewed before it is recorded.


def test_a_change_is_previewed_and_recorded_only_on_the_second_press(
    client, linked_patient, doctor, url
):
    add_history(linked_patient, days=21)
    mfa_login(client, doctor)
    response = post(client, url, "step_back", confirm=False, reason="Back to 3 mg")
    body = response.content.decode()
    assert response.status_code == 200
    assert "If you confirm" in body
    assert "Tonight 3.0 mg; 4.5 mg from 27 November." in body
    assert "Confirm: step back" in body
    assert latest_event(linked_patient).kind == "start"
    post(client, url, "step_back", reason="Back to 3 mg")
    assert latest_event(linked_patient).kind == "step_back"


def test_a_held_step_up_is_offered_with_its_schedule_and_named_as_needing_a_decision(
    client, linked_patient, doctor, url
):
    add_history(linked_patient, days=21)
    plan = linked_patient.plans.get()
    PlanEvent.objects.create(
        plan=plan, kind="hold", effective_date=TODAY - dt.timedelta(days=7), actor=linked_patient
    )
    mfa_login(client, doctor)
    body = client.get(url).content.decode()
    assert "Approve the next step" in body and "End the hold" in body
    body = post(client, url, "step_up", confirm=False, reason="").content.decode()
    assert "Tonight 4.5 mg." in body


def test_the_first_step_offers_no_step_back_and_a_stopped_plan_offers_nothing(
    client, linked_patient, doctor, url
):
    plan = linked_patient.plans.get()
    plan.start_date = TODAY
    plan.save(update_fields=["start_date"])
    mfa_login(client, doctor)
    body = client.get(url).content.decode()
    assert "Step back" not in body and "Approve the next step" not in body
    assert "Hold at this dose" in body and "Pause" in body
    post(client, url, "stop", reason="Not for now")
    body = client.get(url).content.decode()
    assert "there is nothing to change" in body
    assert "Preview:" not in body


def test_a_big_target_rise_needs_the_tick_after_the_preview(client, linked_patient, doctor, url):
    plan = linked_patient.plans.get()
    plan.start_date = TODAY
    plan.save(update_fields=["start_date"])
    mfa_login(client, doctor)
    body = post(
        client, url, "custom", confirm=False, steps="4 mg", reason="Straight to 4 mg"
    ).content.decode()
    assert "Tonight 4.0 mg." in body
    assert "raises the dose by more than 1.5 mg at once" in body
    response = post(client, url, "custom", steps="4 mg", reason="Straight to 4 mg")
    assert "Tick the confirmation" in response.content.decode()
    assert Plan.objects.filter(patient=linked_patient).count() == 1
