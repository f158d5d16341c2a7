"""Per-patient alert thresholds: the rules at and either side of an adjusted line (pure), the
stored adjustments, and a clinician's change deciding which alert opens (database)."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError
from django.urls import reverse

from accounts.models import PatientProfile, User
from clinic import alert_rules as rules
from clinic.alert_rules import Facts, Rule, Thresholds
from clinic.models import Alert, AlertThresholds
from clinic.selectors import patient_thresholds
from clinic.services import (
    alerts_evaluate,
    alerts_review_changed,
    alerts_sweep,
)

from .conftest import NOW, TODAY, add_history, mfa_login

START = dt.date(2026, 10, 1)


def day(n):
    """n days before today (0 is today)."""
    return TODAY - dt.timedelta(days=n)


def moderate_run(days):
    return Facts(today=TODAY, side_effects={day(n): {"Headache": 2} for n in range(days)})


def pain_facts(baseline, week_mean):
    pain = {START - dt.timedelta(days=n): baseline for n in range(1, 8)}
    pain.update({day(n): week_mean for n in range(7)})
    return Facts(today=TODAY, plan_start=START, pain=pain)


def missed(count):
    """`count` due doses missed before today, after one that was taken."""
    return Facts(
        today=TODAY,
        plan_start=START,
        due_days=[day(n) for n in range(count + 2)],
        logged={day(count + 1): "taken"},
    )


# The rules with adjusted thresholds (pure) -------------------------------------------------


@pytest.mark.parametrize(
    "line,run,expected",
    [(2, 1, False), (2, 2, True), (4, 3, False), (4, 4, True), (14, 13, False), (14, 14, True)],
)
def test_persistent_side_effects_open_at_the_adjusted_number_of_days(line, run, expected):
    found = rules.persistent_side_effects(moderate_run(run), Thresholds(persistent_days=line))
    assert (found is not None) is expected


@pytest.mark.parametrize(
    "points,week,expected",
    [
        (1.0, 5.9, False),  # +0.9 points
        (1.0, 6.0, True),  # +1.0 exactly
        (1.5, 6.4, False),
        (1.5, 6.5, True),
        (3.0, 7.9, False),  # +2.9: the default 2 points would have opened it
        (3.0, 8.0, True),
    ],
)
def test_pain_worsening_opens_at_the_adjusted_points(points, week, expected):
    # A percentage no change here can reach, so only the points line decides.
    thresholds = Thresholds(pain_points=points, pain_percent=100.0)
    assert (rules.pain_worsening(pain_facts(5, week), thresholds) is not None) is expected


@pytest.mark.parametrize(
    "percent,week,expected",
    [
        (20.0, 5.9, False),  # 18%
        (20.0, 6.0, True),  # 20% exactly
        (50.0, 7.4, False),  # 48%: the default 30% would have opened it
        (50.0, 7.5, True),
    ],
)
def test_pain_worsening_opens_at_the_adjusted_percent(percent, week, expected):
    thresholds = Thresholds(pain_points=5.0, pain_percent=percent)
    assert (rules.pain_worsening(pain_facts(5, week), thresholds) is not None) is expected


@pytest.mark.parametrize(
    "line,count,expected",
    [(1, 0, False), (1, 1, True), (5, 4, False), (5, 5, True)],
)
def test_missed_doses_open_at_the_adjusted_run(line, count, expected):
    found = rules.missed_doses(missed(count), Thresholds(missed_in_a_row=line))
    assert (found is not None) is expected


@pytest.mark.parametrize(
    "line,last_days_ago,expected",
    [(2, 2, False), (2, 3, True), (10, 10, False), (10, 11, True)],
)
def test_gone_quiet_opens_after_the_adjusted_whole_days(line, last_days_ago, expected):
    facts = Facts(today=TODAY, plan_start=START, last_diary=day(last_days_ago))
    assert (rules.gone_quiet(facts, Thresholds(quiet_days=line)) is not None) is expected


def test_evaluate_passes_the_thresholds_to_every_adjustable_rule():
    facts = Facts(
        today=TODAY,
        plan_start=START,
        side_effects={day(0): {"Nausea": 2}, day(1): {"Nausea": 2}},
        due_days=[day(1), day(2)],
        last_diary=day(0),
    )
    assert rules.evaluate(facts) == []
    strict = Thresholds(persistent_days=2, missed_in_a_row=2)
    assert [f.rule for f in rules.evaluate(facts, strict)] == [
        Rule.PERSISTENT_SIDE_EFFECTS,
        Rule.MISSED_DOSES,
    ]


def test_each_default_lies_within_its_bounds():
    assert set(rules.BOUNDS) == set(rules.ADJUSTABLE)
    for name, (low, high) in rules.BOUNDS.items():
        assert low <= getattr(rules.DEFAULTS, name) <= high


def test_adjustments_replace_only_the_values_given_with_the_defaults_types():
    thresholds = rules.thresholds_with(
        {"pain_points": Decimal("1.5"), "quiet_days": None, "not_a_threshold": 1}
    )
    assert thresholds == Thresholds(pain_points=1.5)
    assert isinstance(thresholds.pain_points, float)
    assert rules.thresholds_with({}) == rules.DEFAULTS


# Stored adjustments ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_patient_without_adjustments_uses_the_defaults(patient):
    assert patient_thresholds(patient) == rules.DEFAULTS


@pytest.mark.django_db
def test_a_row_adjusts_only_its_filled_fields(patient):
    AlertThresholds.objects.create(patient=patient, pain_points=Decimal("1.5"), quiet_days=10)
    assert patient_thresholds(patient) == Thresholds(pain_points=1.5, quiet_days=10)


@pytest.mark.django_db
def test_thresholds_fetched_with_the_patient_cost_no_query(
    patient, other_patient, django_assert_num_queries
):
    AlertThresholds.objects.create(patient=patient, missed_in_a_row=5)
    both = User.objects.select_related("alert_thresholds").filter(
        pk__in=[patient.pk, other_patient.pk]
    )
    by_pk = {p.pk: p for p in both}
    with django_assert_num_queries(0):
        assert patient_thresholds(by_pk[patient.pk]).missed_in_a_row == 5
        assert patient_thresholds(by_pk[other_patient.pk]) == rules.DEFAULTS


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field,value",
    [("persistent_days", 1), ("pain_points", Decimal("5.1")), ("quiet_days", 31)],
)
def test_the_database_refuses_a_value_out_of_bounds(patient, field, value):
    with pytest.raises(IntegrityError):
        AlertThresholds.objects.create(patient=patient, **{field: value})


# A clinician's change decides which alert opens (database) --------------------------------


def open_rules(patient):
    return sorted(Alert.objects.open().filter(patient=patient).values_list("rule", flat=True))


@pytest.mark.django_db
def test_adjusted_thresholds_change_which_alerts_open(client, linked_patient, doctor):
    add_history(linked_patient, days=21)
    for n in (0, 1):  # moderate headaches yesterday and today: 2 days, under the default 3
        linked_patient.diary_entries.filter(date=TODAY - dt.timedelta(days=n)).update(headache=2)
    alerts_evaluate(patient=linked_patient)
    assert open_rules(linked_patient) == []

    mfa_login(client, doctor)
    response = client.post(
        reverse("clinic:alert_settings", args=[linked_patient.pk]),
        {"persistent_days": "2", "quiet_days": "10"},
    )
    assert response.status_code == 302
    # Saving evaluates at once with the new line: two days in a row is enough now.
    assert open_rules(linked_patient) == ["persistent_side_effects"]

    # Six days of silence: the defaults would open "gone quiet" (5 days); 10 days does not.
    with time_machine.travel(NOW + dt.timedelta(days=6), tick=False):
        assert alerts_sweep() == 1
    assert open_rules(linked_patient) == ["missed_doses", "persistent_side_effects"]
    with time_machine.travel(NOW + dt.timedelta(days=11), tick=False):
        alerts_sweep()
    assert "gone_quiet" in open_rules(linked_patient)


@pytest.mark.django_db
def test_the_review_sweep_uses_the_patients_thresholds(linked_patient):
    add_history(linked_patient, days=21)
    linked_patient.diary_entries.filter(date__gte=TODAY - dt.timedelta(days=1)).update(nausea=2)
    AlertThresholds.objects.create(patient=linked_patient, persistent_days=2)
    PatientProfile.objects.record_changed_mark(linked_patient)
    assert alerts_review_changed() == 1
    assert open_rules(linked_patient) == ["persistent_side_effects"]
