"""The admin site's health-data pages, audited.

The record's own apps register their admins and cannot import the audit log (the clinic app
is built on them), so their health-data admins are registered again here, above them all,
with the clinic's auditing added."""

from django.contrib import admin

from accounts import admin as accounts_admin
from accounts.models import PatientProfile
from clinic.admin import AuditedAdminMixin
from reminders import admin as reminders_admin
from reminders.models import Reminder, ReminderSettings
from symptoms import admin as symptoms_admin
from symptoms.models import DiaryEntry
from titration import admin as titration_admin
from titration.models import DoseLog, Plan, SafetyScreening


def _register_audited(model, model_admin, audit_patient="patient_id"):
    audited = type(
        f"Audited{model_admin.__name__}",
        (AuditedAdminMixin, model_admin),
        {"audit_patient": audit_patient, "__module__": __name__},
    )
    admin.site.unregister(model)
    admin.site.register(model, audited)


_register_audited(PatientProfile, accounts_admin.PatientProfileAdmin, "user_id")
_register_audited(SafetyScreening, titration_admin.SafetyScreeningAdmin)
_register_audited(Plan, titration_admin.PlanAdmin)
_register_audited(DoseLog, titration_admin.DoseLogAdmin)
_register_audited(DiaryEntry, symptoms_admin.DiaryEntryAdmin)
_register_audited(Reminder, reminders_admin.ReminderAdmin)
_register_audited(ReminderSettings, reminders_admin.ReminderSettingsAdmin)
