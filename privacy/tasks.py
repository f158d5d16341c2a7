from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def accounts_erase_due():
    services.accounts_erase_due()
