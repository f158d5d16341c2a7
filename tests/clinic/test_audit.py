import importlib

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.utils import DatabaseError, InternalError
from django.urls import reverse

from clinic.models import AuditEvent

from .conftest import mfa_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(doctor, patient):
    return AuditEvent.objects.create(
        actor=doctor, patient=patient, action="view", outcome="allowed"
    )


def test_audit_rows_cannot_be_changed_or_deleted_through_the_app(event):
    event.outcome = "denied"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(outcome="denied")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


def test_deleting_an_account_keeps_its_audit_rows(event, patient):
    patient.delete()
    assert AuditEvent.objects.get(pk=event.pk).patient_id is not None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL trigger")
def test_postgresql_refuses_raw_updates(event):
    with pytest.raises((DatabaseError, InternalError)), connection.cursor() as cursor:
        cursor.execute("UPDATE clinic_auditevent SET outcome = 'denied'")


def test_the_admin_is_read_only(client, doctor, event):
    from django.contrib import admin

    model_admin = admin.site._registry[AuditEvent]
    request = type("R", (), {"user": doctor})()
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)


def test_rows_keep_the_path_without_the_query_string(client, doctor, linked_patient):
    mfa_login(client, doctor)
    url = reverse("clinic:patient_detail", args=[linked_patient.pk])
    client.get(url, {"show": "notes", "name": "Alex"})
    [row] = AuditEvent.objects.filter(patient_id=linked_patient.pk, action="view")
    assert row.path == url


def test_the_migration_strips_query_strings_written_before(doctor, patient):
    """Rows written before paths were stored alone lose their query strings, past the
    append-only trigger on PostgreSQL, which stays on afterwards."""
    kept = AuditEvent.objects.create(
        actor=doctor, patient=patient, action="view", outcome="allowed", path="/clinic/"
    )
    old = AuditEvent.objects.create(
        actor=doctor, patient=patient, action="panel", outcome="allowed", path="/clinic/?q=Alex"
    )
    migration = importlib.import_module("clinic.migrations.0008_audit_paths_and_admin_actions")
    state = MigrationLoader(connection).project_state(
        ("clinic", "0008_audit_paths_and_admin_actions")
    )
    with connection.schema_editor(atomic=True) as editor:
        migration.strip_query_strings(state.apps, editor)
    paths = dict(AuditEvent.objects.values_list("pk", "path"))
    assert paths == {kept.pk: "/clinic/", old.pk: "/clinic/"}
    if connection.vendor == "postgresql":
        with pytest.raises((DatabaseError, InternalError)), connection.cursor() as cursor:
            cursor.execute("UPDATE clinic_auditevent SET outcome = 'denied'")
