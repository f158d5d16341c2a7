"""Everything a patient has logged, as CSV files in one zip, with a data dictionary.

Made to open cleanly in a spreadsheet and to explain itself: UTF-8 with a byte-order mark
(so accents show), the unit or scale in each column's name (`pain_0_10`), booleans as
`yes`/`no`, one row per day (missed nights included), every questionnaire item in its own
column, and README.txt naming every column with its unit, scale and what a blank means.
"""

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass

from titration import selectors as titration_selectors
from titration.models import DoseLog, Plan

from . import questionnaires as q
from .models import FACTORS, RATINGS, SIDE_EFFECTS, DiaryEntry, QuestionnaireResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ENCODING = "utf-8-sig"  # UTF-8 with a byte-order mark: spreadsheet programs then read UTF-8


@dataclass(frozen=True)
class Column:
    name: str
    meaning: str
    unit: str  # unit or scale, in words
    blank: str  # what an empty cell means


def yes_no(value) -> str:
    if value is None:
        return ""
    return "yes" if value else "no"


def _csv(header, rows) -> str:
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


def _iso(value) -> str:
    return value.isoformat() if value is not None else ""


def _number(value) -> str:
    return "" if value is None else f"{value}"


# doses.csv: one row per plan day -------------------------------------------------------------

DOSE_STATUSES = (
    "taken, skipped, missed (due and not recorded in time), due (tonight's, not yet recorded), "
    "paused or stopped (no dose due)"
)
DOSE_COLUMNS = [
    Column("date", "The day the dose was for, in your own time zone", "YYYY-MM-DD", "never"),
    Column("plan_day", "Day of the plan (1 on the start date)", "days", "never"),
    Column("status", "What happened to the day's dose", DOSE_STATUSES, "never"),
    Column(
        "dose_mg",
        "The day's dose: as recorded when logged, else as the plan set it",
        "milligrams (mg)",
        "no dose was due (paused or stopped)",
    ),
    Column(
        "dose_ml",
        "The same dose as liquid, for an oral syringe",
        "millilitres (mL), to 0.1 mL",
        "capsules, or no dose due",
    ),
    Column("taken_at_utc", "When the dose was taken", "ISO 8601 date and time in UTC", "not taken"),
    Column(
        "taken_at_local",
        "When the dose was taken, on your clock",
        "ISO 8601 date and time with your time zone's offset",
        "not taken",
    ),
    Column(
        "logged_at_utc",
        "When the dose was recorded in the app",
        "ISO 8601 date and time in UTC",
        "nothing recorded",
    ),
    Column(
        "late_entry",
        "Recorded after the evening it was for",
        "yes or no",
        "nothing recorded",
    ),
    Column("skip_reason", "Why the dose was skipped, in your words", "text", "not skipped"),
    Column(
        "recorded_from",
        "How it was recorded: app, email (a reminder's link), or reported (on your word, "
        "for the nights before you joined)",
        "text",
        "nothing recorded",
    ),
]


def _plan_days(patient, *, now):
    """(plan, DayRow) for every day of every plan up to today; a later plan takes over from
    its start date."""
    plans = list(Plan.objects.filter(patient=patient).order_by("start_date", "created_at", "id"))
    today = patient.profile.local_today(now)
    for index, plan in enumerate(plans):
        until = today
        if index + 1 < len(plans):
            until = min(until, plans[index + 1].start_date - dt.timedelta(days=1))
        if until < plan.start_date:
            continue
        record = titration_selectors.record_of(patient, plan, now=now)
        for row in titration_selectors.day_rows(
            patient, record, since=plan.start_date, until=until, now=now
        ):
            yield plan, row


def doses_csv(patient, *, now=None) -> str:
    profile = patient.profile
    logs = {log.date: log for log in DoseLog.objects.filter(patient=patient)}
    rows = []
    for _, row in _plan_days(patient, now=now):
        if row.status == "upcoming":
            continue
        log = logs.get(row.day)
        dose = log.dose_mg if log else row.dose_mg
        taken_at = log.taken_at if log and log.status == DoseLog.Status.TAKEN else None
        rows.append(
            [
                row.day.isoformat(),
                row.plan_day,
                log.status if log else row.status,
                _number(dose),
                _number(titration_selectors.dose_ml(dose, profile)),
                _iso(taken_at),
                _iso(taken_at.astimezone(profile.zone)) if taken_at else "",
                _iso(log.logged_at) if log else "",
                yes_no(log.is_late_entry) if log else "",
                log.skip_reason if log else "",
                log.source if log else "",
            ]
        )
    return _csv([c.name for c in DOSE_COLUMNS], rows)


# diary.csv: one row per day --------------------------------------------------------------------

RATING_COLUMN = {name: f"{name if name != 'sleep' else 'sleep_quality'}_0_10" for name in RATINGS}
SIDE_EFFECT_COLUMN = {name: f"{name}_severity_0_3" for name in SIDE_EFFECTS}
FACTOR_COLUMN = {name: f"{name}_yes_no" for name in FACTORS}
SEVERITY_SCALE = "0 none, 1 mild, 2 moderate, 3 severe"


def _diary_columns() -> list[Column]:
    columns = [
        Column("date", "The day, in your own time zone", "YYYY-MM-DD", "never"),
        Column("diary_recorded", "Whether you wrote a diary entry that day", "yes or no", "never"),
    ]
    for name, (label, when, low, high, higher_is_better) in RATINGS.items():
        better = "higher is better" if higher_is_better else "higher is worse"
        columns.append(
            Column(
                RATING_COLUMN[name],
                f"{label}, {when}",
                f"0 ({low}) to 10 ({high}); {better}",
                "not answered",
            )
        )
    for name, label in SIDE_EFFECTS.items():
        columns.append(
            Column(SIDE_EFFECT_COLUMN[name], f"Side effect: {label}", SEVERITY_SCALE, "not asked")
        )
    columns.append(
        Column("other_side_effect", "What the other side effect was", "text", "none named")
    )
    for name, label in FACTORS.items():
        columns.append(
            Column(FACTOR_COLUMN[name], f"Factor that day: {label}", "yes or no", "not answered")
        )
    columns += [
        Column(
            "notes",
            "Your notes for the day",
            "text",
            "no note (or, in a clinic's copy, a note you did not share)",
        ),
        Column(
            "notes_shared",
            "Whether you shared the note with your clinician",
            "yes or no",
            "no diary entry",
        ),
        Column(
            "edited_after_day",
            "Whether the entry was changed after its day",
            "yes or no",
            "no diary entry",
        ),
    ]
    return columns


DIARY_COLUMNS = _diary_columns()


def diary_csv(patient, *, now=None, shared_notes_only=False) -> str:
    entries = {e.date: e for e in DiaryEntry.objects.filter(patient=patient)}
    first_plan = Plan.objects.filter(patient=patient).order_by("start_date").first()
    starts = [*entries, *([first_plan.start_date] if first_plan else [])]
    rows = []
    if starts:
        day, today = min(starts), patient.profile.local_today(now)
        last = max([today, *entries])
        while day <= last:
            rows.append(_diary_row(day, entries.get(day), shared_notes_only=shared_notes_only))
            day += dt.timedelta(days=1)
    return _csv([c.name for c in DIARY_COLUMNS], rows)


def _diary_row(day, entry, *, shared_notes_only) -> list:
    if entry is None:
        return [day.isoformat(), "no", *[""] * (len(DIARY_COLUMNS) - 2)]
    notes = entry.notes if entry.share_notes or not shared_notes_only else ""
    return [
        day.isoformat(),
        "yes",
        *(_number(getattr(entry, name)) for name in RATINGS),
        *(_number(getattr(entry, name)) for name in SIDE_EFFECTS),
        entry.other_text,
        *(yes_no(getattr(entry, name)) for name in FACTORS),
        notes,
        yes_no(entry.share_notes),
        yes_no(entry.edited_after_day),
    ]


# questionnaires.csv: one row per questionnaire, one column per item ----------------------------

FIQR_ITEM_TEXT = {
    **dict(q.FIQR_FUNCTION),
    **dict(q.FIQR_OVERALL),
    **{item[0]: item[1] for item in q.FIQR_SYMPTOMS},
}
QUESTIONNAIRE_COLUMNS = [
    Column("questionnaire", "Which questionnaire: fiqr or pgic", "text", "never"),
    Column("plan_week", "The plan week it was due (0, 4, 8, 12, then every 12)", "weeks", "never"),
    Column("completed_at_utc", "When you finished it", "ISO 8601 date and time in UTC", "never"),
    Column(
        "fiqr_total_0_100",
        "FIQR total: function sum / 3 + overall sum + symptoms sum / 2",
        "0 to 100, to 0.1; higher is worse; a change of 14% or more is meaningful",
        "a PGIC row",
    ),
    *(
        Column(
            f"fiqr_{key}_0_10",
            f"FIQR item {key}: {FIQR_ITEM_TEXT[key]}",
            "0 to 10; higher is worse",
            "a PGIC row, or not answered",
        )
        for key in q.FIQR_ITEMS
    ),
    Column(
        "pgic_1_7",
        "PGIC: how much your condition has changed since starting",
        "1 to 7: " + "; ".join(f"{value} {text}" for value, text in q.PGIC_CHOICES),
        "a FIQR row",
    ),
]


def questionnaires_csv(patient) -> str:
    rows = []
    for r in QuestionnaireResponse.objects.filter(patient=patient).order_by("completed_at", "id"):
        fiqr = r.kind == q.FIQR
        rows.append(
            [
                r.kind,
                r.week,
                _iso(r.completed_at),
                f"{r.score}" if fiqr else "",
                *(_number(r.answers.get(key)) if fiqr else "" for key in q.FIQR_ITEMS),
                "" if fiqr else _number(r.answers.get("pgic")),
            ]
        )
    return _csv([c.name for c in QUESTIONNAIRE_COLUMNS], rows)


# The zip and its dictionary ---------------------------------------------------------------------

FILES = {
    "doses.csv": (
        "One row per day of your plan, up to today, missed nights included.",
        DOSE_COLUMNS,
    ),
    "diary.csv": (
        "One row per day from your first diary day or plan day to today, days "
        "without an entry included.",
        DIARY_COLUMNS,
    ),
    "questionnaires.csv": (
        "One row per FIQR or PGIC you completed, each answer in its own column.",
        QUESTIONNAIRE_COLUMNS,
    ),
}


def data_dictionary() -> str:
    """README text naming every column of every CSV file, with its unit and blank meaning."""
    lines = [
        "How to read the CSV files",
        "",
        "Each file is UTF-8 with a byte-order mark, comma-separated, with one header row.",
        "Dates are YYYY-MM-DD in your own time zone; times end in _utc or _local as named.",
        "yes/no columns hold yes or no. A cell starting with ' had a leading = + - or @,",
        "quoted so a spreadsheet shows it as text.",
    ]
    for name, (about, columns) in FILES.items():
        lines += ["", name, "-" * len(name), about, ""]
        for column in columns:
            lines.append(f"{column.name}")
            lines.append(f"    {column.meaning}.")
            lines.append(f"    Unit or scale: {column.unit}.")
            blank = "never blank" if column.blank == "never" else column.blank
            lines.append(f"    Blank means: {blank}.")
    return "\n".join(lines) + "\n"


def csv_files(patient, *, now=None, shared_notes_only=False) -> dict[str, bytes]:
    """The CSV files by name, encoded as spreadsheet programs read them."""
    texts = {
        "doses.csv": doses_csv(patient, now=now),
        "diary.csv": diary_csv(patient, now=now, shared_notes_only=shared_notes_only),
        "questionnaires.csv": questionnaires_csv(patient),
    }
    return {name: text.encode(ENCODING) for name, text in texts.items()}


def patient_export_zip(patient, *, now=None, shared_notes_only=False) -> bytes:
    """The CSV files and README.txt (the data dictionary). A clinic's copy leaves out the
    notes the patient did not share (`shared_notes_only`)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", data_dictionary())
        for name, content in csv_files(
            patient, now=now, shared_notes_only=shared_notes_only
        ).items():
            archive.writestr(name, content)
    return buffer.getvalue()
