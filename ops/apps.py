from django.apps import AppConfig
from django.core.signals import request_finished

from .logs import request_context_clear


class OpsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ops"

    def ready(self):
        request_finished.connect(request_context_clear, dispatch_uid="ops.request_context_clear")
