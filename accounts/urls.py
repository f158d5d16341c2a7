from django.urls import path

from . import views

urlpatterns = [
    path("welcome/", views.onboarding, name="onboarding"),
    path("welcome/stop/", views.onboarding_stop, name="onboarding_stop"),
    path("welcome/<slug:step>/", views.onboarding_step, name="onboarding_step"),
]
