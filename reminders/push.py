"""The push notification: what it says and its buttons' links, and one delivery to one
browser through its push service (Web Push with VAPID, RFC 8030/8291/8292, by pywebpush).
Building and delivering only; which rows are sent is in services.py."""

import dataclasses
import json

import requests
from django.conf import settings
from django.urls import reverse
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from accounts.models import PatientProfile
from ldn_tracker.site import absolute_url

from . import due, emails, tokens
from .models import PushSubscription, Reminder

# A notification that reaches the phone later than this would wake someone in the night:
# the push service drops it instead (the same catch-up limit as a late email).
TTL_SECONDS = int(due.CATCH_UP.total_seconds())


def push_enabled() -> bool:
    return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY)


def notification_text(reminder: Reminder, profile: PatientProfile) -> tuple[str, str]:
    """Title and body. The title is the email's subject, and neither says more than "your
    evening dose": the lock screen is seen by others, so no mg and no medicine's name."""
    moment = "morning" if profile.dose_time == PatientProfile.DoseTime.MORNING else "evening"
    title = emails.subject_for(profile)
    if reminder.kind == Reminder.Kind.FIRST:
        return title, f"Time for your {moment} dose."
    return title, f"A reminder: your {moment} dose isn't logged yet."


def action_url(reminder: Reminder, action: str) -> str:
    token = tokens.action_token(link_key=reminder.link_key, action=action)
    return absolute_url(reverse("reminder_push_action", args=[token]))


def payload(reminder: Reminder) -> str:
    title, body = notification_text(reminder, reminder.patient.profile)
    data = {
        "title": title,
        "body": body,
        # One notification per night on the lock screen: a repeat replaces the last one.
        "tag": f"dose-{reminder.local_date.isoformat()}",
        "url": absolute_url(reverse("today")),
        "take": action_url(reminder, tokens.Action.TAKEN),
        "snooze": (
            action_url(reminder, tokens.Action.SNOOZE) if reminder.next_snooze_kind() else ""
        ),
    }
    return json.dumps(data)


@dataclasses.dataclass(frozen=True)
class Outcome:
    delivered: bool = False
    gone: bool = False  # 404/410: the browser unsubscribed or the subscription expired
    temporary: bool = False  # 429, 5xx or no answer: try again later
    detail: str = ""


class Sender:
    """Deliveries over one HTTP session (kept-alive connections to each push service), with
    the VAPID key read once."""

    def __init__(self):
        self.key = Vapid.from_string(settings.VAPID_PRIVATE_KEY)
        self.session = requests.Session()

    def close(self):
        self.session.close()

    def send(self, subscription: PushSubscription, data: str) -> Outcome:
        try:
            webpush(
                subscription_info=subscription.subscription_info(),
                data=data,
                vapid_private_key=self.key,
                # A new dict each time: pywebpush writes the audience and expiry into it.
                vapid_claims={"sub": settings.VAPID_SUBJECT},
                content_encoding="aes128gcm",
                ttl=TTL_SECONDS,
                timeout=settings.PUSH_TIMEOUT,
                headers={"Urgency": "high"},
                requests_session=self.session,
            )
        except WebPushException as exc:
            code = exc.response.status_code if exc.response is not None else None
            if code in (404, 410):
                return Outcome(gone=True, detail=f"Device gone ({code}).")
            if code is None or code == 429 or code >= 500:
                return Outcome(temporary=True, detail=f"Push service said try later ({code}).")
            return Outcome(detail=f"Refused by the push service ({code}).")
        except (requests.RequestException, OSError) as exc:
            return Outcome(
                temporary=True, detail=f"Push service unreachable ({type(exc).__name__})."
            )
        return Outcome(delivered=True)
