"""The patient's right to erasure: a 7-day grace period they can cancel, then a sweeper that
erases their health data and anonymises the account."""

import datetime as dt

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.admin.models import LogEntry
from django.db import transaction
from django.utils import timezone

from accounts.models import PatientProfile, User
from clinic.models import (
    Alert,
    AlertReview,
    AlertThresholds,
    CareLink,
    ClinicianNote,
    PatientSummary,
)
from reminders.models import PushSubscription, Reminder, ReminderSettings
from symptoms.models import DiaryEntry, QuestionnaireResponse
from titration.models import DoseLog, Plan, SafetyScreening, SupplyEntry


@transaction.atomic
def account_deletion_request(*, user: User, now: dt.datetime | None = None) -> User:
    """Start the grace period. Nothing is erased yet: the patient can still cancel."""
    User.objects.filter(pk=user.pk, deletion_requested_at__isnull=True).update(
        deletion_requested_at=now or timezone.now()
    )
    user.refresh_from_db(fields=["deletion_requested_at"])
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
    ]


@transaction.atomic
def account_erase(*, user_id: int, now: dt.datetime | None = None) -> bool:
    """Erase a patient's health data and anonymise the account, once the grace period is over.

    The row is claimed with a conditional UPDATE, so two sweepers never erase it twice and a
    cancellation that got in first wins. The anonymised row stays: the audit log keeps the
    ids of who saw whose record, and the row says when the account was deleted. The audit
    rows themselves are append-only and hold no health data (action, time, address, path).
    """
    now = now or timezone.now()
    claimed = (
        User.objects.deletion_due(now).filter(pk=user_id).update(deleted_at=now, is_active=False)
    )
    if claimed != 1:
        return False
    user = User.objects.get(pk=user_id)
    for queryset in [*_health_data(user_id), *_login_traces(user)]:
        queryset.delete()
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
