import pytest
from django.db import connection
from django.db.utils import DatabaseError, InternalError

from clinic.models import AuditEvent

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
