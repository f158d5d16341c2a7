"""Signed links in reminder emails.

A link names its reminder row by the row's random `link_key` and nothing else: no patient
id, date or dose is in the URL (the row holds them). Action links sign the key and the
action with a timestamp: they expire after 24 hours, and the row's `link_used_at` makes
them single use. The pause link signs the key alone and does not expire: a
List-Unsubscribe address must keep working for as long as mail arrives.
"""

import datetime as dt
from dataclasses import dataclass

from django.core import signing

ACTION_MAX_AGE = dt.timedelta(hours=24)
ACTION_SALT = "reminders.link"
PAUSE_SALT = "reminders.pause.link"
# Pause links in emails sent before links named only the row carried the patient id.
PATIENT_PAUSE_SALT = "reminders.pause"


class Action:
    TAKEN = "taken"
    SKIPPED = "skipped"
    SNOOZE = "snooze"
    ALL = (TAKEN, SKIPPED, SNOOZE)


@dataclass(frozen=True)
class ActionClaim:
    link_key: str
    action: str


class BadLink(Exception):
    """Expired, tampered with or unknown: the page says so kindly and offers a login."""


def action_token(*, link_key: str, action: str) -> str:
    # link_key is URL-safe base64, which has no "."
    return signing.TimestampSigner(salt=ACTION_SALT).sign(f"{link_key}.{action}")


def action_claim(token: str) -> ActionClaim:
    try:
        value = signing.TimestampSigner(salt=ACTION_SALT).unsign(token, max_age=ACTION_MAX_AGE)
    except signing.BadSignature as exc:  # expired too
        raise BadLink from exc
    link_key, _, action = value.partition(".")
    if not link_key or action not in Action.ALL:
        raise BadLink
    return ActionClaim(link_key=link_key, action=action)


def pause_token(*, link_key: str) -> str:
    return signing.Signer(salt=PAUSE_SALT).sign(link_key)


@dataclass(frozen=True)
class PauseClaim:
    link_key: str | None = None
    patient_id: int | None = None


def pause_claim(token: str) -> PauseClaim:
    try:
        return PauseClaim(link_key=signing.Signer(salt=PAUSE_SALT).unsign(token))
    except signing.BadSignature:
        pass
    try:
        return PauseClaim(patient_id=int(signing.Signer(salt=PATIENT_PAUSE_SALT).unsign(token)))
    except (signing.BadSignature, ValueError) as exc:
        raise BadLink from exc
