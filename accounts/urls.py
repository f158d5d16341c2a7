from django.urls import path

from . import views

urlpatterns = [
    path("welcome/", views.onboarding, name="onboarding"),
    path("welcome/stop/", views.onboarding_stop, name="onboarding_stop"),
    path("welcome/<slug:step>/", views.onboarding_step, name="onboarding_step"),
    path("settings/account/", views.account_settings, name="account_settings"),
    path("settings/account/export/", views.data_export, name="data_export"),
    path("settings/account/delete/", views.account_delete, name="account_delete"),
    path(
        "settings/account/delete/cancel/",
        views.account_delete_cancel,
        name="account_delete_cancel",
    ),
]
