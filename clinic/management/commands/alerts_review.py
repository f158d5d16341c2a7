from django.core.management.base import BaseCommand

from clinic import services


class Command(BaseCommand):
    help = "Evaluate clinician alerts for patients whose data changed (beat runs this each minute)."

    def handle(self, *args, **options):
        done = services.alerts_review_changed()
        self.stdout.write(f"Reviewed {done} patient(s).")
