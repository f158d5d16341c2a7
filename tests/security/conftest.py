"""The cast for the security tests: two patients, three clinicians, a deactivated user and an
administrator, with one of every object patient A owns.

- `patient_a`: onboarded, on the standard plan for 20 days, with a diary, doses, a supply
  entry, a questionnaire, reminders, an alert, and a note the linked clinician wrote.
- `patient_b`: another onboarded patient.
- `clinician_linked`: approved, with an authenticator app; A shares with them.
- `clinician_unlinked`: approved at another clinic, A does not share with them.
- `clinician_revoked`: approved at A's clinician's clinic; A shared, then revoked.
- `deactivated`: an onboarded patient whose account an administrator switched off.
- `admin`: a superuser with an authenticator app.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.utils import timezone

from accounts.models import User
from clinic.models import (
    Alert,
    AuditEvent,
    CareLink,
    Clinic,
    ClinicianInvite,
    ClinicianNote,
    new_invite_code,
)
from reminders import tokens
from reminders.models import PushSubscription, Reminder, ReminderSettings
from symptoms.models import DiaryEntry, QuestionnaireResponse
from titration.models import DoseLog, SupplyEntry

from ..accounts.conftest import CheapArgon2PasswordHasher
from ..clinic.conftest import approved_clinician, link, mfa_login
from ..factories import onboarded_patient
from ..reminders.conftest import smtp_mailer, smtp_sink  # noqa: F401 - fixtures: a real SMTP server
from ..test_settings import production_env  # noqa: F401 - a fixture: a deployment's environment

PERSONAS = [
    "anonymous",
    "patient_a",
    "patient_b",
    "clinician_linked",
    "clinician_unlinked",
    "clinician_revoked",
    "deactivated",
    "admin",
]
INVITE_TOKEN = "a-valid-clinician-invitation-token-for-tests"

# Rows that change by design on any request: the session (refreshed on every request), the
# audit log (a clinician's every look is appended to it; append-only, so nothing earlier can
# change) and axes' login records.
VOLATILE_TABLES = {"django_session", "clinic_auditevent", "axes_accesslog", "axes_accessattempt"}


@pytest.fixture(autouse=True)
def _cheap_argon2(settings):
    name = f"{CheapArgon2PasswordHasher.__module__}.CheapArgon2PasswordHasher"
    settings.PASSWORD_HASHERS = [
        name if h.endswith("Argon2PasswordHasher") else h for h in settings.PASSWORD_HASHERS
    ]


@dataclass
class World:
    users: dict
    objects: dict = field(default_factory=dict)
    sessions: dict = field(default_factory=dict)

    def __getitem__(self, persona):
        return self.users[persona]


def build_world() -> World:
    now = timezone.now()
    clinic = Clinic.objects.create(name="Riverside Pain Clinic")
    other_clinic = Clinic.objects.create(name="Hillside Practice")
    a = onboarded_patient(email="alex@example.org")
    plan = a.plans.get()
    today = a.profile.local_today()
    plan.start_date = today - dt.timedelta(days=20)
    plan.save(update_fields=["start_date"])
    plan.events.update(effective_date=plan.start_date)
    b = onboarded_patient(email="sam@example.org")
    linked = approved_clinician("dr.lee@example.org", clinic, first_name="Dr Lee")
    unlinked = approved_clinician("dr.kim@example.org", other_clinic, first_name="Dr Kim")
    revoked = approved_clinician("dr.ray@example.org", clinic, first_name="Dr Ray")
    deactivated = onboarded_patient(email="gone@example.org")
    User.objects.filter(pk=deactivated.pk).update(is_active=False)
    deactivated.refresh_from_db()
    admin = User.objects.create_superuser(email="admin@example.org", password="x" * 16)
    # As after sign-up; without it allauth adds the row on the first visit to the email page.
    EmailAddress.objects.create(user=admin, email=admin.email, verified=True, primary=True)
    approved_admin_totp(admin)

    active_link = link(a, clinician=linked, at=now - dt.timedelta(days=10))
    ended = link(a, clinician=revoked, at=now - dt.timedelta(days=10))
    CareLink.objects.filter(pk=ended.pk).update(revoked_at=now - dt.timedelta(days=1), revoked_by=a)
    invitation = CareLink.objects.create(
        clinician=linked,
        invited_by=linked,
        code=new_invite_code(),
        created_at=now,
        expires_at=now + dt.timedelta(days=14),
    )
    ClinicianInvite.objects.create(
        email="new.doctor@example.org",
        clinic=clinic,
        token_hash=ClinicianInvite.hash_token(INVITE_TOKEN),
        expires_at=now + dt.timedelta(days=7),
    )

    yesterday = today - dt.timedelta(days=1)
    diary = DiaryEntry.objects.create(
        patient=a, date=yesterday, pain=6, sleep=4, notes="Slept badly", other=1, other_text="Itch"
    )
    dose = DoseLog.objects.create(
        patient=a,
        plan=plan,
        date=yesterday,
        status=DoseLog.Status.SKIPPED,
        dose_mg=plan.planned_dose_on(yesterday).dose_mg,
        skip_reason="Felt sick",
        logged_at=now,
    )
    SupplyEntry.objects.create(
        patient=a,
        kind=SupplyEntry.Kind.REFILL,
        received_on=plan.start_date,
        amount=Decimal("30"),
        capsule_strength_mg=Decimal("1.5"),
        recorded_at=now,
    )
    QuestionnaireResponse.objects.create(
        patient=a,
        kind="pgic",
        week=4,
        answers={"pgic": 3},
        score=Decimal("3"),
        completed_at=now,
    )
    ReminderSettings.objects.create(patient=a)
    reminder = Reminder.objects.create(
        patient=a,
        local_date=today,
        due_at=now - dt.timedelta(minutes=5),
        status=Reminder.Status.SENT,
        sent_at=now,
    )
    alert = Alert.objects.create(
        patient=a,
        rule=Alert.Rule.choices[0][0],
        urgency=Alert.Urgency.choices[0][0],
        episode=yesterday,
        detail="A test alert",
    )
    note = ClinicianNote.objects.create(patient=a, author=linked, text="Discussed sleep")
    device = PushSubscription.objects.create(
        patient=a, endpoint="https://push.example.net/a", p256dh="x", auth="y", label="Phone"
    )
    action_token = tokens.action_token(link_key=reminder.link_key, action=tokens.Action.TAKEN)
    world = World(
        users={
            "patient_a": a,
            "patient_b": b,
            "clinician_linked": linked,
            "clinician_unlinked": unlinked,
            "clinician_revoked": revoked,
            "deactivated": deactivated,
            "admin": admin,
        },
        objects={
            "plan": plan,
            "today": today,
            "yesterday": yesterday,
            "diary": diary,
            "dose": dose,
            "reminder": reminder,
            "alert": alert,
            "note": note,
            "device": device,
            "active_link": active_link,
            "revoked_link": ended,
            "invitation": invitation,
            "action_token": action_token,
            "pause_token": tokens.pause_token(link_key=reminder.link_key),
            "invite_token": INVITE_TOKEN,
        },
    )
    # One session per persona, made once: logging in is the slowest part of a request.
    for persona in world.users:
        client = Client()
        login_persona(client, world, persona)
        world.sessions[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return world


def approved_admin_totp(user):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user.totp_secret = generate_totp_secret()
    TOTP.activate(user, user.totp_secret)


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    """One cast for a whole module, built once: each test runs in a savepoint inside this
    transaction (pytest-django's `db`), so what one test changes the next never sees."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def persona_client(world: World, persona: str) -> Client:
    """A client that enforces CSRF, logged in as the persona (with MFA for clinicians and
    the administrator), holding a CSRF cookie whose token `csrf_token(client)` returns."""
    client = Client(enforce_csrf_checks=True)
    if persona in world.sessions:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[persona]
    client.cookies[settings.CSRF_COOKIE_NAME] = _get_new_csrf_string()
    return client


def login_persona(client: Client, world: World, persona: str) -> None:
    if persona == "anonymous":
        return
    user = world[persona]
    if persona.startswith("clinician") or persona == "admin":
        mfa_login(client, user)
    else:
        client.force_login(user)


def csrf_token(client: Client) -> str:
    return client.cookies[settings.CSRF_COOKIE_NAME].value


def database_fingerprint() -> dict:
    """{table: digest of every row}, for every table but the volatile ones."""
    digests = {}
    connection.ensure_connection()
    # The DB-API cursor, not Django's: this runs thousands of times and needs no query log.
    cursor = connection.connection.cursor()
    try:
        for table in _tables():
            cursor.execute(f"SELECT * FROM {table} ORDER BY 1")  # noqa: S608 - table names
            digests[table] = hashlib.sha256(repr(cursor.fetchall()).encode()).hexdigest()
    finally:
        cursor.close()
    return digests


def _tables():
    return [
        connection.ops.quote_name(model._meta.db_table)
        for model in apps.get_models()
        if model._meta.db_table not in VOLATILE_TABLES and model._meta.managed
    ]


def changed_tables(before: dict, after: dict) -> list:
    return sorted(table for table in before if before[table] != after.get(table))


def audit_rows():
    return list(AuditEvent.objects.order_by("id").values_list())
