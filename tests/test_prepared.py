"""Queries compiled once (ldn_tracker.prepared) give exactly what the queryset gives."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import DateField, IntegerField, OuterRef, Subquery
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from ldn_tracker.prepared import Param, Prepared, PreparedInsert
from symptoms.models import DiaryEntry
from titration.models import DoseLog, Plan, SafetyScreening

from .factories import (
    DiaryEntryFactory,
    DoseLogFactory,
    PlanFactory,
    SafetyScreeningFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

START = dt.date(2026, 9, 1)


def _doses(patient_id):
    return DoseLog.objects.filter(patient=patient_id)


def _fields(instance):
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def _two_patients_with_doses():
    plans = [PlanFactory(start_date=START), PlanFactory(start_date=START)]
    for n, plan in enumerate(plans):
        for day in range(5 + n):
            DoseLogFactory(
                plan=plan,
                date=START + dt.timedelta(days=day),
                status=DoseLog.Status.SKIPPED if day % 3 == 2 else DoseLog.Status.TAKEN,
            )
    return plans


def test_instances_are_the_querysets_rows_with_the_same_values_and_types():
    plans = _two_patients_with_doses()
    query = Prepared(lambda: _doses(Param("patient", IntegerField())))
    for plan in plans:
        expected = list(_doses(plan.patient_id))
        got = query.instances(patient=plan.patient_id)
        assert [_fields(log) for log in got] == [_fields(log) for log in expected]
        assert all(isinstance(log, DoseLog) and log.pk for log in got)
        # Converted as the ORM converts: dates, decimals and aware datetimes, on any database.
        first = got[0]
        assert isinstance(first.date, dt.date) and isinstance(first.dose_mg, Decimal)
        assert first.logged_at.tzinfo is not None
        assert first.get_status_display() in {"Taken", "Skipped"}


def test_each_run_uses_its_own_values_and_the_sql_is_compiled_once():
    plans = _two_patients_with_doses()
    built = []

    def build():
        built.append(1)
        return _doses(Param("patient", IntegerField())).values_list("date", "status")

    query = Prepared(build)
    first = query.rows(patient=plans[0].patient_id)
    second = query.rows(patient=plans[1].patient_id)
    again = query.rows(patient=plans[0].patient_id)
    assert [tuple(r) for r in first] == list(
        _doses(plans[0].patient_id).values_list("date", "status")
    )
    assert [tuple(r) for r in second] == list(
        _doses(plans[1].patient_id).values_list("date", "status")
    )
    assert len(second) == len(first) + 1
    assert again == first
    assert query.rows(patient=-1) == []
    # Built once for the model, once to compile for this database: never again per run.
    assert len(built) <= 2
    runs = len(built)
    query.rows(patient=plans[1].patient_id)
    assert len(built) == runs


def test_one_statement_per_run(django_assert_num_queries):
    plan = PlanFactory(start_date=START)
    query = Prepared(lambda: _doses(Param("patient", IntegerField())))
    query.instances(patient=plan.patient_id)  # compiles
    with django_assert_num_queries(1):
        query.instances(patient=plan.patient_id)


@pytest.mark.parametrize(
    "since, until",
    [
        (START, START + dt.timedelta(days=3)),
        (START + dt.timedelta(days=2), START + dt.timedelta(days=2)),
        (START - dt.timedelta(days=10), START - dt.timedelta(days=1)),
        (START + dt.timedelta(days=5), START + dt.timedelta(days=30)),
    ],
)
def test_date_params_bound_like_the_orms(since, until):
    patient = UserFactory()
    for day in range(8):
        DiaryEntryFactory(patient=patient, date=START + dt.timedelta(days=day), headache=day % 4)
    DiaryEntryFactory(patient=UserFactory(), date=START, headache=3)  # someone else's
    query = Prepared(
        lambda: DiaryEntry.objects.for_patient_between(
            Param("patient", IntegerField()),
            Param("since", DateField()),
            Param("until", DateField()),
        ).values_list("date", "headache")
    )
    expected = DiaryEntry.objects.for_patient_between(patient, since, until).values_list(
        "date", "headache"
    )
    got = query.rows(patient=patient.pk, since=since, until=until)
    assert [tuple(r) for r in got] == list(expected)


def test_annotations_are_set_as_on_a_queryset():
    screened = PlanFactory(start_date=START)
    SafetyScreeningFactory(patient=screened.patient, opioid_use=True)
    unscreened = PlanFactory(start_date=START)
    latest = SafetyScreening.objects.filter(patient=OuterRef("patient")).order_by("-created_at")

    def build(patient):
        return Plan.objects.filter(patient=patient).annotate(
            opioids=Subquery(latest.values("opioid_use")[:1])
        )

    query = Prepared(lambda: build(Param("patient", IntegerField())))
    for plan in (screened, unscreened):
        (got,) = query.instances(patient=plan.patient_id)
        (expected,) = build(plan.patient_id)
        assert model_to_dict(got) == model_to_dict(expected)
        assert bool(got.opioids) == bool(expected.opioids)
    assert query.instances(patient=screened.patient_id)[0].opioids


def test_instances_need_model_rows():
    query = Prepared(lambda: _doses(Param("patient", IntegerField())).values_list("date"))
    with pytest.raises(TypeError):
        query.instances(patient=1)


def test_the_sql_is_djangos_own():
    """No hand-written SQL: the statement is what the queryset compiles to (parameters apart)."""
    plan = PlanFactory(start_date=START)
    query = Prepared(lambda: _doses(Param("patient", IntegerField())))
    query.instances(patient=plan.patient_id)
    sql, params = _doses(plan.patient_id).query.sql_with_params()
    # Django brackets an expression on the right of a lookup: "= (%s)" for "= %s".
    assert query._compiled[connection.alias].sql.replace("(%s)", "%s") == sql
    assert [p.name for p in query._compiled[connection.alias].params] == ["patient"]
    assert list(params) == [plan.patient_id]


DOSE_FIELDS = [
    "patient",
    "plan",
    "date",
    "status",
    "dose_mg",
    "skip_reason",
    "is_late_entry",
    "source",
    "logged_at",
]


def _new_dose(plan, day, **values):
    defaults = {
        "patient": plan.patient,
        "plan": plan,
        "date": day,
        "status": DoseLog.Status.TAKEN,
        "dose_mg": Decimal("1.50"),
        "skip_reason": "",
        "is_late_entry": False,
        "source": DoseLog.Source.APP,
        "logged_at": dt.datetime(2026, 9, 1, 21, 5, 7, 123456, tzinfo=dt.UTC),
    }
    return DoseLog(**{**defaults, **values})


def test_an_insert_writes_what_save_would_and_sets_the_key(django_assert_num_queries):
    plan = PlanFactory(start_date=START)
    insert = PreparedInsert(DoseLog, DOSE_FIELDS)
    mine = _new_dose(plan, START, skip_reason="tired", status=DoseLog.Status.SKIPPED)
    insert.insert(mine)  # compiles
    theirs = _new_dose(plan, START + dt.timedelta(days=1), dose_mg=Decimal("4.5"))
    with django_assert_num_queries(1):
        insert.insert(theirs)
    assert theirs.pk and not theirs._state.adding and theirs._state.db == connection.alias
    saved = _new_dose(plan, START + dt.timedelta(days=2), dose_mg=Decimal("4.5"))
    saved.save()
    for written, day in ((mine, START), (theirs, START + dt.timedelta(days=1))):
        stored = DoseLog.objects.get(pk=written.pk)
        assert _fields(stored) == _fields(written) | {"dose_mg": stored.dose_mg}
        assert stored.date == day
    # The same values as Model.save() stores, decimals and times included.
    by_save, by_insert = DoseLog.objects.get(pk=saved.pk), DoseLog.objects.get(pk=theirs.pk)
    assert (by_insert.dose_mg, by_insert.logged_at) == (by_save.dose_mg, by_save.logged_at)
    assert DoseLog.objects.get(pk=mine.pk).skip_reason == "tired"


def test_an_insert_meets_the_same_constraints():
    plan = PlanFactory(start_date=START)
    insert = PreparedInsert(DoseLog, DOSE_FIELDS)
    insert.insert(_new_dose(plan, START))
    with pytest.raises(IntegrityError), transaction.atomic():
        insert.insert(_new_dose(plan, START))
    assert DoseLog.objects.filter(patient=plan.patient).count() == 1


def _target_update(plan, target):
    """A second statement for `insert(..., also=...)`: the plan's target dose changes."""
    return f"UPDATE {Plan._meta.db_table} SET target_mg = %s WHERE id = %s", [target, plan.pk]


@pytest.mark.django_db(transaction=True)
def test_an_insert_and_the_statement_it_implies_land_together_outside_a_transaction():
    plan = PlanFactory(start_date=START)
    insert = PreparedInsert(DoseLog, DOSE_FIELDS)
    dose = _new_dose(plan, START)
    with CaptureQueriesContext(connection) as captured:
        insert.insert(dose, also=_target_update(plan, "3.0"))
    assert DoseLog.objects.get(pk=dose.pk).date == START
    assert Plan.objects.get(pk=plan.pk).target_mg == Decimal("3.0")
    if connection.vendor == "postgresql":  # one statement: no BEGIN, no COMMIT, one round trip
        assert [q["sql"][:4] for q in captured.captured_queries] == ["WITH"]


@pytest.mark.django_db(transaction=True)
def test_when_the_insert_fails_the_statement_it_implies_does_not_land():
    plan = PlanFactory(start_date=START, target_mg=Decimal("4.5"))
    insert = PreparedInsert(DoseLog, DOSE_FIELDS)
    insert.insert(_new_dose(plan, START))
    with pytest.raises(IntegrityError):
        insert.insert(_new_dose(plan, START), also=_target_update(plan, "3.0"))
    assert Plan.objects.get(pk=plan.pk).target_mg == Decimal("4.5")
    assert DoseLog.objects.filter(patient=plan.patient).count() == 1


def test_inside_a_transaction_a_failed_insert_leaves_it_usable():
    plan = PlanFactory(start_date=START, target_mg=Decimal("4.5"))
    insert = PreparedInsert(DoseLog, DOSE_FIELDS)
    insert.insert(_new_dose(plan, START))
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            insert.insert(_new_dose(plan, START), also=_target_update(plan, "3.0"))
        # The caller's transaction goes on: the failed pair was rolled back to a savepoint.
        assert Plan.objects.get(pk=plan.pk).target_mg == Decimal("4.5")
        insert.insert(
            _new_dose(plan, START + dt.timedelta(days=1)), also=_target_update(plan, "3.0")
        )
    assert Plan.objects.get(pk=plan.pk).target_mg == Decimal("3.0")
    assert DoseLog.objects.filter(patient=plan.patient).count() == 2
