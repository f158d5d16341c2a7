import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import PatientProfile

from . import questionnaires as q
from .models import DiaryEntry, QuestionnaireResponse

DIARY_DAYS_BACK = 7


class DiaryDateNotAllowed(Exception):
    pass


def allowed_diary_dates(today: dt.date) -> list[dt.date]:
    return [today - dt.timedelta(days=n) for n in range(DIARY_DAYS_BACK + 1)]


@transaction.atomic
def diary_save(*, patient, day: dt.date, values: dict, now: dt.datetime | None = None) -> None:
    """Create or update the patient's entry for a local date; saving again edits it.

    One upsert on the (patient, date) unique constraint: two saves at once both land (the
    later one wins) and nothing is read first. Only the fields in `values` change.
    """
    now = now or timezone.now()
    today = patient.profile.local_today(now)
    if day > today:
        raise DiaryDateNotAllowed("You can't fill in a diary for a day that hasn't happened yet.")
    if day not in allowed_diary_dates(today):
        raise DiaryDateNotAllowed("You can fill in today or up to 7 days back.")
    late = day < today
    entry = DiaryEntry(patient=patient, date=day, edited_after_day=late, **values)
    # The form has checked every value and the database enforces the ranges and the one
    # entry per day: field validators only, no constraint queries.
    entry.full_clean(exclude=["patient"], validate_unique=False, validate_constraints=False)
    # An entry once edited after its day stays marked as such.
    changed = [*values, "updated_at", *(["edited_after_day"] if late else [])]
    DiaryEntry.objects.bulk_create(
        [entry],
        update_conflicts=True,
        unique_fields=["patient", "date"],
        update_fields=changed,
    )
    # The clinic's minute sweep evaluates alerts for patients whose record changed.
    PatientProfile.objects.record_changed_mark(patient, now)


class DiaryNewerKept(Exception):
    """The diary was saved again (on another device) after the offline copy was filled in."""


@transaction.atomic
def diary_replay(*, patient, day: dt.date, values: dict, saved_at: dt.datetime, now=None) -> bool:
    """A diary filled in offline, sent when the connection returned. It replaces the day's
    entry unless that was saved after it was filled in (then the newer one is kept and
    DiaryNewerKept says when). Returns False when the entry already holds exactly these
    values: the same queue sent again changes nothing."""
    now = now or timezone.now()
    entry = DiaryEntry.objects.select_for_update().filter(patient=patient, date=day).first()
    if entry is not None:
        if all(getattr(entry, name) == value for name, value in values.items()):
            return False
        if entry.updated_at > saved_at:
            raise DiaryNewerKept(entry.updated_at)
    diary_save(patient=patient, day=day, values=values, now=now)
    return True


class QuestionnaireNotOpen(Exception):
    pass


@transaction.atomic
def questionnaire_complete(*, patient, plan, kind: str, week: int, answers: dict, now=None):
    now = now or timezone.now()
    today = patient.profile.local_today(now)
    done = set(QuestionnaireResponse.objects.filter(patient=patient).values_list("kind", "week"))
    open_now = {(k, w) for k, w, _ in q.open_questionnaires(plan.start_date, today, done)}
    if (kind, week) not in open_now:
        raise QuestionnaireNotOpen("This questionnaire isn't open now, or it's already done.")
    score = q.fiqr_score(answers) if kind == q.FIQR else answers["pgic"]
    try:
        # Its own savepoint: a double tap sends two requests that both pass the check above,
        # and the second must meet the unique constraint as "already done", not as a 500.
        with transaction.atomic():
            return QuestionnaireResponse.objects.create(
                patient=patient,
                kind=kind,
                week=week,
                answers=answers,
                score=score,
                completed_at=now,
            )
    except IntegrityError:
        raise QuestionnaireNotOpen(
            "This questionnaire isn't open now, or it's already done."
        ) from None
