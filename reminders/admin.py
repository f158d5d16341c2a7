from django.contrib import admin

from .models import Reminder, ReminderSettings


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["patient", "local_date", "kind", "status", "attempts", "due_at", "sent_at"]
    list_filter = ["status", "kind"]
    date_hierarchy = "due_at"
    raw_id_fields = ["patient"]
    readonly_fields = ["lease_token", "lease_until", "created_at"]


@admin.register(ReminderSettings)
class ReminderSettingsAdmin(admin.ModelAdmin):
    list_display = ["patient", "travel", "home_time_zone", "nudge_enabled"]
    raw_id_fields = ["patient"]
