from django.urls import path

from . import views

urlpatterns = [
    path("settings/reminders/", views.reminder_settings, name="reminder_settings"),
    path("r/<str:token>/", views.reminder_action, name="reminder_action"),
    path("reminders/pause/<str:token>/", views.reminders_pause, name="reminders_pause"),
]
