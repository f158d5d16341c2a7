from django.urls import path

from . import views

urlpatterns = [
    path("settings/reminders/", views.reminder_settings, name="reminder_settings"),
    path("settings/reminders/devices/", views.push_device_add, name="push_device_add"),
    path(
        "settings/reminders/devices/<int:pk>/remove/",
        views.push_device_remove,
        name="push_device_remove",
    ),
    path("r/<str:token>/", views.reminder_action, name="reminder_action"),
    path("r/<str:token>/push/", views.reminder_push_action, name="reminder_push_action"),
    path("reminders/pause/<str:token>/", views.reminders_pause, name="reminders_pause"),
]
