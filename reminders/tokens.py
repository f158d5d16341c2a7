"""Signed links in reminder emails.

An action link names the reminder, patient, date and dose; it expires after 24 hours and the
row's `link_used_at` makes it single use. The pause link names only the patient and does
not expire: a List-Unsubscribe address must keep working for as long as mail arrives.
"""

import datetime as dt
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from decimal import Decimal

from django.core import signing
from django.utils.encoding import force_bytes

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
    signed = ActionSigner().action_tokens(
        reminder_id=reminder_id, patient_id=patient_id, day=day, dose_mg=dose_mg, actions=[action]
    )
    return signed[action]


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
    return ActionSigner().pause_token(patient_id=patient_id)


def pause_patient_id(token: str) -> int:
    try:
        return int(signing.Signer(salt=PAUSE_SALT).unsign(token))
    except (signing.BadSignature, ValueError) as exc:
        raise BadLink from exc


class _KeyedSigner(signing.Signer):
    """Django's signature, with the salted key derived once rather than on every call."""

    def __init__(self, *, salt: str):
        super().__init__(salt=salt)
        # What django.utils.crypto.salted_hmac derives from the key salt and the secret.
        derived = hashlib.sha256(force_bytes(f"{self.salt}signer") + force_bytes(self.key))
        self._mac = hmac.new(derived.digest(), digestmod=hashlib.sha256)

    def signature(self, value, key=None):
        if key is not None and key != self.key:
            return super().signature(value, key)  # checking against a fallback key
        mac = self._mac.copy()
        mac.update(value.encode())
        return signing.b64_encode(mac.digest()).decode()


class ActionSigner:
    """Signs a batch's links: four per email, hundreds of emails a second at the peak.

    The tokens are the ones `signing.TimestampSigner(salt=ACTION_SALT).sign_object()` and
    `signing.Signer(salt=PAUSE_SALT).sign()` make, so `action_claim` and `pause_patient_id`
    (Django's own unsigning, with key rotation) read them. Uncompressed: zlib never
    shortens a payload this small, and trying costs more than the signature.
    """

    def __init__(self):
        self._action = _KeyedSigner(salt=ACTION_SALT)
        self._pause = _KeyedSigner(salt=PAUSE_SALT)
        self._last_timestamp = (None, "")

    def action_tokens(
        self, *, reminder_id: int, patient_id: int, day: dt.date, dose_mg, actions
    ) -> dict[str, str]:
        """One email's action links: the same claim but for the action, signed now."""
        common = {"r": reminder_id, "p": patient_id, "d": day.isoformat(), "m": str(dose_mg)}
        head = json.dumps(common, separators=(",", ":"))[:-1]
        timestamp = self._timestamp()
        tokens = {}
        for action in actions:
            payload = f'{head},"a":{json.dumps(action)}}}'.encode("latin-1")
            value = signing.b64_encode(payload).decode()
            tokens[action] = self._action.sign(f"{value}:{timestamp}")
        return tokens

    def _timestamp(self) -> str:
        now = int(time.time())
        if self._last_timestamp[0] != now:
            self._last_timestamp = (now, signing.b62_encode(now))
        return self._last_timestamp[1]

    def pause_token(self, *, patient_id: int) -> str:
        return self._pause.sign(str(patient_id))
