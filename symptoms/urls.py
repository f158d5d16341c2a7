from django.urls import path

from . import views

urlpatterns = [
    path("diary/", views.diary, name="diary"),
    path("diary/<str:day>/", views.diary, name="diary_day"),
]
