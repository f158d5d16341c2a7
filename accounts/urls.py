from django.urls import path

from . import views

urlpatterns = [
    path("settings/account/", views.account_settings, name="account_settings"),
]
