"""alerts_evaluate opens alerts from saved data, once per rule and episode; the daily sweep
does the time-based rules; urgent alerts email the linked clinicians without health detail."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from clinic.models import Alert, PatientSummary
from clinic.services import alert_acknowledge, alerts_evaluate, alerts_sweep
from tests.factories import SafetyScreeningFactory

from .conftest import NOW, TODAY, add_history, link

pytestmark = pytest.mark.django_db


def rules(patient):
    return sorted(Alert.objects.filter(patient=patient).values_list("rule", flat=True))


def severe_on(patient, day):
    patient.diary_entries.filter(date=day).update(nausea=3)


def test_a_severe_rating_opens_one_alert_however_often_it_is_evaluated(linked_patient):
    add_history(linked_patient, days=21)
    severe_on(linked_patient, TODAY)
    assert [a.rule for a in alerts_evaluate(patient=linked_patient)] == ["severe_side_effect"]
    assert alerts_evaluate(patient=linked_patient) == []
    assert rules(linked_patient) == ["severe_side_effect"]


def test_an_acknowledged_episode_does_not_come_back_but_a_new_one_does(linked_patient, doctor):
    add_history(linked_patient, days=21)
    severe_on(linked_patient, TODAY - dt.timedelta(days=1))
    [alert] = alerts_evaluate(patient=linked_patient)
    alert_acknowledge(alert=alert, clinician=doctor, note="Called")
    assert alerts_evaluate(patient=linked_patient) == []
    severe_on(linked_patient, TODAY)
    [again] = alerts_evaluate(patient=linked_patient)
    assert again.episode == TODAY
    assert Alert.objects.open().count() == 1


def test_opioid_use_is_urgent_and_emails_linked_clinicians_without_health_detail(
    linked_patient, doctor, colleague, clinic, django_capture_on_commit_callbacks
):
    add_history(linked_patient, days=21)
    link(linked_patient, clinic=clinic)
    SafetyScreeningFactory(patient=linked_patient, opioid_use=True)
    with django_capture_on_commit_callbacks(execute=True):
        [alert] = alerts_evaluate(patient=linked_patient)
    assert alert.rule == "opioid_use" and alert.urgency == 1
    [message] = mail.outbox
    assert sorted(message.to) == sorted([colleague.email, doctor.email])
    text = (message.subject + message.body).lower()
    for private in ("opioid", "alex", "naltrexone", "ldn dose", linked_patient.email):
        assert private not in text
    assert "/clinic/" in message.body


def test_non_urgent_alerts_send_no_email(linked_patient, django_capture_on_commit_callbacks):
    add_history(linked_patient, days=21)
    severe_on(linked_patient, TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        alerts_evaluate(patient=linked_patient)
    assert mail.outbox == []


def test_persistent_and_pain_worsening_from_the_diary(linked_patient):
    add_history(linked_patient, days=21, pain=4)
    for n in range(3):
        linked_patient.diary_entries.filter(date=TODAY - dt.timedelta(days=n)).update(headache=2)
    linked_patient.diary_entries.filter(date__gt=TODAY - dt.timedelta(days=7)).update(pain=7)
    alerts_evaluate(patient=linked_patient)
    assert rules(linked_patient) == ["pain_worsening", "persistent_side_effects"]


def test_the_sweep_finds_missed_doses_and_silence_once_a_day(linked_patient):
    add_history(linked_patient, days=21)
    alerts_evaluate(patient=linked_patient)
    assert rules(linked_patient) == []
    # Six days later with nothing logged: 6 doses missed, 6 quiet days.
    later = NOW + dt.timedelta(days=6)
    with time_machine.travel(later, tick=False):
        assert alerts_sweep() == 1
        assert rules(linked_patient) == ["gone_quiet", "missed_doses"]
        assert alerts_sweep() == 0  # claimed for today already
    assert PatientSummary.objects.get(patient=linked_patient).as_of == TODAY + dt.timedelta(6)


def test_the_sweep_skips_patients_nobody_can_see(patient):
    assert alerts_sweep() == 0


def test_the_management_command_runs_the_sweep(linked_patient, capsys):
    call_command("alerts_sweep")
    assert "Evaluated 1 patient(s)." in capsys.readouterr().out


def test_the_panel_row_is_refreshed(linked_patient):
    add_history(linked_patient, days=21, skip_days={TODAY - dt.timedelta(days=n) for n in (1, 2)})
    alerts_evaluate(patient=linked_patient)
    row = PatientSummary.objects.get(patient=linked_patient)
    assert (row.plan_day, row.adherence_7, row.non_adherent) == (
        21,
        67,
        True,
    )  # 4 of 6 due before tonight
    assert row.step_status == "on_track"
