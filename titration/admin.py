from django.contrib import admin

from .models import DoseLog, Plan, PlanEvent, SafetyScreening


class PlanEventInline(admin.TabularInline):
    model = PlanEvent
    extra = 0
    can_delete = False
    readonly_fields = [
        "kind",
        "effective_date",
        "days",
        "reason",
        "automatic",
        "actor",
        "created_at",
    ]

    def has_add_permission(self, request, obj=None):
        # Plan events are append-only and are written by the app's services.
        return False


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["patient", "protocol", "target_mg", "start_date"]
    search_fields = ["patient__email"]
    inlines = [PlanEventInline]


@admin.register(DoseLog)
class DoseLogAdmin(admin.ModelAdmin):
    list_display = ["patient", "date", "status", "dose_mg", "is_late_entry"]
    list_filter = ["status"]
    search_fields = ["patient__email"]


@admin.register(SafetyScreening)
class SafetyScreeningAdmin(admin.ModelAdmin):
    list_display = [
        "patient",
        "opioid_use",
        "alcohol",
        "liver_medications",
        "liver_disease",
        "created_at",
    ]
    readonly_fields = ["created_at"]
