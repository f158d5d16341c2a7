from celery import shared_task
from django.core.management import call_command

from . import services


@shared_task(bind=True, ignore_result=True)
def heartbeat(self):
    services.heartbeat_record(worker=self.request.hostname or "unknown")


@shared_task(ignore_result=True)
def sessions_clear():
    # Django's own command: the session engine deletes the rows whose expiry has passed.
    call_command("clearsessions")
