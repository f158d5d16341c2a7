from django.urls import path

from . import views

app_name = "clinic"

urlpatterns = [
    # Clinicians
    path("clinic/", views.panel, name="panel"),
    path("clinic/join/", views.clinician_signup, name="clinician_signup"),
    path("clinic/join/done/", views.clinician_signup_done, name="clinician_signup_done"),
    path(
        "clinic/invitation/<str:token>/",
        views.clinician_invite_accept,
        name="clinician_invite_accept",
    ),
    path("clinic/two-factor-ready/", views.after_mfa_setup, name="after_mfa_setup"),
    path("clinic/waiting/", views.clinician_pending, name="clinician_pending"),
    path("clinic/invite-patient/", views.care_invite, name="care_invite"),
    path("clinic/patients/<int:patient_id>/", views.patient_detail, name="patient_detail"),
    path("clinic/patients/<int:patient_id>/plan/", views.patient_plan, name="patient_plan"),
    path(
        "clinic/patients/<int:patient_id>/opioid-clear/",
        views.opioid_clear,
        name="opioid_clear",
    ),
    path(
        "clinic/patients/<int:patient_id>/alert-settings/",
        views.alert_settings,
        name="alert_settings",
    ),
    path(
        "clinic/patients/<int:patient_id>/identity/",
        views.patient_identity,
        name="patient_identity",
    ),
    path("clinic/patients/<int:patient_id>/notes/", views.note_add, name="note_add"),
    path(
        "clinic/patients/<int:patient_id>/notes/<int:note_id>/",
        views.note_edit,
        name="note_edit",
    ),
    path(
        "clinic/patients/<int:patient_id>/alerts/<int:alert_id>/acknowledge/",
        views.alert_acknowledge,
        name="alert_acknowledge",
    ),
    path("clinic/patients/<int:patient_id>/report.pdf", views.export_pdf, name="export_pdf"),
    path("clinic/patients/<int:patient_id>/data.zip", views.export_csv, name="export_csv"),
    path("clinic/patients/<int:patient_id>/fhir.json", views.export_fhir, name="export_fhir"),
    # Patients
    path("sharing/", views.sharing, name="sharing"),
    path("sharing/accept/<str:code>/", views.sharing_accept, name="sharing_accept"),
    path("sharing/<int:link_id>/revoke/", views.sharing_revoke, name="sharing_revoke"),
    path("sharing/who-viewed/", views.sharing_log, name="sharing_log"),
]
