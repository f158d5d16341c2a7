import datetime as dt

from titration import schedule as engine

from .models import DiaryEntry

FULL_DIARY_WEEKS = 4
FULL_AFTER_CHANGE_DAYS = 7


def diary_entry(patient, day):
    return DiaryEntry.objects.filter(patient=patient, date=day).first()


def diary_is_short(plan, day: dt.date) -> bool:
    """DOMAIN.md: after the first 4 weeks, and outside the 7 days after a dose change, the
    diary can be shortened to pain, sleep and side effects."""
    if plan is None:
        return False
    days = engine.schedule(plan.spec(), until=day)
    if not days or days[-1].plan_day <= FULL_DIARY_WEEKS * 7:
        return False
    recent = days[-(FULL_AFTER_CHANGE_DAYS + 1) :]
    doses = {d.dose_mg for d in recent}
    return len(doses) == 1
