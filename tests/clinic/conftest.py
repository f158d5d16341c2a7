"""Personas and builders for the clinician workspace.

- `doctor`: an approved clinician at the Riverside clinic, with an authenticator app.
- `colleague`: approved at the same clinic; sees a patient only through a clinic-wide link.
- `stranger`: an approved clinician at another clinic.
- `patient` (from tests/conftest.py) shares with `doctor` in `linked_patient`.
"""

import base64
import datetime as dt
import hashlib
import hmac
import struct
import time

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse
from django.utils import timezone

from clinic.models import CareLink, Clinic, ClinicianMembership, new_invite_code
from symptoms.models import DiaryEntry
from titration import schedule as engine
from titration.models import DoseLog

from ..factories import ClinicianFactory, onboarded_patient

# 19:00 in London on Friday 20 November 2026: the patient's "today" is the 20th.
NOW = dt.datetime(2026, 11, 20, 19, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _cheap_argon2(settings):
    # Argon2 at a cost fit for tests: every persona gets a password.
    from tests.accounts.conftest import CheapArgon2PasswordHasher

    name = f"{CheapArgon2PasswordHasher.__module__}.CheapArgon2PasswordHasher"
    settings.PASSWORD_HASHERS = [
        name if h.endswith("Argon2PasswordHasher") else h for h in settings.PASSWORD_HASHERS
    ]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def totp_code(secret: str, at: float | None = None) -> str:
    """RFC 6238: HMAC-SHA1 over the 30-second counter, dynamic truncation, 6 digits."""
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(
        base64.b32decode(secret, casefold=True), struct.pack(">Q", counter), hashlib.sha1
    ).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def approved_clinician(email, clinic, *, with_totp=True, first_name=""):
    user = ClinicianFactory(email=email, first_name=first_name or email.split("@")[0].title())
    ClinicianMembership.objects.create(
        clinician=user, clinic=clinic, status=ClinicianMembership.Status.APPROVED
    )
    if with_totp:
        user.totp_secret = generate_totp_secret()
        TOTP.activate(user, user.totp_secret)
    return user


def mfa_login(client, user):
    """Logged in as allauth leaves a session after the password and the authenticator code."""
    client.force_login(user)
    session = client.session
    now = time.time()
    session["account_authentication_methods"] = [
        {"method": "password", "at": now, "email": user.email},
        {"method": "mfa", "at": now, "type": "totp"},
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return client


def link(patient, *, clinician=None, clinic=None, at=None):
    at = at or timezone.now()
    return CareLink.objects.create(
        patient=patient,
        clinician=clinician,
        clinic=clinic,
        invited_by=clinician,
        code=new_invite_code(),
        created_at=at,
        expires_at=at + dt.timedelta(days=14),
        accepted_at=at,
    )


def add_history(patient, *, days=90, pain=5, skip_days=(), today=TODAY):
    """A run-in week and the plan days up to today: a diary entry each day and a dose taken
    each day before today, by bulk insert."""
    plan = patient.plans.get()
    start = plan.start_date
    entries, logs = [], []
    for d in engine.schedule(plan.spec(), until=today, since=start - dt.timedelta(days=7)):
        entries.append(DiaryEntry(patient=patient, date=d.day, pain=pain, sleep=5, fatigue=5))
        if d.is_due and d.day not in skip_days and d.day < today:
            logs.append(
                DoseLog(
                    patient=patient,
                    plan=plan,
                    date=d.day,
                    status=DoseLog.Status.TAKEN,
                    dose_mg=d.dose_mg,
                    logged_at=timezone.now(),
                )
            )
    DiaryEntry.objects.bulk_create(entries)
    DoseLog.objects.bulk_create(logs)
    return plan


@pytest.fixture
def clinic(db):
    return Clinic.objects.create(name="Riverside Pain Clinic")


@pytest.fixture
def other_clinic(db):
    return Clinic.objects.create(name="Hillside Practice")


@pytest.fixture
def doctor(clinic):
    return approved_clinician("dr.lee@example.org", clinic, first_name="Dr Lee")


@pytest.fixture
def colleague(clinic):
    return approved_clinician("dr.patel@example.org", clinic, first_name="Dr Patel")


@pytest.fixture
def stranger(other_clinic):
    return approved_clinician("dr.kim@example.org", other_clinic, first_name="Dr Kim")


@pytest.fixture
def linked_patient(frozen, doctor):
    patient = onboarded_patient(email="alex@example.org", start_date=TODAY - dt.timedelta(days=20))
    link(patient, clinician=doctor)
    return patient


@pytest.fixture
def doctor_client(client, doctor):
    return mfa_login(client, doctor)


def login_redirect(response):
    return response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def audit_rows(patient, **filters):
    from clinic.models import AuditEvent

    return list(AuditEvent.objects.filter(patient_id=patient.pk, **filters).order_by("id"))


class Personas:
    """The standard persona checks for one clinician URL of `linked_patient`.

    Linked clinician: allowed, audited as allowed. Unlinked clinician, other clinic, patient:
    404, audited as denied. Anonymous: sent to log in. Revoked link: 404 on the next request.
    """

    def __init__(self, client, url, method="get", data=None):
        self.client, self.url, self.method, self.data = client, url, method, data or {}

    def request(self, user=None):
        self.client.logout()
        if user is not None:
            if user.is_clinician:
                mfa_login(self.client, user)
            else:
                self.client.force_login(user)
        return getattr(self.client, self.method)(self.url, self.data)
