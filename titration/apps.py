from django.apps import AppConfig


class TitrationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "titration"
