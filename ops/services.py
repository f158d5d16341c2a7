import datetime as dt

from django.utils import timezone

from .models import WorkerHeartbeat


def heartbeat_record(*, worker: str, now: dt.datetime | None = None) -> WorkerHeartbeat:
    beat, _ = WorkerHeartbeat.objects.update_or_create(
        worker=worker[:200], defaults={"seen_at": now or timezone.now()}
    )
    return beat
