"""Account deletion: a 7-day grace period the patient can cancel, then a sweeper erases the
patient's health data and anonymises the account; the audit log keeps its rows."""

import datetime as dt
import io
import time

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import PatientProfile, User
from clinic.models import (
    Alert,
    AlertAcknowledgement,
    AlertReview,
    AlertThresholds,
    AuditEvent,
    CareLink,
    ClinicianNote,
    PatientSummary,
)
from privacy import services, tasks
from reminders.models import Reminder, ReminderSettings
from symptoms.models import DiaryEntry, QuestionnaireResponse
from titration.models import DoseLog, Plan, PlanEvent, SafetyScreening, SupplyEntry

from ..clinic.conftest import mfa_login
from ..downloads import just_logged_in
from ..factories import PASSWORD

HEALTH_TABLES = [
    (DiaryEntry, "patient"),
    (DoseLog, "patient"),
    (Plan, "patient"),
    (PlanEvent, "plan__patient"),
    (SafetyScreening, "patient"),
    (QuestionnaireResponse, "patient"),
    (SupplyEntry, "patient"),
    (Reminder, "patient"),
    (ReminderSettings, "patient"),
    (CareLink, "patient"),
    (Alert, "patient"),
    (AlertAcknowledgement, "alert__patient"),
    (AlertThresholds, "patient"),
    (ClinicianNote, "patient"),
    (PatientSummary, "patient"),
    (PatientProfile, "user"),
]


def counts(user):
    return {
        model.__name__: model.objects.filter(**{path: user}).count()
        for model, path in HEALTH_TABLES
    }


# Tables that point at an account and keep their rows when it is erased: the audit log, and
# clinicians' own records (a patient has none).
KEPT = {
    ("clinic.AuditEvent", "patient"),
    ("clinic.AuditEvent", "actor"),
    ("clinic.ClinicianMembership", "clinician"),
    ("clinic.CareLink", "clinician"),
}


def rows_naming(user):
    """{model.field: rows pointing at the user}, for every foreign key to the user model in
    every installed app: a new table of patient data fails the erasure test until the
    sweeper erases it too."""
    found = {}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is User:
                key = (model._meta.label, field.name)
                if key not in KEPT:
                    found[".".join(key)] = model._default_manager.filter(
                        **{field.name: user}
                    ).count()
    return found


def recently_authenticated(client, user):
    """Logged in, with the password typed a moment ago (what allauth's re-check looks for)."""
    client.force_login(user)
    session = client.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time(), "email": user.email, "reauthenticated": True}
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return client


@pytest.fixture
def a(world):
    return world["patient_a"]


@pytest.fixture
def acknowledged(world, a):
    AlertAcknowledgement.objects.create(
        alert=world.objects["alert"], clinician=world["clinician_linked"], note="Called her"
    )


def test_the_account_page_links_to_export_and_deletion(client, a):
    client.force_login(a)
    page = client.get(reverse("account_settings")).content.decode()
    assert reverse("data_export") in page
    assert reverse("account_delete") in page


def test_asking_to_delete_starts_a_7_day_grace_period_and_erases_nothing(client, a, world):
    before = counts(a)
    recently_authenticated(client, a)
    response = client.post(reverse("account_delete"), {"confirm": "on"})
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.deletion_pending
    assert a.deletion_due_at - a.deletion_requested_at == dt.timedelta(days=7)
    assert counts(a) == before
    assert "will be deleted" in client.get(reverse("account_settings")).content.decode()


def test_deleting_needs_the_box_ticked(client, a):
    recently_authenticated(client, a)
    response = client.post(reverse("account_delete"), {})
    assert response.status_code == 200
    a.refresh_from_db()
    assert not a.deletion_pending


def test_deleting_asks_for_the_password_again(client, a):
    client.force_login(a)
    response = client.post(reverse("account_delete"), {"confirm": "on"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    a.refresh_from_db()
    assert not a.deletion_pending


def test_the_patient_can_cancel_during_the_grace_period(client, a):
    services.account_deletion_request(user=a)
    client.force_login(a)
    client.post(reverse("account_delete_cancel"))
    a.refresh_from_db()
    assert not a.deletion_pending
    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        assert services.accounts_erase_due() == 0
    assert counts(a)["DiaryEntry"] == 1


def test_nothing_is_erased_before_7_days(a):
    services.account_deletion_request(user=a)
    before = counts(a)
    with time_machine.travel(timezone.now() + dt.timedelta(days=6, hours=23)):
        assert services.accounts_erase_due() == 0
    assert counts(a) == before


def test_after_7_days_the_sweeper_erases_the_health_data_and_anonymises(
    client, a, world, acknowledged
):
    b = world["patient_b"]
    b_before = counts(b)
    audit_before = AuditEvent.objects.filter(patient_id=a.pk).count()
    # The linked clinician looks once more: that look stays on the record.
    mfa_login(client, world["clinician_linked"])
    client.get(reverse("clinic:patient_detail", args=[a.pk]))
    client.logout()
    audit_rows = list(AuditEvent.objects.filter(patient_id=a.pk).values())
    assert len(audit_rows) == audit_before + 1
    AlertReview.objects.create(patient=a, record_seen_at=timezone.now())
    AlertThresholds.objects.create(patient=a, persistent_days=5)
    services.account_deletion_request(user=a)

    with time_machine.travel(timezone.now() + dt.timedelta(days=7, minutes=1)):
        assert services.accounts_erase_due() == 1

    assert set(counts(a).values()) == {0}
    assert not [label for label, count in rows_naming(a).items() if count]
    assert counts(b) == b_before
    a.refresh_from_db()
    assert a.deleted_at is not None
    assert not a.is_active
    assert a.email == f"deleted-{a.pk}@deleted.invalid"
    assert a.first_name == ""
    assert not a.has_usable_password()
    # The audit trail: the same rows, untouched, holding no health detail.
    assert list(AuditEvent.objects.filter(patient_id=a.pk).values()) == audit_rows
    for row in audit_rows:
        assert set(row) == {
            "id",
            "actor_id",
            "patient_id",
            "action",
            "outcome",
            "at",
            "ip_address",
            "path",
        }
    login = client.post(
        reverse("account_login"), {"login": "alex@example.org", "password": "calm-river-stone-42"}
    )
    assert login.status_code == 200  # the form again: no such account any more


def test_an_erased_account_is_erased_once(a):
    services.account_deletion_request(user=a)
    later = timezone.now() + dt.timedelta(days=8)
    assert services.account_erase(user_id=a.pk, now=later)
    assert not services.account_erase(user_id=a.pk, now=later)


def test_a_session_open_at_erasure_is_logged_out(client, a):
    client.force_login(a)
    services.account_deletion_request(user=a)
    services.account_erase(user_id=a.pk, now=timezone.now() + dt.timedelta(days=8))
    response = client.get(reverse("today"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_command_and_the_task_run_the_sweeper(a, other_patient):
    services.account_deletion_request(user=a, now=timezone.now() - dt.timedelta(days=8))
    services.account_deletion_request(user=other_patient, now=timezone.now() - dt.timedelta(days=8))
    out = io.StringIO()
    call_command("erase_deleted_accounts", stdout=out)
    assert "Erased 2 account(s)." in out.getvalue()
    tasks.accounts_erase_due()  # nothing left: it does no harm
    assert User.objects.filter(deleted_at__isnull=False).count() == 2


def test_only_patients_can_ask_and_never_for_someone_else(client, world):
    clinician = world["clinician_linked"]
    mfa_login(client, clinician)
    assert client.post(reverse("account_delete"), {"confirm": "on"}).status_code == 404
    b = world["patient_b"]
    recently_authenticated(client, b)
    client.post(reverse("account_delete"), {"confirm": "on", "user": world["patient_a"].pk})
    world["patient_a"].refresh_from_db()
    b.refresh_from_db()
    assert not world["patient_a"].deletion_pending
    assert b.deletion_pending


def test_an_unticked_box_is_explained_next_to_it_without_asking_for_the_password(client, a):
    just_logged_in(client, a, seconds_ago=30 * 60)
    response = client.post(reverse("account_delete"), {})
    assert response.status_code == 200
    assert response.context["form"].errors == {"confirm": ["Please tick the box to confirm."]}
    body = response.content.decode()
    assert f'action="{reverse("account_delete")}"' in body
    assert "Please tick the box to confirm." in body
    a.refresh_from_db()
    assert not a.deletion_pending


def test_a_recent_login_schedules_at_once_and_emails_a_link_to_cancel(
    client, a, mailoutbox, django_capture_on_commit_callbacks
):
    just_logged_in(client, a, seconds_ago=60)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_delete"), {"confirm": "on"})
        client.post(reverse("account_delete"), {"confirm": "on"})  # a double tap
    assert response["Location"] == reverse("account_delete_scheduled")
    a.refresh_from_db()
    when = f"{a.deletion_due_at.astimezone(a.profile.zone):%A %-d %B %Y}"
    page = client.get(response["Location"]).content.decode()
    assert f"Your account will be deleted on {when}" in page
    assert "We have sent you an email" in page

    [message] = mailoutbox
    assert message.to == [a.email]
    assert message.subject == "Your account will be deleted in 7 days"
    assert when in message.body
    cancel_url = reverse("account_delete_cancel")
    assert f"{settings.SITE_URL.rstrip('/')}{cancel_url}\n" in message.body

    opened = client.get(cancel_url)  # what the email's link opens: a page, nothing done
    assert "Keep your account?" in opened.content.decode()
    a.refresh_from_db()
    assert a.deletion_pending
    client.post(cancel_url)
    a.refresh_from_db()
    assert not a.deletion_pending


def test_untick_press_tick_press_with_an_old_login_schedules_after_the_password(client, a):
    """The path that once ended on Today with nothing scheduled."""
    a.set_password(PASSWORD)
    a.save(update_fields=["password"])
    just_logged_in(client, a, seconds_ago=30 * 60)
    url = reverse("account_delete")
    assert "Please tick the box" in client.post(url, {}).content.decode()
    asked = client.post(url, {"confirm": "on"})
    assert asked["Location"].startswith(reverse("account_reauthenticate"))
    assert "Before we schedule the deletion" in client.get(asked["Location"]).content.decode()
    done = client.post(asked["Location"], {"password": PASSWORD}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("account_delete_scheduled")
    assert "Your account will be deleted on" in done.content.decode()
    a.refresh_from_db()
    assert a.deletion_pending


def test_the_scheduled_and_cancel_pages_send_back_to_settings_when_nothing_is_scheduled(client, a):
    client.force_login(a)
    assert client.get(reverse("account_delete_scheduled"))["Location"] == reverse(
        "account_settings"
    )
    response = client.get(reverse("account_delete_cancel"), follow=True)
    assert "Your account is not going to be deleted." in response.content.decode()
