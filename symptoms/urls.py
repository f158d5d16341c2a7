from django.urls import path

from . import views

urlpatterns = [
    path("diary/", views.diary, name="diary"),
    path("diary/offline/", views.diary_offline, name="diary_offline"),
    path("diary/<str:day>/", views.diary, name="diary_day"),
    path("progress/", views.progress_page, name="progress"),
    path("questionnaires/<slug:kind>/<int:week>/", views.questionnaire, name="questionnaire"),
    path("report/", views.report, name="report"),
    path("report/pdf/", views.report_pdf, name="report_pdf"),
]
