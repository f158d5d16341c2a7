"""Everything a patient has logged, as CSV files in one zip (ISO dates, a header row)."""

import csv
import io
import zipfile

from titration.models import DoseLog

from .models import FACTORS, RATINGS, SIDE_EFFECTS, DiaryEntry, QuestionnaireResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv(header, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        # A leading =, +, - or @ would run as a formula in a spreadsheet, and a leading tab
        # or carriage return can hide one (OWASP, CSV injection): quote it as text.
        writer.writerow(
            ["'" + v if isinstance(v, str) and v[:1] in FORMULA_STARTS else v for v in row]
        )
    return buffer.getvalue()


def doses_csv(patient):
    header = ["date", "status", "dose_mg", "late_entry", "skip_reason", "logged_at", "recorded_by"]
    rows = (
        [
            log.date.isoformat(),
            log.status,
            f"{log.dose_mg}",
            log.is_late_entry,
            log.skip_reason,
            log.logged_at.isoformat(),
            log.get_source_display(),
        ]
        for log in DoseLog.objects.filter(patient=patient).order_by("date")
    )
    return _csv(header, rows)


def diary_csv(patient):
    fields = [*RATINGS, *SIDE_EFFECTS, "other_text", *FACTORS, "notes", "share_notes"]
    rows = (
        [
            entry.date.isoformat(),
            *("" if getattr(entry, f) is None else getattr(entry, f) for f in fields),
        ]
        for entry in DiaryEntry.objects.filter(patient=patient).order_by("date")
    )
    return _csv(["date", *fields], rows)


def questionnaires_csv(patient):
    header = ["kind", "week", "score", "completed_at", "answers"]
    rows = (
        [
            r.kind,
            r.week,
            f"{r.score}",
            r.completed_at.isoformat(),
            " ".join(f"{k}={v}" for k, v in r.answers.items()),
        ]
        for r in QuestionnaireResponse.objects.filter(patient=patient).order_by("kind", "week")
    )
    return _csv(header, rows)


def patient_export_zip(patient) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doses.csv", doses_csv(patient))
        archive.writestr("diary.csv", diary_csv(patient))
        archive.writestr("questionnaires.csv", questionnaires_csv(patient))
    return buffer.getvalue()
