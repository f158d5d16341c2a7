from django.db import transaction

from .models import PatientProfile, User


@transaction.atomic
def patient_register(*, user: User) -> User:
    """Save a new patient and the profile every patient page relies on."""
    user.role = User.Role.PATIENT
    user.save()
    PatientProfile.objects.get_or_create(user=user)
    return user


def profile_ensure(*, user: User) -> PatientProfile:
    """The patient's profile. Sign-up makes it; a patient added in the admin has none yet."""
    try:
        return user.profile
    except PatientProfile.DoesNotExist:
        profile, _ = PatientProfile.objects.get_or_create(user=user)
        return profile


@transaction.atomic
def profile_update(*, profile: PatientProfile, **fields) -> PatientProfile:
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.full_clean()
    profile.save()
    return profile


def user_first_name_set(*, user: User, first_name: str) -> User:
    user.first_name = first_name.strip()
    user.save(update_fields=["first_name"])
    return user
