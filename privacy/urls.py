from django.urls import path

from . import views

urlpatterns = [
    path("settings/account/export/", views.data_export, name="data_export"),
    path("settings/account/delete/", views.account_delete, name="account_delete"),
    path(
        "settings/account/delete/cancel/",
        views.account_delete_cancel,
        name="account_delete_cancel",
    ),
]
