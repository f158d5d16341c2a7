from django.urls import path

from . import views

urlpatterns = [
    path("export/", views.diary_export, name="export_zip"),
    path("export/fhir/", views.fhir_export, name="export_fhir"),
    path("settings/account/export/", views.data_export, name="data_export"),
    path(
        "settings/account/download/<slug:kind>/",
        views.download_started,
        name="download_started",
    ),
    path(
        "settings/account/download/<slug:kind>/file/",
        views.download_file,
        name="download_file",
    ),
    path("settings/account/delete/", views.account_delete, name="account_delete"),
    path(
        "settings/account/delete/scheduled/",
        views.account_delete_scheduled,
        name="account_delete_scheduled",
    ),
    path(
        "settings/account/delete/cancel/",
        views.account_delete_cancel,
        name="account_delete_cancel",
    ),
]
