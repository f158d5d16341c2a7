from django.urls import path

from . import onboarding, profile, views

urlpatterns = [
    path("welcome/", onboarding.onboarding, name="onboarding"),
    path("welcome/stop/", onboarding.onboarding_stop, name="onboarding_stop"),
    path("welcome/so-far/", onboarding.onboarding_history, name="onboarding_history"),
    path("welcome/<slug:step>/", onboarding.onboarding_step, name="onboarding_step"),
    path("settings/profile/", profile.profile, name="profile"),
    path("today/", views.today, name="today"),
    path("dose/take/", views.dose_take, name="dose_take"),
    path("dose/offline/", views.dose_offline, name="dose_offline"),
    path("dose/skip/", views.dose_skip, name="dose_skip"),
    path("dose/undo/", views.dose_undo, name="dose_undo"),
    path("dose/earlier/", views.dose_late, name="dose_late"),
    path("dose/time/", views.dose_time_choice, name="dose_time_choice"),
    path("plan/", views.plan, name="plan"),
    path("plan/calendar/", views.plan_calendar, name="plan_calendar"),
    path("plan/calendar/<int:year>/<int:month>/", views.plan_calendar, name="plan_calendar_month"),
    path("plan/hold/", views.plan_hold, name="plan_hold"),
    path("plan/step-back/", views.step_back, name="step_back"),
    path("supply/", views.supply, name="supply"),
    path("medicines-changed/", views.medicines_changed, name="medicines_changed"),
]
