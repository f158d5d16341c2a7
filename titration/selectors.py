"""Read-only queries and derived views for titration pages. Nothing here writes."""

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db import connections, router
from django.db.models import (
    DateField,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Subquery,
)
from django.db.models.functions import JSONObject
from django.utils import timezone

from ldn_tracker.prepared import Param, Prepared
from symptoms.models import DiaryEntry, side_effect_days, side_effect_rows

from . import adherence as adherence_rules
from . import schedule as engine
from . import supply as supply_rules
from . import timing, tolerance
from .models import DoseLog, Plan, PlanEvent, SafetyScreening, SupplyEntry

UPCOMING_DAYS = 28


def _current_plan_query():
    latest_screen = SafetyScreening.objects.filter(patient=OuterRef("patient")).order_by(
        *SafetyScreening._meta.ordering
    )
    return (
        Plan.objects.filter(patient=Param("patient", IntegerField()))
        .annotate(opioids_reported=Subquery(latest_screen.values("opioid_use")[:1]))
        .order_by(*Plan._meta.ordering)[:1]
    )


# Every patient page and save reads these: compiled once (ldn_tracker.prepared).
_CURRENT_PLAN = Prepared(_current_plan_query)
_PLAN_EVENTS = Prepared(lambda: PlanEvent.objects.filter(plan=Param("plan", IntegerField())))
_DOSE_LOG_FIELDS = tuple(f.attname for f in DoseLog._meta.concrete_fields)
_DOSE_LOG = Prepared(
    lambda: DoseLog.objects.filter(patient=Param("patient", IntegerField())).values_list(
        *_DOSE_LOG_FIELDS
    )
)
_DOSE_LOG_STATUSES = Prepared(
    lambda: DoseLog.objects.filter(patient=Param("patient", IntegerField())).values_list(
        "date", "status"
    )
)


def current_plan(patient) -> Plan | None:
    """The patient's plan, with `opioids_reported`: whether the latest safety screen reports
    opioid use (read in the same query, since every dose page checks it)."""
    plans = _CURRENT_PLAN.instances(patient=getattr(patient, "pk", patient))
    return plans[0] if plans else None


def plan_blocked_by_screening(plan: Plan) -> bool:
    """Opioids reported after the plan began: no dose is shown until the prescriber decides.

    Mirrors `SafetyScreening.blocks_plan`, read from `current_plan`'s annotation when there.
    """
    if hasattr(plan, "opioids_reported"):
        return bool(plan.opioids_reported)
    screening = latest_screening(plan.patient_id)
    return screening is not None and screening.blocks_plan


def latest_screening(patient) -> SafetyScreening | None:
    return SafetyScreening.objects.filter(patient=patient).first()


def dose_ml(dose_mg, profile) -> Decimal | None:
    if dose_mg is None or not profile.is_liquid or not profile.concentration_mg_per_ml:
        return None
    return engine.liquid_ml(dose_mg, profile.concentration_mg_per_ml)


class DoseLogs(Mapping):
    """A patient's dose log by date.

    Every day's status is read at once (the engine needs them all). A `DoseLog` is built only
    for a day that is asked for, from the full rows: read with the statuses (`full=True`, for
    pages that show the log) or, for a save that only needs the statuses, on first use.
    """

    _DATE = _DOSE_LOG_FIELDS.index("date")
    _STATUS = _DOSE_LOG_FIELDS.index("status")

    def __init__(self, patient_id, statuses, rows=None, built=None):
        self._patient_id = patient_id
        self._rows = rows  # {date: full row}, or None until a DoseLog is asked for
        self._built = dict(built or {})
        self.statuses = statuses

    @classmethod
    def of(cls, patient, *, full=True) -> "DoseLogs":
        patient_id = getattr(patient, "pk", patient)
        if not full:
            return cls(patient_id, dict(_DOSE_LOG_STATUSES.rows(patient=patient_id)))
        rows = cls._by_day(_DOSE_LOG.rows(patient=patient_id))
        return cls(patient_id, {day: row[cls._STATUS] for day, row in rows.items()}, rows)

    @classmethod
    def _by_day(cls, rows):
        return {row[cls._DATE]: row for row in rows}

    def __getitem__(self, day) -> DoseLog:
        log = self._built.get(day)
        if log is None:
            if day not in self.statuses:
                raise KeyError(day)
            if self._rows is None:
                self._rows = self._by_day(_DOSE_LOG.rows(patient=self._patient_id))
            row = self._rows[day]
            log = DoseLog.from_db(router.db_for_read(DoseLog), _DOSE_LOG_FIELDS, row)
            self._built[day] = log
        return log

    def __contains__(self, day):
        return day in self.statuses

    def __iter__(self):
        return iter(self.statuses)

    def __len__(self):
        return len(self.statuses)

    def with_log(self, log: DoseLog) -> "DoseLogs":
        """These logs and `log` (just written), without reading again."""
        rows = self._rows
        if rows is not None:
            rows = {day: row for day, row in rows.items() if day != log.date}
        return DoseLogs(
            self._patient_id,
            {**self.statuses, log.date: log.status},
            rows,
            {**self._built, log.date: log},
        )


@dataclass(frozen=True)
class PlanState:
    """A plan with everything the engine and the rules read, fetched once."""

    plan: Plan
    events: list
    spec: engine.PlanSpec
    logs: DoseLogs  # {date: DoseLog}
    today: dt.date
    sleep_days: frozenset = frozenset()  # diary days with sleep side effects, same window
    # Whether `today`'s diary is filled in, when read with the rest (`current_plan_state` on
    # PostgreSQL); None when not read.
    diary_today: bool | None = None

    @property
    def statuses(self) -> dict:
        return self.logs.statuses


def plan_state(patient, plan: Plan, today: dt.date, *, full_log: bool = True) -> PlanState:
    """The plan with its events, the dose log and the diary's side effects: three queries.

    This is the spec every page and service uses, so the clinic's hold rules (side effects
    not settled, missed doses) give the same answer everywhere. `full_log=False` reads only
    each day's dose status (what the engine needs; a save), and a day's whole log entry only
    if one is asked for.
    """
    events = _PLAN_EVENTS.instances(plan=plan.pk)
    logs = DoseLogs.of(patient, full=full_log)
    side_effects = DiaryEntry.objects.side_effects_between(
        patient, plan.start_date - dt.timedelta(days=tolerance.GATE_WINDOW_DAYS), today
    )
    return _plan_state(plan, events, logs, side_effects, today)


def _plan_state(plan, events, logs, side_effects, today, diary_today=None) -> PlanState:
    spec = plan.spec(
        events,
        worst_side_effect_by_day=side_effects.worst_by_day,
        logged=logs.statuses,
        as_of=today,
    )
    return PlanState(
        plan=plan,
        events=events,
        spec=spec,
        logs=logs,
        today=today,
        sleep_days=side_effects.sleep_days,
        diary_today=diary_today,
    )


def _current_plan_state_query():
    """The current plan and, as arrays beside it, what `plan_state` reads in three more
    queries: its events (JSON objects), each day's dose status, and the diary's side effects
    from the gate window before the start to `today`. PostgreSQL only (ArraySubquery)."""
    from django.contrib.postgres.expressions import ArraySubquery

    patient = OuterRef("patient")
    logs = DoseLog.objects.filter(patient=patient).order_by("-date")
    since = ExpressionWrapper(
        OuterRef("start_date") - dt.timedelta(days=tolerance.GATE_WINDOW_DAYS),
        output_field=DateField(),
    )
    side_effects = side_effect_rows(patient, since, Param("today", DateField())).order_by("date")
    events = PlanEvent.objects.filter(plan=OuterRef("pk")).values(
        row=JSONObject(**{name: name for name in _EVENT_FIELDS})
    )
    diary_today = DiaryEntry.objects.filter(patient=patient, date=Param("today", DateField()))
    return _current_plan_query().annotate(
        diary_today=Exists(diary_today),
        event_rows=ArraySubquery(events),
        log_dates=ArraySubquery(logs.values("date")),
        log_statuses=ArraySubquery(logs.values("status")),
        side_effect_dates=ArraySubquery(side_effects.values("date")),
        side_effect_worst=ArraySubquery(side_effects.values("worst_side_effect")),
        side_effect_sleep=ArraySubquery(side_effects.values("worst_sleep_side_effect")),
    )


_EVENT_FIELDS = tuple(f.attname for f in PlanEvent._meta.concrete_fields)
_EVENT_MODEL_FIELDS = tuple(PlanEvent._meta.get_field(name) for name in _EVENT_FIELDS)
_CURRENT_PLAN_STATE = Prepared(_current_plan_state_query)
_STATE_ARRAYS = (
    "diary_today",
    "event_rows",
    "log_dates",
    "log_statuses",
    "side_effect_dates",
    "side_effect_worst",
    "side_effect_sleep",
)


def current_plan_state(patient, today: dt.date) -> PlanState | None:
    """`plan_state` of the current plan (None without one), as a save needs it: each day's
    dose status, a whole entry read when asked for.

    On PostgreSQL it is one statement (`_current_plan_state_query`) where `current_plan` and
    `plan_state` take four; a dose save is the app's commonest write.
    """
    patient_id = getattr(patient, "pk", patient)
    alias = router.db_for_read(Plan)
    if connections[alias].vendor != "postgresql":
        plan = current_plan(patient_id)
        return None if plan is None else plan_state(patient_id, plan, today, full_log=False)
    plans = _CURRENT_PLAN_STATE.instances(patient=patient_id, today=today)
    if not plans:
        return None
    plan = plans[0]
    arrays = {name: plan.__dict__.pop(name) for name in _STATE_ARRAYS}
    events = [
        PlanEvent.from_db(
            alias,
            _EVENT_FIELDS,
            [field.to_python(row[field.attname]) for field in _EVENT_MODEL_FIELDS],
        )
        for row in arrays["event_rows"]
    ]
    logs = DoseLogs(patient_id, dict(zip(arrays["log_dates"], arrays["log_statuses"], strict=True)))
    side_effects = side_effect_days(
        list(
            zip(
                arrays["side_effect_dates"],
                arrays["side_effect_worst"],
                arrays["side_effect_sleep"],
                strict=True,
            )
        )
    )
    return _plan_state(plan, events, logs, side_effects, today, arrays["diary_today"])


def plan_state_reused(patient, plan: Plan, today: dt.date, state: PlanState | None) -> PlanState:
    """`state` if a caller built it for this plan and local date, else a fresh reading."""
    if state is not None and state.today == today and state.plan.pk == plan.pk:
        return state
    return plan_state(patient, plan, today)


def plan_state_with_log(state: PlanState, log: DoseLog) -> PlanState:
    """The same plan state after `log` was written, without reading it all again."""
    logs = state.logs.with_log(log)
    spec = engine.with_logged(state.spec, logs.statuses)
    return replace(state, spec=spec, logs=logs)


@dataclass(frozen=True)
class Tonight:
    """Everything the Today page says about the dose to take (or log) now."""

    plan: Plan
    local_today: dt.date
    dose_day: dt.date  # the date the big button logs: last night's while it may still be taken
    due: engine.DayDose
    dose_ml: Decimal | None
    next_step: dt.date | None
    next_step_dose_mg: Decimal | None
    log: DoseLog | None
    previous: timing.LateDose
    missed_yesterday: bool
    hold_reason: str
    adherence_7: adherence_rules.Adherence
    adherence_28: adherence_rules.Adherence
    streak: int
    step_back_offer: dt.date | None
    previous_step_dose_mg: Decimal | None
    suggest_morning: bool
    latest_change: PlanEvent | None

    @property
    def is_last_night(self):
        return self.dose_day != self.local_today


def _hold_reason(state: PlanState, due: engine.DayDose) -> str:
    if due.held_by == engine.HoldCause.SIDE_EFFECTS:
        return (
            "Your next step is waiting until side effects settle: there was a moderate or "
            "severe side effect in the last 3 days."
        )
    if due.held_by == engine.HoldCause.MISSED_DOSES:
        return (
            "Your next step is waiting because several doses were missed. It carries on "
            "after 2 doses taken in a row."
        )
    day = due.day
    holds = [
        e
        for e in state.events
        if e.kind == PlanEvent.Kind.HOLD
        and e.effective_date <= day
        and (e.days is None or e.effective_date + dt.timedelta(days=e.days) > day)
    ]
    if not holds:
        return ""
    latest = holds[-1]
    return latest.reason or "Your dose is being held."


def tonight(
    patient, plan: Plan, now: dt.datetime | None = None, state: PlanState | None = None
) -> Tonight:
    """What to take now. Pass the `state` a request already built (for the same local
    date) to save reading the plan, the dose log and the diary again."""
    now = now or timezone.now()
    profile = patient.profile
    local_now = profile.local_now(now)
    today = local_now.date()
    yesterday = today - dt.timedelta(days=1)
    state = plan_state_reused(patient, plan, today, state)
    month_ago = today - dt.timedelta(days=27)
    days = engine.schedule(state.spec, until=today, since=min(month_ago, yesterday))
    by_day = {d.day: d for d in days}
    due_days = [d.day for d in days if d.is_due]
    statuses = state.statuses

    previous = timing.previous_dose_status(
        local_now=local_now,
        dose_time=profile.reminder_time or profile.DEFAULT_BEDTIME,
        yesterday_due=by_day[yesterday].is_due if yesterday in by_day else False,
        yesterday_logged=yesterday in state.logs,
    )
    dose_day = yesterday if previous == timing.LateDose.TAKE_NOW else today
    due = by_day[dose_day]
    next_step = engine.next_step_date(state.spec, today)
    next_dose = engine.dose_on(state.spec, next_step).dose_mg if next_step else None

    week_ago = today - dt.timedelta(days=6)
    if week_ago >= plan.start_date - dt.timedelta(days=tolerance.GATE_WINDOW_DAYS):
        # The plan state already read these days from the diary: no second query.
        worst = {
            day: level
            for day, level in state.spec.worst_side_effect_by_day.items()
            if week_ago <= day <= today
        }
        sleep_days = {day for day in state.sleep_days if week_ago <= day <= today}
    else:
        week = DiaryEntry.objects.side_effects_between(patient, week_ago, today)
        worst, sleep_days = week.worst_by_day, week.sleep_days
    trigger = tolerance.step_back_trigger(today, worst)
    if trigger is not None and _answered_since(state, trigger, (PlanEvent.Kind.STEP_BACK,)):
        trigger = None
    if trigger is not None and due.step_index == 0:
        trigger = None  # nothing lower to go back to: the clinician is told instead
    morning = (
        profile.dose_time != profile.DoseTime.MORNING
        and tolerance.suggests_morning(today, sleep_days)
        and not _answered_since(state, week_ago, (PlanEvent.Kind.DOSE_TIME,))
    )
    latest_change = next(
        (e for e in reversed(state.events) if e.actor_id and e.actor_id != patient.pk), None
    )
    return Tonight(
        plan=plan,
        local_today=today,
        dose_day=dose_day,
        due=due,
        dose_ml=dose_ml(due.dose_mg, profile),
        next_step=next_step,
        next_step_dose_mg=next_dose,
        log=state.logs.get(dose_day),
        previous=previous,
        missed_yesterday=previous == timing.LateDose.SKIP,
        hold_reason=_hold_reason(state, due) if due.status == engine.DayStatus.HELD else "",
        adherence_7=adherence_rules.adherence(
            today=today, days=7, due_days=due_days, logs=statuses
        ),
        adherence_28=adherence_rules.adherence(
            today=today, days=28, due_days=due_days, logs=statuses
        ),
        streak=adherence_rules.streak(today=today, due_days=due_days, logs=statuses),
        step_back_offer=trigger,
        previous_step_dose_mg=(
            state.spec.steps[due.step_index - 1].dose_mg if due.step_index > 0 else None
        ),
        suggest_morning=morning,
        latest_change=latest_change,
    )


def _answered_since(state: PlanState, since: dt.date, extra_kinds=()) -> bool:
    """Whether the patient (or clinician) already answered a suggestion raised on `since`."""
    kinds = {PlanEvent.Kind.KEEP_DOSE, PlanEvent.Kind.KEEP_TIME, *extra_kinds}
    return any(e.kind in kinds and e.effective_date >= since for e in state.events)


@dataclass(frozen=True)
class DayRow:
    day: dt.date
    dose_mg: Decimal | None
    dose_ml: Decimal | None
    plan_day: int
    status: str  # taken, skipped, missed, held, paused, stopped, due, upcoming
    step_changes: bool
    late: bool


def day_rows(patient, state: PlanState, since: dt.date, until: dt.date) -> list[DayRow]:
    profile = patient.profile
    rows, previous_dose = [], None
    for d in engine.schedule(state.spec, until=until, since=since):
        log = state.logs.get(d.day)
        if log is not None:
            status = log.status
        elif not d.is_due:
            status = d.status.value
        elif d.day < state.today:
            status = "missed"
        elif d.day == state.today:
            status = "due"
        elif d.status == engine.DayStatus.HELD:
            status = "held"
        else:
            status = "upcoming"
        rows.append(
            DayRow(
                day=d.day,
                dose_mg=d.dose_mg,
                dose_ml=dose_ml(d.dose_mg, profile),
                plan_day=d.plan_day,
                status=status,
                step_changes=previous_dose is not None and d.dose_mg != previous_dose,
                late=bool(log and log.is_late_entry),
            )
        )
        if d.dose_mg is not None:
            previous_dose = d.dose_mg
    return rows


def plan_overview(patient, plan: Plan, now: dt.datetime | None = None):
    today = patient.profile.local_today(now or timezone.now())
    state = plan_state(patient, plan, today)
    until = today + dt.timedelta(days=UPCOMING_DAYS)
    rows = day_rows(patient, state, since=plan.start_date, until=until)
    return {
        "state": state,
        "past": [r for r in rows if r.day < today][::-1],
        "today_row": next((r for r in rows if r.day == today), None),
        "upcoming": [r for r in rows if r.day > today],
        "events": state.events[::-1],
        "next_step": engine.next_step_date(state.spec, today),
    }


def month_weeks(patient, plan: Plan, year: int, month: int, now=None):
    """A month as weeks of DayRow-or-None (None for padding days), for the printable calendar."""
    today = patient.profile.local_today(now or timezone.now())
    state = plan_state(patient, plan, today)
    first = dt.date(year, month, 1)
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    rows = {r.day: r for r in day_rows(patient, state, since=first, until=last)}
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append([(day, rows.get(day)) if day.month == month else (day, None) for day in week])
    return weeks


@dataclass(frozen=True)
class SupplyStatus:
    entry: SupplyEntry  # the latest refill or count: its strength is the current batch
    on_hand: Decimal
    unit: str  # "capsules" or "mL"
    runs_out: dt.date | None
    warn_refill: bool
    discard_on: dt.date | None
    discard_passed: bool
    cannot_make: list  # [(date, dose_mg)] upcoming doses this batch cannot make


def supply_status(
    patient, plan: Plan, now: dt.datetime | None = None, state: PlanState | None = None
) -> SupplyStatus | None:
    """What is on hand and when it runs out. Pass the request's `state` to save reading the
    plan, the dose log and the diary again."""
    now = now or timezone.now()
    entries = list(SupplyEntry.objects.filter(patient=patient))
    if not entries:
        return None
    latest = entries[0]
    base = next(
        (e for e in entries if e.kind == SupplyEntry.Kind.COUNT),
        None,
    )
    counted_from = base.recorded_at if base else None
    on_hand = base.amount if base else Decimal(0)
    on_hand += sum(
        (
            e.amount
            for e in entries
            if e.kind == SupplyEntry.Kind.REFILL
            and (counted_from is None or e.recorded_at > counted_from)
        ),
        Decimal(0),
    )
    today = patient.profile.local_today(now)
    state = plan_state_reused(patient, plan, today, state)
    # The plan state holds every dose the patient logged: no second query for the taken ones.
    taken = [
        log.dose_mg
        for log in state.logs.values()
        if log.status == DoseLog.Status.TAKEN
        and (counted_from is None or log.logged_at > counted_from)
    ]
    for dose in taken:
        used = supply_rules.units_for(
            dose,
            capsule_strength_mg=latest.capsule_strength_mg,
            concentration_mg_per_ml=latest.concentration_mg_per_ml,
        )
        on_hand -= Decimal(used or 0)
    on_hand = max(on_hand, Decimal(0))

    horizon = engine.schedule(state.spec, until=today + dt.timedelta(days=180), since=today)
    tonight_done = today in state.logs
    upcoming = [
        (d.day, d.dose_mg) for d in horizon if d.is_due and (d.day > today or not tonight_done)
    ]
    cannot_make = []
    strength = latest.capsule_strength_mg
    if strength:
        seen = set()
        for day, dose in upcoming:
            if dose not in seen and supply_rules.capsules_for(dose, strength) is None:
                cannot_make.append((day, dose))
            seen.add(dose)
    runs_out = supply_rules.runs_out_on(
        on_hand=on_hand,
        upcoming_doses=upcoming,
        capsule_strength_mg=latest.capsule_strength_mg,
        concentration_mg_per_ml=latest.concentration_mg_per_ml,
    )
    discard_on = latest.discard_on if latest.is_liquid else None
    return SupplyStatus(
        entry=latest,
        on_hand=on_hand.quantize(Decimal("0.1")),
        unit="mL" if latest.is_liquid else "capsules",
        runs_out=runs_out,
        warn_refill=supply_rules.needs_refill_warning(today, runs_out),
        discard_on=discard_on,
        discard_passed=discard_on is not None and discard_on < today,
        cannot_make=cannot_make,
    )
