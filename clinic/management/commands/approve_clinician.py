from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from clinic import services
from clinic.models import ClinicianMembership


class Command(BaseCommand):
    help = (
        "Approve a clinician who signed up and is waiting, and email them; with no email, "
        "list who is waiting. With --clinic, they join that clinic (created if there is none)."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", nargs="?")
        parser.add_argument("--clinic", help='the clinic name, e.g. "Riverside Pain Clinic"')

    def handle(self, *args, email=None, clinic=None, **options):
        if not email:
            self._list_waiting()
            return
        membership = (
            ClinicianMembership.objects.select_related("clinician", "clinic")
            .filter(clinician__email__iexact=email.strip())
            .first()
        )
        if membership is None:
            join = settings.SITE_URL.rstrip("/") + reverse("clinic:clinician_signup")
            raise CommandError(
                f"No clinician account for {email}. They can ask for one at {join}, or "
                f"invite them: python manage.py invite_clinician {email}"
            )
        where = None
        if clinic:
            where, created = services.clinic_get_or_create(name=clinic)
            if created:
                self.stdout.write(f"Created the clinic “{where.name}”.")
        clinician = membership.clinician
        if membership.status == ClinicianMembership.Status.APPROVED and (
            where is None or where == membership.clinic
        ):
            at = f" at {membership.clinic.name}" if membership.clinic else ""
            self.stdout.write(f"{clinician.email} is already approved{at}. Nothing changed.")
            return
        was_approved = membership.status == ClinicianMembership.Status.APPROVED
        membership = services.clinician_approve(membership=membership, by=None, clinic=where)
        if was_approved:
            self.stdout.write(
                self.style.SUCCESS(f"Moved {clinician.email} to {membership.clinic.name}.")
            )
            return
        at = f" at {membership.clinic.name}" if membership.clinic else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Approved {clinician.email}{at} and emailed them a login link. At their next "
                "login they confirm their email address if they have not yet, then set up an "
                "authenticator app."
            )
        )

    def _list_waiting(self):
        waiting = (
            ClinicianMembership.objects.filter(status=ClinicianMembership.Status.PENDING)
            .select_related("clinician")
            .order_by("requested_at")
        )
        if not waiting:
            self.stdout.write("Nobody is waiting for approval.")
            return
        self.stdout.write("Waiting for approval (approve with: approve_clinician EMAIL):")
        for m in waiting:
            number = f", registration {m.registration_number}" if m.registration_number else ""
            self.stdout.write(
                f"  {m.clinician.email}  {m.clinician.first_name or '(no name)'}{number}, "
                f"asked {m.requested_at:%-d %b %Y}"
            )
