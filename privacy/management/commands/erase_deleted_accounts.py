from django.core.management.base import BaseCommand

from privacy import services


class Command(BaseCommand):
    help = "Erase the accounts whose 7-day deletion grace period is over."

    def handle(self, *args, **options):
        count = services.accounts_erase_due()
        self.stdout.write(f"Erased {count} account(s).")
