"""
Periodic questionnaires (shared/DOMAIN.md): FIQR and PGIC, their schedule and scoring. Pure.

FIQR (Bennett et al. 2009): 21 items, each 0-10, in three domains. Score 0-100 =
function sum / 3 + overall sum / 1 + symptoms sum / 2. A change of 14% or more is clinically
meaningful. PGIC: one 7-point item. Schedule: weeks 0, 4, 8, 12, then every 12 weeks; PGIC
from week 4 (there is no change to rate at week 0). Each is open for the week it falls due.
"""

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

FIQR = "fiqr"
PGIC = "pgic"
OPEN_DAYS = 7
MEANINGFUL_FIQR_CHANGE_PERCENT = 14

FIQR_FUNCTION = [
    ("f1", "Brush or comb your hair"),
    ("f2", "Walk continuously for 20 minutes"),
    ("f3", "Prepare a homemade meal"),
    ("f4", "Vacuum, scrub or sweep floors"),
    ("f5", "Lift and carry a full bag of shopping"),
    ("f6", "Climb one flight of stairs"),
    ("f7", "Change bed sheets"),
    ("f8", "Sit in a chair for 45 minutes"),
    ("f9", "Go shopping for groceries"),
]
FIQR_OVERALL = [
    ("o1", "Fibromyalgia stopped me doing what I wanted to this week"),
    ("o2", "I was completely overwhelmed by my fibromyalgia symptoms"),
]
FIQR_SYMPTOMS = [
    ("s1", "Your level of pain", "No pain", "Unbearable pain"),
    ("s2", "Your level of energy", "Lots of energy", "No energy"),
    ("s3", "Your level of stiffness", "No stiffness", "Severe stiffness"),
    ("s4", "The quality of your sleep", "Woke up rested", "Woke up very tired"),
    ("s5", "Your level of depression", "Not depressed", "Very depressed"),
    ("s6", "Your level of memory problems", "Good memory", "Very poor memory"),
    ("s7", "Your level of anxiety", "Not anxious", "Very anxious"),
    ("s8", "Your level of tenderness to touch", "No tenderness", "Very tender"),
    ("s9", "Your level of balance problems", "No imbalance", "Severe imbalance"),
    (
        "s10",
        "Sensitivity to loud noise, bright light, smells and cold",
        "No sensitivity",
        "Extreme sensitivity",
    ),
]
FIQR_ITEMS = (
    [key for key, _ in FIQR_FUNCTION]
    + [key for key, _ in FIQR_OVERALL]
    + [item[0] for item in FIQR_SYMPTOMS]
)

PGIC_CHOICES = [
    (1, "No change, or my condition has got worse"),
    (2, "Almost the same, hardly any change at all"),
    (3, "A little better, but no noticeable change"),
    (4, "Somewhat better, but the change has not made any real difference"),
    (5, "Moderately better, a slight but noticeable change"),
    (6, "Better, a definite improvement that has made a real and worthwhile difference"),
    (7, "A great deal better, an improvement that has made all the difference"),
]


def fiqr_score(answers: Mapping[str, int]) -> Decimal:
    """The 0-100 FIQR total, to one decimal. Every item must be answered with 0-10."""
    for key in FIQR_ITEMS:
        value = answers.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10:
            raise ValueError(f"FIQR item {key} needs a whole number from 0 to 10")
    function = sum(answers[k] for k, _ in FIQR_FUNCTION)
    overall = sum(answers[k] for k, _ in FIQR_OVERALL)
    symptoms = sum(answers[item[0]] for item in FIQR_SYMPTOMS)
    total = Decimal(function) / 3 + Decimal(overall) + Decimal(symptoms) / 2
    return total.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def fiqr_change_is_meaningful(earlier: Decimal, later: Decimal) -> bool:
    if earlier == 0:
        return later != 0
    return abs(later - earlier) / earlier * 100 >= MEANINGFUL_FIQR_CHANGE_PERCENT


def schedule_weeks(until_week: int) -> list[int]:
    """Weeks 0, 4, 8, 12, then every 12 weeks, up to and including `until_week`."""
    weeks = [w for w in (0, 4, 8, 12) if w <= until_week]
    week = 24
    while week <= until_week:
        weeks.append(week)
        week += 12
    return weeks


def due_on(start: dt.date, week: int) -> dt.date:
    return start + dt.timedelta(weeks=week)


def open_questionnaires(start: dt.date, today: dt.date, done: set[tuple[str, int]]):
    """(kind, week, due date) open today: due within the last 7 days and not yet answered."""
    if today < start:
        return []
    current_week = (today - start).days // 7
    out = []
    for week in schedule_weeks(current_week):
        due = due_on(start, week)
        if not due <= today < due + dt.timedelta(days=OPEN_DAYS):
            continue
        for kind in (FIQR, PGIC):
            if kind == PGIC and week == 0:
                continue
            if (kind, week) not in done:
                out.append((kind, week, due))
    return out
