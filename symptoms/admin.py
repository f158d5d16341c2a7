from django.contrib import admin

from .models import DiaryEntry


@admin.register(DiaryEntry)
class DiaryEntryAdmin(admin.ModelAdmin):
    list_display = ["patient", "date", "pain", "sleep", "fatigue", "fog", "mood"]
    search_fields = ["patient__email"]
