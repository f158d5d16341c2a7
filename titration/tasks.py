from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def automatic_holds_record():
    services.automatic_holds_record_all()
