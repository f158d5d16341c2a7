"""Panel and patient-detail benchmark (issue 6).

1,000 patients with 90 days of doses and diaries in PostgreSQL, all shared with one
clinician. Measures the median server time of the panel page and of one patient's detail
page (Django's test client: URL routing, every middleware, the view, the template), and
compares each with a floor measured in the same run: hand-written SQL returning the same
numbers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ldn_bench \
        .venv/bin/python -m bench.dashboard.run [--patients 1000] [--days 90] [--runs 30]

The database named in DATABASE_URL is created if missing and its data replaced: never point
this at a database you care about.
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ldn_tracker.settings")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("LOG_LEVEL", "ERROR")


def _ensure_database(url):
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


PANEL_FLOOR_SQL = """
WITH linked AS (
    SELECT DISTINCT l.patient_id FROM clinic_carelink l
    WHERE l.accepted_at IS NOT NULL AND l.revoked_at IS NULL AND l.clinician_id = %(clinician)s
),
plan AS (
    SELECT DISTINCT ON (p.patient_id) p.patient_id, p.start_date
    FROM titration_plan p JOIN linked USING (patient_id)
    ORDER BY p.patient_id, p.created_at DESC, p.id DESC
),
adherence AS (
    SELECT d.patient_id,
           count(*) FILTER (WHERE d.status = 'taken') AS taken, count(*) AS logged,
           max(d.logged_at) AS last_dose
    FROM titration_doselog d JOIN linked USING (patient_id)
    WHERE d.date > %(today)s::date - 7 AND d.date < %(today)s::date
    GROUP BY d.patient_id
),
pain AS (
    SELECT e.patient_id,
           avg(e.pain) FILTER (WHERE e.date > %(today)s::date - 7) AS current,
           avg(e.pain) FILTER (WHERE e.date < plan.start_date
                               AND e.date >= plan.start_date - 7) AS baseline,
           max(e.updated_at) AS last_diary
    FROM symptoms_diaryentry e JOIN plan USING (patient_id)
    WHERE e.date >= plan.start_date - 7
    GROUP BY e.patient_id
),
side AS (
    SELECT DISTINCT ON (e.patient_id) e.patient_id, e.date,
           greatest(e.vivid_dreams, e.insomnia, e.headache, e.nausea, e.reduced_appetite,
                    e.stomach, e.dizziness, e.anxiety, e.cramps, e.other) AS worst
    FROM symptoms_diaryentry e JOIN linked USING (patient_id)
    WHERE e.date > %(today)s::date - 7
      AND greatest(e.vivid_dreams, e.insomnia, e.headache, e.nausea, e.reduced_appetite,
                   e.stomach, e.dizziness, e.anxiety, e.cramps, e.other) > 0
    ORDER BY e.patient_id, e.date DESC
),
alerts AS (
    SELECT a.patient_id, min(a.urgency) AS top_urgency, min(a.opened_at) AS oldest,
           count(*) AS open_alerts
    FROM clinic_alert a JOIN linked USING (patient_id)
    WHERE a.acknowledged_at IS NULL
    GROUP BY a.patient_id
)
SELECT u.id, u.first_name, %(today)s::date - plan.start_date + 1 AS plan_day,
       adherence.taken, adherence.logged, pain.baseline, pain.current,
       side.date, side.worst, alerts.top_urgency, alerts.open_alerts,
       greatest(adherence.last_dose, pain.last_diary) AS last_activity
FROM accounts_user u
JOIN linked ON linked.patient_id = u.id
LEFT JOIN plan ON plan.patient_id = u.id
LEFT JOIN adherence ON adherence.patient_id = u.id
LEFT JOIN pain ON pain.patient_id = u.id
LEFT JOIN side ON side.patient_id = u.id
LEFT JOIN alerts ON alerts.patient_id = u.id
ORDER BY alerts.top_urgency NULLS LAST, alerts.oldest NULLS LAST, u.first_name, u.email
LIMIT 50
"""

DETAIL_FLOOR_SQL = [
    # The plan and its events, the whole dose log and diary (the charts and timeline read
    # them), questionnaires, alerts with acknowledgements, notes, supply.
    "SELECT * FROM titration_plan WHERE patient_id = %(patient)s ORDER BY created_at DESC",
    "SELECT e.* FROM titration_planevent e JOIN titration_plan p ON p.id = e.plan_id"
    " WHERE p.patient_id = %(patient)s ORDER BY e.effective_date, e.id",
    "SELECT * FROM titration_doselog WHERE patient_id = %(patient)s ORDER BY date",
    "SELECT * FROM symptoms_diaryentry WHERE patient_id = %(patient)s ORDER BY date",
    "SELECT * FROM symptoms_questionnaireresponse WHERE patient_id = %(patient)s",
    "SELECT a.*, k.* FROM clinic_alert a LEFT JOIN clinic_alertacknowledgement k"
    " ON k.alert_id = a.id WHERE a.patient_id = %(patient)s",
    "SELECT * FROM clinic_cliniciannote WHERE patient_id = %(patient)s",
    "SELECT * FROM titration_supplyentry WHERE patient_id = %(patient)s",
]


def seed(patients: int, days: int):
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from clinic.models import CareLink, Clinic, ClinicianMembership, new_invite_code
    from clinic.services import alerts_evaluate
    from symptoms.models import DiaryEntry
    from tests.clinic.conftest import approved_clinician
    from tests.factories import onboarded_patient
    from titration import schedule as engine
    from titration.models import DoseLog

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE accounts_user, clinic_clinic, clinic_auditevent RESTART IDENTITY CASCADE"
        )
    clinic = Clinic.objects.create(name="Bench clinic")
    doctor = approved_clinician("bench.doctor@example.org", clinic, first_name="Dr Bench")
    assert ClinicianMembership.objects.get(clinician=doctor).is_approved
    now = timezone.now()
    started = time.perf_counter()
    for n in range(patients):
        patient = onboarded_patient(email=f"patient{n:04d}@example.org")
        today = patient.profile.local_today(now)
        plan = patient.plans.get()
        plan.start_date = today - dt.timedelta(days=days - 1)
        plan.save(update_fields=["start_date"])
        plan.events.update(effective_date=plan.start_date)
        entries, logs = [], []
        for d in engine.schedule(plan.spec(), until=today, since=plan.start_date - dt.timedelta(7)):
            worst = 2 if (n + d.day.toordinal()) % 17 == 0 else (1 if d.day.day % 5 == 0 else 0)
            entries.append(
                DiaryEntry(
                    patient=patient,
                    date=d.day,
                    pain=(n + d.day.toordinal()) % 4 + 3,
                    sleep=5,
                    fatigue=6,
                    fog=4,
                    mood=5,
                    headache=worst,
                    notes="Slept badly" if d.day.day == 3 else "",
                    share_notes=True,
                )
            )
            missed = n % 10 == 0 and (today - d.day).days in (1, 2, 3)
            if d.is_due and d.day < today and not missed:
                logs.append(
                    DoseLog(
                        patient=patient,
                        plan=plan,
                        date=d.day,
                        status=DoseLog.Status.TAKEN,
                        dose_mg=d.dose_mg,
                        logged_at=now,
                    )
                )
        DiaryEntry.objects.bulk_create(entries)
        DoseLog.objects.bulk_create(logs)
        CareLink.objects.create(
            patient=patient,
            clinician=doctor,
            invited_by=doctor,
            code=new_invite_code(),
            created_at=now,
            expires_at=now + dt.timedelta(days=14),
            accepted_at=now,
        )
        alerts_evaluate(patient=patient, now=now)
        if n % 100 == 99:
            rate = (n + 1) / (time.perf_counter() - started)
            print(f"  seeded {n + 1} patients ({rate:.0f}/s)", file=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return doctor


def median_ms(fn, runs):
    fn()  # warm: connection, template and URL caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times), max(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="keep the data already seeded")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (it is wiped).")
    _ensure_database(url)

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from accounts.models import User
    from tests.clinic.conftest import mfa_login

    settings.ALLOWED_HOSTS = ["*"]
    # Seeding only: a password hash per patient at Argon2's real cost would take minutes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CONN_MAX_AGE = 600
    if args.reuse and User.objects.filter(email="bench.doctor@example.org").exists():
        doctor = User.objects.get(email="bench.doctor@example.org")
    else:
        print(f"Seeding {args.patients} patients x {args.days} days...", file=sys.stderr)
        doctor = seed(args.patients, args.days)
    patient = User.objects.filter(role="patient").order_by("id")[args.patients // 2]
    client = mfa_login(Client(), doctor)
    panel_url = reverse("clinic:panel")
    detail_url = reverse("clinic:patient_detail", args=[patient.pk])

    def get(url):
        def run():
            response = client.get(url)
            assert response.status_code == 200, response.status_code

        return run

    today = timezone.now().date()

    def sql(statements, params):
        def run():
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement, params)
                    cursor.fetchall()

        return run

    panel = median_ms(get(panel_url), args.runs)
    panel_floor = median_ms(
        sql([PANEL_FLOOR_SQL], {"clinician": doctor.pk, "today": today}), args.runs
    )
    detail = median_ms(get(detail_url), args.runs)
    detail_floor = median_ms(sql(DETAIL_FLOOR_SQL, {"patient": patient.pk}), args.runs)

    print(f"patients={args.patients} days={args.days} runs={args.runs} db={connection.vendor}")
    rows = [
        ("panel page", panel, panel_floor),
        ("patient detail page", detail, detail_floor),
    ]
    for name, page, floor in rows:
        print(
            f"{name}: median {page[0]:.1f} ms (min {page[1]:.1f}, max {page[2]:.1f}); "
            f"SQL floor median {floor[0]:.1f} ms; ratio {page[0] / floor[0]:.2f}x"
        )
    print(
        f"panel target: < 150 ms median and <= 3x floor: "
        f"{'met' if panel[0] < 150 and panel[0] <= 3 * panel_floor[0] else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
