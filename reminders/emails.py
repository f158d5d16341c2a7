"""The reminder email: what it says, its links and its headers. Building only; sending is
in services.py.

At the evening peak a worker sends hundreds of these a second, and Django's template engine
plus the `email` package's policy machinery cost several milliseconds a message. So a
`Composer` does the slow parts once per batch: each template is rendered once per shape
(kind of reminder, morning or evening, liquid or not, named or not) with placeholders where
the per-message values go, the constant headers are encoded once, the signers are built
once. Per message it fills in the placeholders and writes the RFC 5322 bytes directly. The
templates stay the single source of what the email says.
"""

import binascii
import email.message
import email.policy
import email.utils
import functools
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import get_urlconf, reverse

from accounts.models import PatientProfile
from titration.selectors import dose_ml
from titration.templatetags.dose import mg

from . import tokens
from .models import Reminder


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


@functools.cache
def _url_pattern(name: str, urlconf: str, site_url: str) -> str:
    # Thousands of emails a minute at the peak: resolve each URL pattern once.
    return site_url.rstrip("/") + reverse(name, urlconf=urlconf, args=["ARG"])


def link(name: str, arg: str) -> str:
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return _url_pattern(name, urlconf, settings.SITE_URL).replace("ARG", arg)


def subject_for(profile: PatientProfile) -> str:
    # No health detail in a subject: it shows on lock screens and in shared inboxes.
    if profile.dose_time == PatientProfile.DoseTime.MORNING:
        return "Your morning reminder"
    return "Your evening reminder"


# Placeholders survive the template engine (autoescaping leaves NUL alone) and cannot come
# from the templates themselves.
SLOT = "\x00"
SLOTS = ("first_name", "dose", "dose_ml", "taken_url", "skip_url", "snooze_url", "diary_url")
SLOTS += ("pause_url",)


def _escape(value: str) -> str:
    """What Django's `escape` does to a value filled into the HTML, without the SafeString."""
    if not _NEEDS_ESCAPING.search(value):
        return value
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#x27;")
    )


_NEEDS_ESCAPING = re.compile("[&<>\"']")
# Bodies are quoted-printable, in which "=" only starts an escape, so this cannot occur in
# them.
BOUNDARY_PREFIX = "=_reminder_"


@dataclass(frozen=True)
class Shape:
    """What changes the wording of a reminder, as opposed to the values filled into it."""

    kind: str
    morning: bool
    liquid: bool
    named: bool


class Skeleton:
    """A template rendered once with placeholders: literal text and slot names alternate."""

    def __init__(self, template_name: str, shape: Shape, constants: dict):
        context = {slot: f"{SLOT}{slot}{SLOT}" for slot in SLOTS}
        context.update(constants)
        context.update(kind=shape.kind, morning=shape.morning)
        if not shape.liquid:
            context["dose_ml"] = None
        if not shape.named:
            context["first_name"] = ""
        if Reminder(kind=shape.kind).next_snooze_kind() is None:
            context["snooze_url"] = ""
        text = render_to_string(template_name, context).replace("\r\n", "\n")
        self.pieces = text.replace("\n", "\r\n").split(SLOT)

    def fill(self, values: dict) -> str:
        pieces = self.pieces.copy()
        for i in range(1, len(pieces), 2):
            pieces[i] = values[pieces[i]]
        return "".join(pieces)


@dataclass(frozen=True)
class ReminderEmail:
    """One rendered reminder: bytes for the SMTP connection, or a Django message for any
    other mailer (the console in development, the test outbox)."""

    from_email: str
    to: str
    subject: str
    text: str
    html: str
    headers: dict
    raw: bytes | None  # None when only the `email` package can write it (non-ASCII address)

    def as_email_message(self) -> EmailMultiAlternatives:
        message = EmailMultiAlternatives(
            subject=self.subject,
            body=self.text.replace("\r\n", "\n"),
            from_email=self.from_email,
            to=[self.to],
            headers=self.headers,
        )
        message.attach_alternative(self.html.replace("\r\n", "\n"), "text/html")
        return message


def _qp(text: str) -> bytes:
    # CRLF in, CRLF out (soft line breaks included); C speed.
    return binascii.b2a_qp(text.encode(), istext=True)


# An address written as is: no display name, no quoting, no line breaks, ASCII. Anything
# else (an internationalised domain, say) goes through the `email` package.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")
_URL_SAFE = re.compile(r"[\x21-\x7e]+")


class Composer:
    """Builds a batch's reminders. Create one per batch: it captures the time for the Date
    header and the signing timestamp's clock, and caches one skeleton per shape."""

    def __init__(self, *, from_email: str | None = None):
        self.from_email = from_email or settings.DEFAULT_FROM_EMAIL
        self.envelope_from = email.utils.parseaddr(self.from_email)[1]
        self.signer = tokens.ActionSigner()
        self.settings_url = absolute(reverse("reminder_settings"))
        self.boundary = BOUNDARY_PREFIX + secrets.token_hex(12)
        self._skeletons = {}
        self._header_block = {}
        self._date = email.utils.formatdate(localtime=settings.EMAIL_USE_LOCALTIME)
        urlconf = get_urlconf() or settings.ROOT_URLCONF
        self._url_pattern = functools.partial(
            _url_pattern, urlconf=urlconf, site_url=settings.SITE_URL
        )

    def _skeleton(self, template_name: str, shape: Shape) -> Skeleton:
        key = (template_name, shape)
        if key not in self._skeletons:
            constants = {"settings_url": self.settings_url}
            self._skeletons[key] = Skeleton(template_name, shape, constants)
        return self._skeletons[key]

    def _constant_headers(self, subject: str) -> bytes:
        """Headers every message with this subject shares, encoded by the `email` package
        once (the sender's display name may need RFC 2047)."""
        if subject not in self._header_block:
            head = email.message.EmailMessage(policy=email.policy.SMTP)
            head["From"] = self.from_email
            head["Subject"] = subject
            lines = [
                head.as_bytes().decode().removesuffix("\r\n\r\n"),
                f"Date: {self._date}",
                "MIME-Version: 1.0",
                "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
                "Auto-Submitted: auto-generated",
                f'Content-Type: multipart/alternative; boundary="{self.boundary}"',
            ]
            self._header_block[subject] = ("\r\n".join(lines) + "\r\n").encode()
        return self._header_block[subject]

    def compose(self, reminder: Reminder, dose_mg: Decimal) -> ReminderEmail:
        patient = reminder.patient
        profile = patient.profile
        morning = profile.dose_time == PatientProfile.DoseTime.MORNING
        ml = dose_ml(dose_mg, profile)
        first_name = " ".join(patient.first_name.split())  # no line breaks from anywhere
        shape = Shape(reminder.kind, morning, ml is not None, bool(first_name))
        actions = [tokens.Action.TAKEN, tokens.Action.SKIPPED]
        if reminder.next_snooze_kind():
            actions.append(tokens.Action.SNOOZE)
        signed = self.signer.action_tokens(
            reminder_id=reminder.pk,
            patient_id=patient.pk,
            day=reminder.local_date,
            dose_mg=dose_mg,
            actions=actions,
        )
        action_url = self._url_pattern("reminder_action")
        pause_url = self._url_pattern("reminders_pause").replace(
            "ARG", self.signer.pause_token(patient_id=patient.pk)
        )
        values = {
            "first_name": first_name,
            "dose": mg(dose_mg),
            "dose_ml": "" if ml is None else str(ml),
            "taken_url": action_url.replace("ARG", signed[tokens.Action.TAKEN]),
            "skip_url": action_url.replace("ARG", signed[tokens.Action.SKIPPED]),
            "snooze_url": action_url.replace("ARG", signed.get(tokens.Action.SNOOZE, "")),
            "diary_url": self._url_pattern("diary_day").replace(
                "ARG", reminder.local_date.isoformat()
            ),
            "pause_url": pause_url,
        }
        text = self._skeleton("reminders/email/reminder.txt", shape).fill(values)
        escaped = {slot: _escape(value) for slot, value in values.items()}
        html = self._skeleton("reminders/email/reminder.html", shape).fill(escaped)
        subject = subject_for(profile)
        headers = {
            "Message-ID": reminder.message_id,
            "List-Unsubscribe": f"<{pause_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        }
        raw = None
        if _PLAIN_ADDRESS.fullmatch(patient.email) and _URL_SAFE.fullmatch(pause_url):
            raw = self._raw(subject, patient.email, headers, text, html)
        return ReminderEmail(self.from_email, patient.email, subject, text, html, headers, raw)

    def _raw(self, subject, to, headers, text, html) -> bytes:
        boundary = self.boundary.encode()
        part = b'Content-Type: text/%s; charset="utf-8"\r\n'
        part += b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        return b"".join(
            [
                self._constant_headers(subject),
                f"To: {to}\r\n".encode(),
                f"Message-ID: {headers['Message-ID']}\r\n".encode(),
                f"List-Unsubscribe: {headers['List-Unsubscribe']}\r\n\r\n".encode(),
                b"--" + boundary + b"\r\n",
                part % b"plain",
                _qp(text),
                b"\r\n--" + boundary + b"\r\n",
                part % b"html",
                _qp(html),
                b"\r\n--" + boundary + b"--\r\n",
            ]
        )


def reminder_email(reminder: Reminder, dose_mg: Decimal) -> EmailMultiAlternatives:
    """One reminder as a Django message (for a one-off send or a look in the shell)."""
    return Composer().compose(reminder, dose_mg).as_email_message()
