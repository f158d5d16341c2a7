import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ldn_tracker.settings")

app = Celery("ldn_tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
