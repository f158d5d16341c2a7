from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from ops import views as ops_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", ops_views.healthz, name="healthz"),
    path("manifest.webmanifest", ops_views.web_manifest, name="web_manifest"),
    path("sw.js", ops_views.service_worker, name="service_worker"),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("titration.urls")),
    path("", include("symptoms.urls")),
    path("", include("reminders.urls")),
    path("", include("clinic.urls")),
    path("", include("privacy.urls")),
    path("admin/", admin.site.urls),
]
