from django.core.management.base import BaseCommand

from reminders.services import reminders_tick


class Command(BaseCommand):
    help = (
        "Create the reminders that are due, take back expired leases and enqueue them. "
        "Beat runs the same function every minute."
    )

    def handle(self, *args, **options):
        result = reminders_tick()
        self.stdout.write(
            f"created {result.created}, missed-send {result.missed}, "
            f"released {result.released}, enqueued {len(result.enqueued)}"
        )
