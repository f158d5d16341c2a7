"""The patient's right to erasure: a 7-day grace period they can cancel, then a sweeper that
erases their health data and anonymises the account."""

import datetime as dt

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import PatientProfile, User
from accounts.services import profile_ensure
from clinic.models import (
    Alert,
    AlertReview,
    AlertThresholds,
    CareLink,
    ClinicianInvite,
    ClinicianNote,
    PatientSummary,
)
from reminders.models import PushSubscription, Reminder, ReminderSettings
from symptoms.models import DiaryEntry, QuestionnaireResponse
from titration.models import DoseLog, Plan, SafetyScreening, SupplyEntry


@transaction.atomic
def account_deletion_request(*, user: User, now: dt.datetime | None = None) -> User:
    """Start the grace period. Nothing is erased yet: the patient can still cancel, and the
    email says how. A request repeated (a double tap) changes nothing and sends nothing."""
    started = User.objects.filter(pk=user.pk, deletion_requested_at__isnull=True).update(
        deletion_requested_at=now or timezone.now()
    )
    user.refresh_from_db(fields=["deletion_requested_at"])
    if started:
        body = render_to_string(
            "accounts/email/deletion_scheduled.txt",
            {
                "name": user.first_name,
                "due_at": user.deletion_due_at,
                "zone": profile_ensure(user=user).zone,
                "cancel_url": settings.SITE_URL.rstrip("/") + reverse("account_delete_cancel"),
            },
        )
        email = user.email
        transaction.on_commit(
            lambda: send_mail(
                "Your account will be deleted in 7 days", body, None, [email], fail_silently=False
            )
        )
    return user


@transaction.atomic
def account_deletion_cancel(*, user: User) -> User:
    User.objects.filter(pk=user.pk, deleted_at__isnull=True).update(deletion_requested_at=None)
    user.refresh_from_db(fields=["deletion_requested_at"])
    return user


def _health_data(user_id: int):
    """Every table that holds something about the patient's health or care, by patient."""
    return [
        DiaryEntry.objects.filter(patient_id=user_id),
        DoseLog.objects.filter(patient_id=user_id),
        Plan.objects.filter(patient_id=user_id),  # and their events
        SafetyScreening.objects.filter(patient_id=user_id),
        QuestionnaireResponse.objects.filter(patient_id=user_id),
        SupplyEntry.objects.filter(patient_id=user_id),
        Reminder.objects.filter(patient_id=user_id),
        ReminderSettings.objects.filter(patient_id=user_id),
        PushSubscription.objects.filter(patient_id=user_id),
        CareLink.objects.filter(patient_id=user_id),
        Alert.objects.filter(patient_id=user_id),  # and their acknowledgements
        AlertThresholds.objects.filter(patient_id=user_id),
        ClinicianNote.objects.filter(patient_id=user_id),
        PatientSummary.objects.filter(patient_id=user_id),
        AlertReview.objects.filter(patient_id=user_id),
        PatientProfile.objects.filter(user_id=user_id),
    ]


def _login_traces(user: User):
    return [
        # The admin's history names objects by their str(), which holds the email address.
        LogEntry.objects.filter(object_repr__icontains=user.email),
        EmailAddress.objects.filter(user=user),
        Authenticator.objects.filter(user=user),
        AccessAttempt.objects.filter(username__iexact=user.email),
        AccessFailureLog.objects.filter(username__iexact=user.email),
        AccessLog.objects.filter(username__iexact=user.email),
        Session.objects.filter(pk__in=_session_keys_of(user)),
    ]


def _rows_holding_the_address(user: User):
    """Rows that hold the email address without pointing at the account: invitations sent
    to it before it shared anything (a pending one has no patient yet)."""
    return [
        CareLink.objects.filter(email__iexact=user.email, patient__isnull=True),
        ClinicianInvite.objects.filter(email__iexact=user.email),
    ]


def _session_keys_of(user: User) -> list[str]:
    # A session names its user only inside its encoded data (allauth also keeps the login
    # email there), so every stored session is decoded. Erasure is rare and expired
    # sessions are cleared daily, so the table stays small.
    user_id = str(user.pk)
    return [
        session.session_key
        for session in Session.objects.iterator(chunk_size=500)
        if session.get_decoded().get(SESSION_KEY) == user_id
    ]


@transaction.atomic
def account_erase(*, user_id: int, now: dt.datetime | None = None) -> bool:
    """Erase a patient's health data and anonymise the account, once the grace period is over.

    The row is claimed with a conditional UPDATE, so two sweepers never erase it twice and a
    cancellation that got in first wins. The anonymised row stays: the audit log keeps the
    ids of who saw whose record, and the row says when the account was deleted. The audit
    rows themselves are append-only and hold neither health data nor names (action, time,
    address, and the path without its query string). Nothing that holds the person's email
    address or name is left: their sessions, login records and invitations sent to them go.
    """
    now = now or timezone.now()
    claimed = (
        User.objects.deletion_due(now).filter(pk=user_id).update(deleted_at=now, is_active=False)
    )
    if claimed != 1:
        return False
    user = User.objects.get(pk=user_id)
    for queryset in [
        *_health_data(user_id),
        *_login_traces(user),
        *_rows_holding_the_address(user),
    ]:
        queryset.delete()
    # An invitation emailed to this address and then accepted by another account keeps the
    # link, not the address.
    CareLink.objects.filter(email__iexact=user.email).update(email="")
    # Ended sessions can still hold what their owner typed (a clinician's panel search for
    # this patient's name) until they are cleared: clear them now.
    Session.objects.filter(expire_date__lt=timezone.now()).delete()
    user.email = f"deleted-{user.pk}@deleted.invalid"
    user.first_name = ""
    user.set_unusable_password()  # also ends every session: the session hash changes
    user.save(update_fields=["email", "first_name", "password"])
    return True


def accounts_erase_due(*, now: dt.datetime | None = None) -> int:
    """The sweeper: erase every account whose grace period is over. Returns how many."""
    now = now or timezone.now()
    due = list(User.objects.deletion_due(now).values_list("pk", flat=True))
    return sum(account_erase(user_id=pk, now=now) for pk in due)
