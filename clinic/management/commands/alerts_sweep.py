from django.core.management.base import BaseCommand

from clinic import services


class Command(BaseCommand):
    help = "Evaluate time-based alerts (missed doses, gone quiet) for every linked patient."

    def handle(self, *args, **options):
        count = services.alerts_sweep()
        self.stdout.write(f"Evaluated {count} patient(s).")
