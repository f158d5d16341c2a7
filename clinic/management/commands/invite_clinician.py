from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from accounts.models import User
from clinic import services
from clinic.models import CLINICIAN_INVITE_DAYS


class Command(BaseCommand):
    help = (
        "Email a clinician an invitation to set a password; the account is approved already. "
        "With --clinic, they join that clinic (created if there is none of that name)."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--clinic", help='the clinic name, e.g. "Riverside Pain Clinic"')

    def handle(self, *args, email, clinic=None, **options):
        email = User.objects.normalize_email(email.strip())
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not an email address.") from None
        existing = User.objects.filter(email__iexact=email).first()
        if existing is not None:
            hint = (
                f" To approve it: python manage.py approve_clinician {existing.email}"
                if existing.is_clinician
                else ""
            )
            raise CommandError(
                f"{existing.email} already has an account ({existing.get_role_display()})." + hint
            )
        where = None
        if clinic:
            where, created = services.clinic_get_or_create(name=clinic)
            if created:
                self.stdout.write(f"Created the clinic “{where.name}”.")
        services.clinician_invite_send(email=email, clinic=where, invited_by=None)
        self.stdout.write(
            self.style.SUCCESS(
                f"Invited {email}" + (f" to {where.name}" if where else "") + ". "
                f"The email has a link to set a password (it works once, for "
                f"{CLINICIAN_INVITE_DAYS} days); then they set up an authenticator app and "
                f"see the patients who share with them. Sent from {settings.DEFAULT_FROM_EMAIL}."
            )
        )
