from django.contrib import admin, messages

from . import services
from .models import (
    Alert,
    AlertAcknowledgement,
    AuditEvent,
    CareLink,
    Clinic,
    ClinicianInvite,
    ClinicianMembership,
)


class AuditedAdminMixin:
    """Health data seen or changed on the admin site is audited as a clinician's views are:
    a list page writes a row for each patient on it, an opened record a view row, and a
    save or a deletion a change row, each under the administrator's name."""

    audit_patient = "patient_id"  # the attribute, or "relation.attribute", naming the patient

    def _patient_id(self, obj):
        value = obj
        for name in self.audit_patient.split("."):
            value = getattr(value, name)
        return value

    def _audit(self, request, objs, action):
        patient_ids = sorted({self._patient_id(obj) for obj in objs} - {None})
        services.audit_events_record_panel(request=request, patient_ids=patient_ids, action=action)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            self._audit(request, changelist.result_list, AuditEvent.Action.ADMIN_LIST)
        return response

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        response = super().changeform_view(request, object_id, form_url, extra_context)
        original = (getattr(response, "context_data", None) or {}).get("original")
        if request.method == "GET" and original is not None and original.pk is not None:
            self._audit(request, [original], AuditEvent.Action.ADMIN_VIEW)
        return response

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._audit(request, [obj], AuditEvent.Action.ADMIN_CHANGE)

    def delete_model(self, request, obj):
        self._audit(request, [obj], AuditEvent.Action.ADMIN_CHANGE)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        self._audit(request, list(queryset), AuditEvent.Action.ADMIN_CHANGE)
        super().delete_queryset(request, queryset)


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "paper_size", "created_at"]
    search_fields = ["name"]


@admin.register(ClinicianMembership)
class ClinicianMembershipAdmin(admin.ModelAdmin):
    list_display = ["clinician", "clinic", "status", "registration_number", "requested_at"]
    list_filter = ["status", "clinic"]
    search_fields = ["clinician__email", "registration_number"]
    readonly_fields = ["requested_at", "decided_at", "decided_by"]
    actions = ["approve"]

    @admin.action(description="Approve the selected clinicians")
    def approve(self, request, queryset):
        for membership in queryset:
            services.clinician_approve(membership=membership, by=request.user)
        messages.success(request, f"Approved {queryset.count()} clinician(s).")


@admin.register(ClinicianInvite)
class ClinicianInviteAdmin(admin.ModelAdmin):
    """Adding an invitation emails it; the link in the email is the only copy of the token."""

    list_display = ["email", "clinic", "created_at", "expires_at", "accepted_at"]
    fields = ["email", "clinic"]

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        invite = services.clinician_invite_send(
            email=obj.email, clinic=obj.clinic, invited_by=request.user
        )
        obj.pk = invite.pk


@admin.register(CareLink)
class CareLinkAdmin(admin.ModelAdmin):
    list_display = ["patient", "clinician", "clinic", "created_at", "accepted_at", "revoked_at"]
    list_filter = ["clinic"]
    readonly_fields = [f.name for f in CareLink._meta.fields]

    def has_add_permission(self, request):
        return False  # consent is given by the patient, not granted here


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "patient_id", "action", "outcome", "ip_address"]
    list_filter = ["action", "outcome"]
    search_fields = ["actor__email"]
    date_hierarchy = "at"


@admin.register(Alert)
class AlertAdmin(AuditedAdminMixin, ReadOnlyAdmin):
    list_display = ["patient", "rule", "urgency", "episode", "opened_at", "acknowledged_at"]
    list_filter = ["rule", "urgency"]


@admin.register(AlertAcknowledgement)
class AlertAcknowledgementAdmin(AuditedAdminMixin, ReadOnlyAdmin):
    list_display = ["alert", "clinician", "created_at"]
    list_select_related = ["alert", "alert__patient", "clinician"]
    audit_patient = "alert.patient_id"
