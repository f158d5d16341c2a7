import datetime as dt

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import PatientProfile, User
from symptoms.models import DiaryEntry
from titration.models import DoseLog, Plan, PlanEvent, SafetyScreening

PASSWORD = "calm-river-stone-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    first_name = factory.Faker("first_name")
    role = User.Role.PATIENT
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.get_or_create(
                user=obj, email=obj.email, defaults={"verified": True, "primary": True}
            )
        if create:
            obj.save()


class ClinicianFactory(UserFactory):
    role = User.Role.CLINICIAN


class PatientProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PatientProfile
        django_get_or_create = ["user"]

    user = factory.SubFactory(UserFactory)
    time_zone = "Europe/London"
    dose_time = PatientProfile.DoseTime.BEDTIME
    reminder_time = dt.time(21, 30)
    formulation = PatientProfile.Formulation.CAPSULE
    onboarded_at = factory.LazyFunction(timezone.now)


class SafetyScreeningFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SafetyScreening

    patient = factory.SubFactory(UserFactory)
    opioid_use = False
    alcohol = False
    liver_medications = False
    liver_disease = False


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan
        skip_postgeneration_save = True

    patient = factory.SubFactory(UserFactory)
    protocol = Plan.Protocol.STANDARD
    start_date = factory.LazyFunction(lambda: timezone.now().date())

    @factory.post_generation
    def start_event(obj, create, extracted, **kwargs):
        if create:
            PlanEvent.objects.create(
                plan=obj,
                kind=PlanEvent.Kind.START,
                effective_date=obj.start_date,
                actor=obj.patient,
            )


class DoseLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DoseLog

    plan = factory.SubFactory(PlanFactory)
    patient = factory.SelfAttribute("plan.patient")
    date = factory.LazyAttribute(lambda o: o.plan.start_date)
    status = DoseLog.Status.TAKEN
    dose_mg = factory.LazyAttribute(lambda o: o.plan.planned_dose_on(o.date).dose_mg)
    logged_at = factory.LazyFunction(timezone.now)
    # Taken at the dose time in the patient's zone on that date (21:30 unless set).
    taken_at = factory.LazyAttribute(
        lambda o: (
            dt.datetime.combine(
                o.date, o.patient.profile.dose_clock_time, tzinfo=o.patient.profile.zone
            )
            if o.status == DoseLog.Status.TAKEN
            else None
        )
    )


class DiaryEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DiaryEntry

    patient = factory.SubFactory(UserFactory)
    date = factory.LazyFunction(lambda: timezone.now().date())


def onboarded_patient(*, email=None, start_date=None, time_zone="Europe/London", **profile):
    """A verified patient with a profile, a clear safety screen and a standard plan."""
    kwargs = {"email": email} if email else {}
    user = UserFactory(**kwargs)
    PatientProfileFactory(user=user, time_zone=time_zone, **profile)
    SafetyScreeningFactory(patient=user)
    local_today = timezone.now().astimezone(user.profile.zone).date()
    PlanFactory(patient=user, start_date=start_date or local_today)
    return user
