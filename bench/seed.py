"""Fast seeding of the HTTP benchmarks' own database (bench.common.DB_NAME).

N patients, each 12 weeks into a standard plan (day 84 today), with a dose logged on every due
day but the last three (the dose benchmark logs those), a diary for the run-in week and every
day up to yesterday, a refill, and, when the clinic app is installed, one approved clinician
with an authenticator app whom every patient shares their record with.

Everything is bulk-inserted with one precomputed password hash. The database is rebuilt
when the seed in it is not this version, not today's, or not this size; otherwise it is kept
and only the doses logged by earlier runs are removed, so runs are repeatable.
"""

import datetime as dt
import json
import sys
import time
from dataclasses import dataclass

import psycopg

from bench import common

SEED_VERSION = 1
PLAN_DAY_TODAY = 84  # 12 weeks in
FREE_DOSE_DAYS = 3  # today and the two days before are left for the benchmark to log
PASSWORD = "bench-password-not-a-secret"
ZONES = [
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Asia/Kolkata",
]
CLINICIAN_EMAIL = "clinician@bench.example.org"


def _marker(patients: int) -> dict:
    return {"version": SEED_VERSION, "date": dt.date.today().isoformat(), "patients": patients}


def _current_marker() -> dict | None:
    with psycopg.connect(common.PG_ADMIN_URL, autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [common.DB_NAME],
        ).fetchone()
    if row is None:
        return None
    try:
        return json.loads(row[0] or "")
    except ValueError:
        return {}


def _recreate_database():
    with psycopg.connect(common.PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{common.DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{common.DB_NAME}"')


def _mark(patients: int):
    with psycopg.connect(common.PG_ADMIN_URL, autocommit=True) as conn:
        comment = json.dumps(_marker(patients)).replace("'", "''")
        conn.execute(f"COMMENT ON DATABASE \"{common.DB_NAME}\" IS '{comment}'")


def database_ready(env: dict, *, patients: int) -> None:
    """Make the bench database hold today's seed of `patients`, and set Django up on it."""
    fresh = _current_marker() != _marker(patients)
    if fresh:
        _recreate_database()
    # Always: a kept seed still gets the migrations added since it was made.
    common.run_checked(
        [common.PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env, "migrate"
    )
    common.django_setup(env)
    if fresh:
        started = time.perf_counter()
        seed(patients)
        _mark(patients)
        print(
            f"seeded {patients} patients in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    else:
        doses_reset()
    vacuum()


def vacuum() -> None:
    """VACUUM (ANALYZE) the bench database, before any measurement: what autovacuum does in
    production. This machine's PostgreSQL runs with autovacuum off, and every run leaves dead
    rows behind (each request rewrites its session row, each reset deletes thousands of
    doses): without this, each run measured tables bloated by every run before it, which no
    production database is. Not between phases: its writes would land in the phase measured
    next."""
    with psycopg.connect(common.DATABASE_URL, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def doses_reset() -> int:
    """Remove the doses the benchmarks logged (seeded ones are marked as demo data).

    Plain SQL on its own connection, so it can be called from the load client's event loop.
    """
    with psycopg.connect(common.DATABASE_URL, autocommit=True) as conn:
        return conn.execute("DELETE FROM titration_doselog WHERE source <> 'demo'").rowcount


def seed(patients: int) -> None:
    from allauth.account.models import EmailAddress
    from django.apps import apps
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import PatientProfile, User
    from symptoms.models import DiaryEntry
    from titration import schedule as engine
    from titration.models import DoseLog, Plan, PlanEvent, SafetyScreening, SupplyEntry

    now = timezone.now()
    password = make_password(PASSWORD)  # one Argon2 hash for everyone: seconds, not minutes
    with transaction.atomic():
        users = User.objects.bulk_create(
            User(
                email=f"patient{n:05d}@bench.example.org",
                first_name=f"Patient {n}",
                role=User.Role.PATIENT,
                password=password,
            )
            for n in range(patients)
        )
        EmailAddress.objects.bulk_create(
            EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users
        )
        zones = [ZONES[n % len(ZONES)] for n in range(patients)]
        PatientProfile.objects.bulk_create(
            PatientProfile(
                user=u,
                time_zone=zones[n],
                dose_time=PatientProfile.DoseTime.BEDTIME,
                reminder_time=PatientProfile.DEFAULT_BEDTIME,
                formulation=PatientProfile.Formulation.CAPSULE,
                onboarded_at=now - dt.timedelta(days=PLAN_DAY_TODAY + 7),
            )
            for n, u in enumerate(users)
        )
        SafetyScreening.objects.bulk_create(
            SafetyScreening(
                patient=u,
                opioid_use=False,
                alcohol=False,
                liver_medications=False,
                liver_disease=False,
            )
            for u in users
        )
        todays = [now.astimezone(engine_zone(z)).date() for z in zones]
        plans = Plan.objects.bulk_create(
            Plan(
                patient=u,
                protocol=Plan.Protocol.STANDARD,
                start_date=todays[n] - dt.timedelta(days=PLAN_DAY_TODAY - 1),
            )
            for n, u in enumerate(users)
        )
        events = PlanEvent.objects.bulk_create(
            PlanEvent(
                plan=p,
                kind=PlanEvent.Kind.START,
                effective_date=p.start_date,
                actor=p.patient,
                reason="Plan started",
            )
            for p in plans
        )
        SupplyEntry.objects.bulk_create(
            SupplyEntry(
                patient=p.patient,
                kind=SupplyEntry.Kind.REFILL,
                received_on=p.start_date,
                amount=300,
                capsule_strength_mg="1.5",
                recorded_at=now - dt.timedelta(days=PLAN_DAY_TODAY),
            )
            for p in plans
        )
        schedules = {}
        logs, entries = [], []
        for n, (plan, event) in enumerate(zip(plans, events, strict=True)):
            today = todays[n]
            days = schedules.get(plan.start_date)
            if days is None:
                days = engine.schedule(plan.spec([event]), until=today)
                schedules[plan.start_date] = days
            for d in days:
                if not d.is_due or d.day > today - dt.timedelta(days=FREE_DOSE_DAYS):
                    continue
                skipped = (n + d.day.toordinal()) % 23 == 0
                logs.append(
                    DoseLog(
                        patient_id=plan.patient_id,
                        plan=plan,
                        date=d.day,
                        status=DoseLog.Status.SKIPPED if skipped else DoseLog.Status.TAKEN,
                        dose_mg=d.dose_mg,
                        source=DoseLog.Source.DEMO,
                        logged_at=now - dt.timedelta(days=(today - d.day).days, hours=2),
                    )
                )
            for back in range(1, PLAN_DAY_TODAY + 7):
                day = today - dt.timedelta(days=back)
                k = n + day.toordinal()
                entries.append(
                    DiaryEntry(
                        patient_id=plan.patient_id,
                        date=day,
                        pain=3 + k % 5,
                        sleep=4 + k % 4,
                        fatigue=5 + k % 3,
                        fog=3 + k % 4,
                        mood=5 + k % 3,
                        vivid_dreams=1 if k % 9 == 0 else 0,
                        headache=1 if k % 11 == 0 else 0,
                        notes="Busy day." if k % 13 == 0 else "",
                    )
                )
            if len(logs) > 20_000:
                DoseLog.objects.bulk_create(logs, batch_size=5000)
                DiaryEntry.objects.bulk_create(entries, batch_size=5000)
                logs, entries = [], []
        DoseLog.objects.bulk_create(logs, batch_size=5000)
        DiaryEntry.objects.bulk_create(entries, batch_size=5000)
        if apps.is_installed("clinic"):
            _clinician_seed(users, password, now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def engine_zone(name):
    import zoneinfo

    return zoneinfo.ZoneInfo(name)


def _clinician_seed(patients, password, now):
    from allauth.account.models import EmailAddress
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from accounts.models import User
    from clinic.models import CareLink, Clinic, ClinicianMembership, new_invite_code

    clinic = Clinic.objects.create(name="Bench clinic")
    doctor = User.objects.create(
        email=CLINICIAN_EMAIL, first_name="Dr Bench", role=User.Role.CLINICIAN, password=password
    )
    EmailAddress.objects.create(user=doctor, email=doctor.email, verified=True, primary=True)
    ClinicianMembership.objects.create(
        clinician=doctor, clinic=clinic, status=ClinicianMembership.Status.APPROVED
    )
    TOTP.activate(doctor, generate_totp_secret())
    CareLink.objects.bulk_create(
        CareLink(
            patient=p,
            clinician=doctor,
            invited_by=doctor,
            code=new_invite_code(),
            created_at=now - dt.timedelta(days=80),
            expires_at=now - dt.timedelta(days=66),
            accepted_at=now - dt.timedelta(days=80),
        )
        for p in patients
    )


# --- sessions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A logged-in person as the load client sees them: cookies, a CSRF token, local date."""

    user_id: int
    zone: str
    session_key: str
    csrf_secret: str
    csrf_token: str

    @property
    def cookie(self) -> str:
        return f"sessionid={self.session_key}; csrftoken={self.csrf_secret}"

    def local_today(self) -> dt.date:
        return dt.datetime.now(engine_zone(self.zone)).date()


def sessions_create(users) -> list[Person]:
    """Logged-in sessions made on the server side, as a login leaves them (a login through
    the form costs an Argon2 hash per person: minutes for thousands of patients).

    The CSRF cookie holds the secret; the form and header carry it masked, as a page would.
    """
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret
    from django.utils import timezone

    from accounts.middleware import SessionPolicyMiddleware

    backend = "allauth.account.auth_backends.AuthenticationBackend"
    store = SessionStore()
    now = timezone.now()
    rows, people = [], []
    for user in users:
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: backend,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
            SessionPolicyMiddleware.LOGIN_AT_KEY: int(time.time()),
            "account_authentication_methods": [
                {"method": "password", "at": time.time(), "email": user.email}
            ],
        }
        if user.is_clinician:
            # As allauth leaves it after the password and the authenticator code.
            data["account_authentication_methods"].append(
                {"method": "mfa", "at": time.time(), "type": "totp"}
            )
            data["account_authentication_methods_user"] = str(user.pk)
        key = store._get_new_session_key()
        rows.append(
            Session(
                session_key=key,
                session_data=store.encode(data),
                expire_date=now + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE),
            )
        )
        secret = _get_new_csrf_string()
        zone = user.profile.time_zone if user.is_patient else "UTC"
        people.append(Person(user.pk, zone, key, secret, _mask_cipher_secret(secret)))
    Session.objects.bulk_create(rows, batch_size=2000)
    return people


def patients(limit: int | None = None):
    from accounts.models import User

    users = User.objects.filter(role=User.Role.PATIENT).select_related("profile").order_by("id")
    return list(users[:limit] if limit else users)


def clinician():
    from accounts.models import User

    return User.objects.filter(email=CLINICIAN_EMAIL).first()


if __name__ == "__main__":
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description="Seed the HTTP benchmarks' database.")
    parser.add_argument("--patients", type=int, default=2000)
    args = parser.parse_args()
    env = common.bench_env(static_root=tempfile.mkdtemp(prefix="ldn-bench-static-"))
    database_ready(env, patients=args.patients)
