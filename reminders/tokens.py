"""Signed links in reminder emails.

An action link names the reminder, patient, date and dose; it expires after 24 hours and the
row's `link_used_at` makes it single use. The pause link names only the patient and does
not expire: a List-Unsubscribe address must keep working for as long as mail arrives.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core import signing

ACTION_MAX_AGE = dt.timedelta(hours=24)
ACTION_SALT = "reminders.action"
PAUSE_SALT = "reminders.pause"


class Action:
    TAKEN = "taken"
    SKIPPED = "skipped"
    SNOOZE = "snooze"
    ALL = (TAKEN, SKIPPED, SNOOZE)


@dataclass(frozen=True)
class ActionClaim:
    reminder_id: int
    patient_id: int
    day: dt.date
    dose_mg: Decimal
    action: str


class BadLink(Exception):
    """Expired, tampered with or unknown: the page says so kindly and offers a login."""


def action_token(*, reminder_id: int, patient_id: int, day: dt.date, dose_mg, action: str):
    payload = {"r": reminder_id, "p": patient_id, "d": day.isoformat(), "m": str(dose_mg)}
    payload["a"] = action
    return signing.TimestampSigner(salt=ACTION_SALT).sign_object(payload, compress=True)


def action_claim(token: str) -> ActionClaim:
    try:
        data = signing.TimestampSigner(salt=ACTION_SALT).unsign_object(
            token, max_age=ACTION_MAX_AGE
        )
        claim = ActionClaim(
            reminder_id=int(data["r"]),
            patient_id=int(data["p"]),
            day=dt.date.fromisoformat(data["d"]),
            dose_mg=Decimal(data["m"]),
            action=data["a"],
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise BadLink from exc
    if claim.action not in Action.ALL:
        raise BadLink
    return claim


def pause_token(*, patient_id: int) -> str:
    return signing.Signer(salt=PAUSE_SALT).sign(str(patient_id))


def pause_patient_id(token: str) -> int:
    try:
        return int(signing.Signer(salt=PAUSE_SALT).unsign(token))
    except (signing.BadSignature, ValueError) as exc:
        raise BadLink from exc
