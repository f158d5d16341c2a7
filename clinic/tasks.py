from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def alerts_sweep():
    services.alerts_sweep()


@shared_task(ignore_result=True)
def alerts_review_changed():
    services.alerts_review_changed()
