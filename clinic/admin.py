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
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["patient", "rule", "urgency", "episode", "opened_at", "acknowledged_at"]
    list_filter = ["rule", "urgency"]


@admin.register(AlertAcknowledgement)
class AlertAcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ["alert", "clinician", "created_at"]
