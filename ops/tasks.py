from celery import shared_task

from . import services


@shared_task(bind=True, ignore_result=True)
def heartbeat(self):
    services.heartbeat_record(worker=self.request.hostname or "unknown")
