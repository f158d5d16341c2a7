"""The schema's indexes: each lookup served, none kept twice."""

import pytest
from django.db import connection

from symptoms.models import DiaryEntry
from titration.models import DoseLog

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [DoseLog, DiaryEntry])
def test_the_daily_tables_index_the_patient_once_with_the_date(model):
    """Every save writes each index: the (patient, date) unique constraint's index serves
    every lookup by patient, so there is no second index on patient alone."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    by_patient = [
        (name, c["columns"], c["unique"])
        for name, c in constraints.items()
        if (c["index"] or c["unique"]) and c["columns"][:1] == ["patient_id"]
    ]
    assert [(columns, unique) for _, columns, unique in by_patient] == [
        (["patient_id", "date"], True)
    ]
