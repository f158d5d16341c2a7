import datetime as dt
from dataclasses import dataclass

from django.template.defaultfilters import pluralize
from django.utils import timezone

from titration import adherence as adherence_rules
from titration import schedule as engine
from titration import selectors as titration_selectors
from titration.templatetags.dose import mg as format_mg

from . import charts, progress, summary
from . import questionnaires as q
from .models import (
    FACTORS,
    RATINGS,
    SIDE_EFFECTS,
    DiaryEntry,
    QuestionnaireResponse,
    Severity,
)

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


@dataclass(frozen=True)
class MetricProgress:
    name: str
    label: str
    higher_is_better: bool
    baseline: float | None
    baseline_info: progress.Baseline | None
    current: float | None
    change: progress.Change | None  # None until the baseline's 7 days are over
    baseline_days: int
    baseline_complete_on: dt.date
    band: progress.Band | None  # pain only
    last_week: float | None
    week_before: float | None

    @property
    def summary(self) -> str:
        """The sentence a screen reader hears instead of the chart, to the patient."""
        return self._describe(baseline="your baseline")

    @property
    def clinician_summary(self) -> str:
        """The same sentence on a clinician's screen, about the patient."""
        return self._describe(baseline="the patient's baseline")

    def _describe(self, *, baseline: str) -> str:
        if self.baseline is None:
            return f"{self.label}: not enough diary days yet to compare with {baseline}."
        days = f"{self.baseline_days} diary day{pluralize(self.baseline_days)}"
        if self.change is None:
            return (
                f"{self.label}: {baseline} has {days} so far. We compare with it from "
                f"{self.baseline_complete_on:%A %-d %B}, once its 7 days are over."
            )
        text = f"{self.label} {self.baseline:.1f} → {self.current:.1f}"
        percent = self.change.percent if self.change else None
        if percent is None and self.change and abs(self.change.points) >= 0.05:
            # A baseline of 0 has no percentage: say the change in points instead of
            # calling a rise from 0 "about the same".
            direction = "higher" if self.change.points > 0 else "lower"
            text += f", {abs(self.change.points):.1f} points {direction} than {baseline}."
        elif percent is None or abs(percent) < 0.5:
            text += f", about the same as {baseline}."
        else:
            direction = "higher" if percent > 0 else "lower"
            text += f", {abs(percent):.0f}% {direction} than {baseline}."
        return text + f" {baseline[0].upper()}{baseline[1:]} is the mean of {days}."


def _series(entries, name):
    return {e.date: getattr(e, name) for e in entries if getattr(e, name) is not None}


def progress_report(patient, plan, today: dt.date, period: str = "all", since=None, record=None):
    """Everything the progress page shows, from a fixed number of queries whatever the
    length of the history. `today` is the last day shown (the report's end date). Pass the
    request's dose `record` to save reading it again."""
    run_in_start = plan.start_date - dt.timedelta(days=progress.WINDOW)
    entries = list(
        DiaryEntry.objects.filter(patient=patient, date__gte=run_in_start, date__lte=today)
    )
    # The dose band shows the doses the dose decision gives (holds included), not the plan
    # as written.
    record = record or titration_selectors.record_of(patient, plan)
    spec = record.decide(timezone.now()).spec
    if since is None and period == "4w":
        since = max(plan.start_date, today - dt.timedelta(days=27))
    since = since or min((e.date for e in entries), default=plan.start_date)
    since = min(since, today)
    schedule = engine.schedule(spec, until=today, since=min(since, plan.start_date))
    dose_by_day = {d.day: d for d in schedule}
    doses = [
        (
            d.day,
            f"{format_mg(d.dose_mg)} mg" if d.dose_mg is not None else "no dose",
            d.status == engine.DayStatus.HELD,
        )
        for d in schedule
        if d.day >= since
    ]

    metrics, series = [], []
    for name, (label, _period, _low, _high, better) in RATINGS.items():
        values = _series(entries, name)
        base = progress.baseline_of(values, plan.start_date)
        current = progress.mean_of_window(values, today)
        change = (
            progress.Change(base.mean, current)
            if base is not None and base.ready(today) and current is not None
            else None
        )
        rolling = progress.rolling_means(values, since, today)
        metrics.append(
            MetricProgress(
                name=name,
                label=label,
                higher_is_better=better,
                baseline=base.mean if base else None,
                baseline_info=base,
                current=current,
                change=change,
                baseline_days=base.days if base else 0,
                baseline_complete_on=(
                    base.complete_on
                    if base
                    else progress.baseline_window(
                        progress.BaselineKind.FIRST_WEEK, plan.start_date
                    )[1]
                    + dt.timedelta(days=1)
                ),
                band=progress.pain_response(change) if name == "pain" else None,
                last_week=current,
                week_before=progress.mean_of_window(values, today - dt.timedelta(days=7)),
            )
        )
        series.append(
            charts.Series(
                name=name,
                label=label,
                higher_is_better=better,
                values=values,
                rolling=rolling,
                baseline=base.mean if base else None,
                response_lines=name == "pain",
            )
        )
    runs = summary.step_runs(d for d in schedule if d.day >= since)
    rated_days = {e.date for e in entries if any(getattr(e, r) is not None for r in RATINGS)}

    by_step = {}
    for entry in entries:
        due = dose_by_day.get(entry.date)
        if due is None or due.dose_mg is None:
            continue
        row = by_step.setdefault(due.dose_mg, {"days": 0, "counts": dict.fromkeys(SIDE_EFFECTS, 0)})
        row["days"] += 1
        for effect in SIDE_EFFECTS:
            if (getattr(entry, effect) or 0) >= Severity.MILD:
                row["counts"][effect] += 1
    side_effects_by_step = [
        {
            "dose_mg": dose,
            "days": row["days"],
            "effects": [(SIDE_EFFECTS[k], n) for k, n in row["counts"].items() if n],
        }
        for dose, row in sorted(by_step.items())
    ]

    factor_days = {
        factor: {
            e.date: bool(getattr(e, factor)) for e in entries if getattr(e, factor) is not None
        }
        for factor in FACTORS
    }
    found = progress.patterns(factor_days, _series(entries, "pain"), _series(entries, "fatigue"))
    fiqr = list(QuestionnaireResponse.objects.filter(patient=patient, kind=q.FIQR).order_by("week"))
    fiqr_rows = [
        {
            "week": r.week,
            "score": r.score,
            "meaningful": bool(fiqr)
            and r is not fiqr[0]
            and q.fiqr_change_is_meaningful(fiqr[0].score, r.score),
            "lower": bool(fiqr) and r.score < fiqr[0].score,
        }
        for r in fiqr
    ]
    return {
        "fiqr": fiqr_rows,
        "metrics": metrics,
        # Phone-wide for the patient's pages; wide for paper and the clinician's desk.
        "figure": charts.small_multiples(series, doses, since, today, width=charts.SCREEN_WIDTH),
        "print_figure": charts.small_multiples(
            series, doses, since, today, width=charts.PRINT_WIDTH
        ),
        "dose_steps": [_run_label(run) for run in runs],
        "runs": runs,
        "worst_by_step": summary.worst_side_effect_per_step(
            runs,
            {e.date: {k: getattr(e, k) for k in SIDE_EFFECTS} for e in entries},
            labels=SIDE_EFFECTS,
        ),
        # The words "compared with before LDN" follow the baseline rule even before there
        # is a week to compare: a diary started on the first dose has no "before".
        "compared_with": progress.BASELINE_COMPARED_WITH[
            progress.baseline_kind(rated_days, plan.start_date)
        ],
        "pain": metrics[0],
        "since": since,
        "period": period,
        "side_effects_by_step": side_effects_by_step,
        "patterns": [progress.pattern_sentence(p, FACTORS[p.factor]) for p in found],
        "days_logged": len(entries),
    }


def _run_label(run: summary.StepRun) -> dict:
    return {
        "run": run,
        "label": f"{format_mg(run.dose_mg)} mg {_period_text(run.start, run.end)}",
    }


def _period_text(start: dt.date, end: dt.date) -> str:
    if start == end:
        return f"on {start.day} {start:%b %Y}"
    return f"from {start.day} {start:%b} to {end.day} {end:%b %Y}"


def open_questionnaires(patient, plan, today):
    done = set(QuestionnaireResponse.objects.filter(patient=patient).values_list("kind", "week"))
    return [
        {"kind": kind, "week": week, "due": due, "label": QuestionnaireResponse.Kind(kind).label}
        for kind, week, due in q.open_questionnaires(plan.start_date, today, done)
    ]


def dose_text_of(patient, tonight, supply) -> str:
    """Tonight's dose (from the dose decision) with what is measured out: "4.5 mg = 4.5 mL
    of 1 mg/mL liquid". `supply` gives a capsule's strength."""
    profile = patient.profile
    return summary.dose_statement(
        tonight.due.dose_mg,
        liquid=profile.is_liquid,
        concentration_mg_per_ml=profile.concentration_mg_per_ml,
        dose_ml=tonight.dose_ml,
        capsule_strength_mg=supply.entry.capsule_strength_mg if supply else None,
    )


def report_period(plan, today: dt.date) -> tuple[dt.date, dt.date]:
    """The default period of the doctor report, the same on the patient's and the
    clinician's copies: the last 90 days, from the run-in week at the earliest, never
    starting after today (a plan that starts tomorrow)."""
    start = max(plan.start_date - dt.timedelta(days=progress.WINDOW), today - dt.timedelta(days=89))
    return min(start, today), today


PAPER_SIZES = {"a4": "A4", "letter": "letter"}  # the setting's value -> CSS @page size


def report_context(patient, plan, start: dt.date, end: dt.date, *, paper_size: str = ""):
    """The doctor report for a chosen period. Page 1 answers the visit's questions: who,
    the plan and tonight's dose (from the dose decision), the steps and what changed them,
    adherence with the dates missed or skipped, the response against a named baseline,
    the worst side effect at each step, and the questionnaires."""
    now = timezone.now()
    profile = patient.profile
    record = titration_selectors.record_of(patient, plan, now=now)
    tonight = titration_selectors.tonight(patient, plan, now=now, record=record)
    spec = tonight.d.spec
    days = engine.schedule(spec, until=end, since=start)
    due_days = [d.day for d in days if d.is_due]
    statuses = {day: log.status for day, log in record.logs.items() if start <= day <= end}
    supply = (
        None
        if profile.is_liquid
        else titration_selectors.supply_status(patient, plan, now=now, record=record)
    )
    dose_text = dose_text_of(patient, tonight, supply)
    questionnaires = list(
        QuestionnaireResponse.objects.filter(patient=patient).order_by("kind", "week")
    )
    pgic_labels = dict(q.PGIC_CHOICES)

    def scored(kind):
        rows = [r for r in questionnaires if r.kind == kind]
        changes = summary.score_changes(
            [(r.week, profile.local_today(r.completed_at), r.score) for r in rows]
        )
        return [
            {
                "change": change,
                "meaningful": kind == q.FIQR
                and change.points is not None
                and q.fiqr_change_is_meaningful(rows[0].score, change.score),
                "label": pgic_labels.get(int(change.score), "") if kind == q.PGIC else "",
            }
            for change in changes
        ]

    report = progress_report(patient, plan, today=end, since=start, record=record)
    return {
        "patient": patient,
        "start": start,
        "end": end,
        "generated_on": profile.local_today(now),
        "plan": plan,
        "tonight": tonight,
        "dose_text": dose_text,
        "steps": report["dose_steps"],
        "events": [e for e in record.events if start <= e.effective_date <= end],
        "adherence": adherence_rules.adherence(
            today=end,
            days=(end - start).days + 1,
            due_days=due_days,
            logs=statuses,
            counted_from=spec.counted_from,
        ),
        "missed_text": summary.dates_text(
            adherence_rules.missed_days(today=end, due_days=due_days, logs=statuses)
        ),
        "skipped_text": summary.dates_text(
            day for day, status in statuses.items() if status == adherence_rules.SKIPPED
        ),
        "progress": report,
        "fiqr": scored(q.FIQR),
        "pgic": scored(q.PGIC),
        "page_size": PAPER_SIZES.get(paper_size or profile.paper_size, "A4"),
        "shared_notes": list(
            DiaryEntry.objects.filter(
                patient=patient, share_notes=True, date__gte=start, date__lte=end
            )
            .exclude(notes="")
            .order_by("date")
        ),
    }


def weekly_summary(patient, today: dt.date) -> list[str]:
    """'This week vs last week' lines for the Today page: one query for 14 diary days."""
    entries = list(
        DiaryEntry.objects.filter(
            patient=patient, date__gt=today - dt.timedelta(days=14), date__lte=today
        )
    )
    lines = []
    for name in ("pain", "sleep", "fatigue"):
        label, *_rest, better = RATINGS[name]
        values = _series(entries, name)
        this_week = progress.mean_of_window(values, today)
        last_week = progress.mean_of_window(values, today - dt.timedelta(days=7))
        if this_week is None or last_week is None:
            continue
        diff = this_week - last_week
        if abs(diff) < 0.5:
            lines.append(f"{label}: about the same as last week ({this_week:.1f}).")
        else:
            direction = "higher" if diff > 0 else "lower"
            lines.append(
                f"{label}: {this_week:.1f} this week, {direction} than last week ({last_week:.1f})."
            )
    return lines
