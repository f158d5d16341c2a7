"""Celery entry points: ids in, a plain function out (see services.py)."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def tick():
    services.reminders_tick()


@shared_task(ignore_result=True)
def send_reminders(reminder_ids: list[int]):
    retry = services.reminders_send(reminder_ids=reminder_ids)
    if retry is not None:
        send_reminders.apply_async((retry.reminder_ids,), countdown=retry.delay_seconds)


def send_batches_publish(batches: list[list[int]]) -> None:
    """Many batches over one broker connection (a peak minute can be thousands)."""
    with send_reminders.app.producer_or_acquire() as producer:
        for batch in batches:
            send_reminders.apply_async((batch,), producer=producer)
