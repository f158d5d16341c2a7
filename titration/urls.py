from django.urls import path

from . import views

urlpatterns = [
    path("today/", views.today, name="today"),
    path("dose/take/", views.dose_take, name="dose_take"),
    path("dose/skip/", views.dose_skip, name="dose_skip"),
    path("dose/undo/", views.dose_undo, name="dose_undo"),
    path("dose/earlier/", views.dose_late, name="dose_late"),
]
