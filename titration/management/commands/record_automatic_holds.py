from django.core.management.base import BaseCommand

from titration import services


class Command(BaseCommand):
    help = "Record today's automatic step-up holds (side effects, missed doses) for every plan."

    def handle(self, *args, **options):
        count = services.automatic_holds_record_all()
        self.stdout.write(f"Recorded {count} automatic hold(s).")
