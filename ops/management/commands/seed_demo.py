"""Demo data for a local run: a patient three weeks into the standard plan and a clinician."""

import datetime as dt
import random

from allauth.account.models import EmailAddress
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import PatientProfile, User
from clinic.models import CareLink, Clinic, ClinicianMembership, new_invite_code
from clinic.services import alerts_evaluate, care_team_linked_update
from symptoms.models import DiaryEntry
from titration.models import DoseLog, Plan, PlanEvent, SafetyScreening

DEMO_PATIENT = ("demo.patient@example.org", "demo-patient-2026")
DEMO_CLINICIAN = ("demo.clinician@example.org", "demo-clinician-2026")
DEMO_DAYS = 21
# A fixed authenticator key so the demo clinician can log in with two-factor authentication
# straight away (add it to any authenticator app). Demo data only: never reuse it.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def where_emails_go() -> str:
    mailer = settings.MAILERS["default"]
    backend, options = mailer["BACKEND"], mailer.get("OPTIONS", {})
    if backend.endswith("console.EmailBackend"):
        return "printed in this terminal, in the web and worker output"
    if backend.endswith("filebased.EmailBackend"):
        return f"saved as files in {options.get('file_path')}"
    if backend.endswith("smtp.EmailBackend"):
        return f"sent through the mail server at {options.get('host')}:{options.get('port')}"
    return f"handed to {backend}"


def _user(email, password, role, first_name):
    user, created = User.objects.get_or_create(
        email=email, defaults={"role": role, "first_name": first_name}
    )
    if created:
        user.set_password(password)
        user.save()
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user, created


class Command(BaseCommand):
    help = "Create the demo patient and clinician (safe to run again: existing data is kept)."

    @transaction.atomic
    def handle(self, *args, **options):
        patient, created = _user(*DEMO_PATIENT, User.Role.PATIENT, "Robin")
        clinician, clinician_created = _user(*DEMO_CLINICIAN, User.Role.CLINICIAN, "Dr Patel")
        if created:
            self._fill_patient(patient)
        if clinician_created:
            self._set_up_clinician(clinician, patient)
        self.stdout.write(
            self.style.SUCCESS(
                f"Open {settings.SITE_URL.rstrip('/')}/\n"
                "Demo logins:\n"
                f"  patient:   {DEMO_PATIENT[0]} / {DEMO_PATIENT[1]}\n"
                f"  clinician: {DEMO_CLINICIAN[0]} / {DEMO_CLINICIAN[1]}, then the code from "
                f"an authenticator app set up with the key {DEMO_TOTP_SECRET}\n"
                f"Emails (sign-up links, reminders): {where_emails_go()}"
            )
        )

    def _set_up_clinician(self, clinician, patient):
        clinic, _ = Clinic.objects.get_or_create(name="Demo pain clinic")
        ClinicianMembership.objects.get_or_create(
            clinician=clinician,
            defaults={"clinic": clinic, "status": ClinicianMembership.Status.APPROVED},
        )
        TOTP.activate(clinician, DEMO_TOTP_SECRET)
        RecoveryCodes.activate(clinician)
        now = timezone.now()
        CareLink.objects.create(
            patient=patient,
            clinician=clinician,
            invited_by=clinician,
            code=new_invite_code(),
            created_at=now,
            expires_at=now + dt.timedelta(days=14),
            accepted_at=now,
        )
        care_team_linked_update(patient)
        alerts_evaluate(patient=patient)

    def _fill_patient(self, patient):
        rng = random.Random(2026)  # the same demo story every time
        profile = PatientProfile.objects.create(
            user=patient,
            time_zone="Europe/London",
            dose_time=PatientProfile.DoseTime.BEDTIME,
            reminder_time=dt.time(21, 30),
            formulation=PatientProfile.Formulation.LIQUID,
            concentration_mg_per_ml=1,
            onboarded_at=timezone.now(),
        )
        SafetyScreening.objects.create(
            patient=patient,
            opioid_use=False,
            alcohol=True,
            liver_medications=False,
            liver_disease=False,
        )
        today = profile.local_today()
        start = today - dt.timedelta(days=DEMO_DAYS - 1)
        plan = Plan.objects.create(patient=patient, start_date=start)
        PlanEvent.objects.create(
            plan=plan,
            kind=PlanEvent.Kind.START,
            effective_date=start,
            actor=patient,
            reason="Plan started",
        )
        missed = {start + dt.timedelta(days=9)}
        skipped = {start + dt.timedelta(days=4)}
        zone = profile.zone
        for offset in range(DEMO_DAYS - 1):  # tonight is left for the demo user to log
            day = start + dt.timedelta(days=offset)
            if day not in missed:
                taken_at = dt.datetime.combine(day, dt.time(21, rng.randint(15, 59)), tzinfo=zone)
                DoseLog.objects.create(
                    patient=patient,
                    plan=plan,
                    date=day,
                    status=DoseLog.Status.SKIPPED if day in skipped else DoseLog.Status.TAKEN,
                    skip_reason="Felt sick with a cold" if day in skipped else "",
                    dose_mg=plan.planned_dose_on(day).dose_mg,
                    source=DoseLog.Source.DEMO,
                    logged_at=taken_at,
                )
            # Pain eases slowly; early vivid dreams settle, as many patients describe.
            drift = offset / DEMO_DAYS
            DiaryEntry.objects.create(
                patient=patient,
                date=day,
                pain=max(0, min(10, round(7 - 1.5 * drift + rng.uniform(-1, 1)))),
                sleep=max(0, min(10, round(4 + 1.5 * drift + rng.uniform(-1, 1)))),
                fatigue=max(0, min(10, round(7 - drift + rng.uniform(-1, 1)))),
                fog=max(0, min(10, round(6 - drift + rng.uniform(-1, 1)))),
                mood=max(0, min(10, round(5 + drift + rng.uniform(-1, 1)))),
                vivid_dreams=1 if offset < 6 and rng.random() < 0.6 else 0,
                headache=1 if rng.random() < 0.1 else 0,
                alcohol=rng.random() < 0.15,
                exercise=rng.random() < 0.4,
            )
