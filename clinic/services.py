"""Writes for the clinician workspace: accounts and consent, the audit log, alerts, notes and
plan control. Each function is one unit of work; emails go out after the commit."""

import datetime as dt
import logging
import secrets
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import PatientProfile, User
from ldn_tracker.client_ip import client_ip
from ldn_tracker.site import absolute_url
from titration import selectors as titration_selectors
from titration import services as titration_services

from . import alert_rules, selectors
from .models import (
    CARE_INVITE_DAYS,
    CLINICIAN_INVITE_DAYS,
    Alert,
    AlertAcknowledgement,
    AlertReview,
    AlertThresholds,
    AuditEvent,
    CareLink,
    Clinic,
    ClinicianInvite,
    ClinicianMembership,
    ClinicianNote,
    PatientSummary,
    new_invite_code,
    normalise_invite_code,
    person_name,
)

logger = logging.getLogger(__name__)


class CareLinkNotUsable(Exception):
    """The code is wrong, used, expired or withdrawn; the message says which, kindly."""


class NoteLocked(Exception):
    pass


class PlanNotFound(Exception):
    pass


# Audit ------------------------------------------------------------------------------------


def audit_event_record(*, request, patient_id, action: str, outcome: str) -> AuditEvent:
    user = request.user
    return AuditEvent.objects.create(
        actor=user if user.is_authenticated else None,
        patient_id=patient_id,
        action=action,
        outcome=outcome,
        ip_address=client_ip(request),
        path=request.path[:300],
    )


def audit_events_record_panel(
    *, request, patient_ids, action: str = AuditEvent.Action.PANEL
) -> None:
    """One row per patient shown on a panel page (or an admin list), in one insert."""
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=request.user,
            patient_id=patient_id,
            action=action,
            outcome=AuditEvent.Outcome.ALLOWED,
            at=now,
            ip_address=client_ip(request),
            path=request.path[:300],
        )
        for patient_id in patient_ids
    )


# Clinician accounts -----------------------------------------------------------------------


@transaction.atomic
def clinician_signup(
    *, email: str, password: str, first_name: str, registration_number: str = ""
) -> User | None:
    """The clinician sign-up form's one answer, whether or not the email has an account.

    A new address gets an account waiting for approval. An address that has an account
    already gets an email to its owner instead; the password is hashed all the same, so the
    two take as long.
    """
    existing = User.objects.filter(email__iexact=email).first()
    if existing is None:
        return clinician_register(
            email=email,
            password=password,
            first_name=first_name,
            registration_number=registration_number,
        )
    make_password(password)
    body = render_to_string(
        "clinic/email/clinician_signup_existing.txt",
        {
            "login_url": absolute_url(reverse("account_login")),
            "reset_url": absolute_url(reverse("account_reset_password")),
        },
    )
    address = existing.email
    transaction.on_commit(
        lambda: send_mail(
            "Someone tried to sign up with your email", body, None, [address], fail_silently=False
        )
    )
    return None


@transaction.atomic
def clinic_get_or_create(*, name: str) -> tuple[Clinic, bool]:
    """The clinic of this name, matched without regard to case so "riverside pain clinic"
    typed at a prompt does not make a second Riverside; created when there is none."""
    name = " ".join(name.split())
    clinic = Clinic.objects.filter(name__iexact=name).first()
    if clinic is not None:
        return clinic, False
    return Clinic.objects.create(name=name), True


@transaction.atomic
def clinician_register(
    *, email: str, password: str, first_name: str, registration_number: str = ""
) -> User:
    """A clinician's own sign-up: the account waits for an administrator's approval."""
    user = User.objects.create_user(
        email=email, password=password, first_name=first_name, role=User.Role.CLINICIAN
    )
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    ClinicianMembership.objects.create(clinician=user, registration_number=registration_number)
    return user


@transaction.atomic
def clinician_approve(*, membership: ClinicianMembership, by, clinic: Clinic | None = None):
    """Approve a clinician and tell them they can log in. Read under a row lock, so two
    administrators approving at once send one email."""
    before = (
        ClinicianMembership.objects.select_for_update()
        .values_list("status", flat=True)
        .get(pk=membership.pk)
    )
    membership.status = ClinicianMembership.Status.APPROVED
    membership.clinic = clinic or membership.clinic
    membership.decided_at = timezone.now()
    membership.decided_by = by
    membership.save(update_fields=["status", "clinic", "decided_at", "decided_by"])
    if before != ClinicianMembership.Status.APPROVED:
        clinician = membership.clinician
        body = render_to_string(
            "clinic/email/clinician_approved.txt",
            {
                "name": clinician.first_name,
                "clinic": membership.clinic,
                "url": absolute_url(reverse("account_login")),
                "site_name": settings.SITE_NAME,
            },
        )
        transaction.on_commit(
            lambda: send_mail(
                "Your clinician account is approved",
                body,
                None,
                [clinician.email],
                fail_silently=False,
            )
        )
    return membership


@transaction.atomic
def clinician_invite_send(*, email: str, clinic: Clinic | None, invited_by) -> ClinicianInvite:
    token = secrets.token_urlsafe(32)
    invite = ClinicianInvite.objects.create(
        email=email,
        clinic=clinic,
        invited_by=invited_by,
        token_hash=ClinicianInvite.hash_token(token),
        expires_at=timezone.now() + dt.timedelta(days=CLINICIAN_INVITE_DAYS),
    )
    url = absolute_url(reverse("clinic:clinician_invite_accept", args=[token]))
    body = render_to_string(
        "clinic/email/clinician_invite.txt",
        {
            "url": url,
            "clinic": clinic,
            "days": CLINICIAN_INVITE_DAYS,
            "site_name": settings.SITE_NAME,
        },
    )
    transaction.on_commit(
        lambda: send_mail("Your clinician account", body, None, [email], fail_silently=False)
    )
    return invite


def clinician_invite_for_token(token: str) -> ClinicianInvite | None:
    invite = ClinicianInvite.objects.filter(token_hash=ClinicianInvite.hash_token(token)).first()
    if invite is None or not invite.is_usable():
        return None
    return invite


@transaction.atomic
def clinician_invite_accept(*, invite: ClinicianInvite, password: str, first_name: str) -> User:
    """An administrator invited this address, so it is verified and approved already."""
    claimed = ClinicianInvite.objects.filter(pk=invite.pk, accepted_at__isnull=True).update(
        accepted_at=timezone.now()
    )
    if not claimed:
        raise CareLinkNotUsable("This invitation has already been used.")
    user = User.objects.create_user(
        email=invite.email, password=password, first_name=first_name, role=User.Role.CLINICIAN
    )
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    ClinicianMembership.objects.create(
        clinician=user,
        clinic=invite.clinic,
        status=ClinicianMembership.Status.APPROVED,
        decided_at=timezone.now(),
        decided_by=invite.invited_by,
    )
    return user


# Consent ----------------------------------------------------------------------------------


@transaction.atomic
def care_invite_create(
    *, clinician, for_clinic: bool = False, email: str = "", now: dt.datetime | None = None
) -> CareLink:
    """A short code for a patient to share their record with this clinician (or their clinic).

    Given an email address, the invitation is also emailed; the patient still has to log in
    and confirm, so a mistyped address shares nothing.
    """
    now = now or timezone.now()
    clinic = None
    if for_clinic:
        membership = ClinicianMembership.objects.approved().get(clinician=clinician)
        clinic = membership.clinic
    for _attempt in range(5):
        try:
            with transaction.atomic():
                link = CareLink.objects.create(
                    clinician=None if clinic else clinician,
                    clinic=clinic,
                    invited_by=clinician,
                    code=new_invite_code(),
                    email=email,
                    created_at=now,
                    expires_at=now + dt.timedelta(days=CARE_INVITE_DAYS),
                )
            break
        except IntegrityError:
            continue  # a code already taken: draw again
    else:
        raise RuntimeError("Could not draw an unused invitation code.")
    if email:
        url = absolute_url(reverse("clinic:sharing_accept", args=[link.code]))
        body = render_to_string(
            "clinic/email/care_invite.txt",
            {"url": url, "link": link, "who": link.recipient_name, "days": CARE_INVITE_DAYS},
        )
        # No health detail: the subject names neither the condition nor the medicine.
        transaction.on_commit(
            lambda: send_mail(
                "An invitation to share your diary", body, None, [email], fail_silently=False
            )
        )
    return link


def care_link_for_code(code: str, now: dt.datetime | None = None) -> CareLink:
    link = (
        CareLink.objects.select_related("clinician", "clinic")
        .filter(code=normalise_invite_code(code))
        .first()
    )
    if link is None:
        raise CareLinkNotUsable("We don't recognise that code. Check it with your clinician.")
    if link.accepted_at is not None:
        raise CareLinkNotUsable(
            "That code has already been used. Ask your clinician for a new one."
        )
    if not link.is_open(now):
        raise CareLinkNotUsable("That code has expired. Ask your clinician for a new one.")
    return link


@transaction.atomic
def care_link_accept(*, patient, code: str, now: dt.datetime | None = None) -> CareLink:
    now = now or timezone.now()
    link = care_link_for_code(code, now)
    already = CareLink.objects.active().filter(
        patient=patient, clinician_id=link.clinician_id, clinic_id=link.clinic_id
    )
    if already.exists():
        raise CareLinkNotUsable(f"You already share your record with {link.recipient_name}.")
    claimed = CareLink.objects.filter(pk=link.pk, accepted_at__isnull=True).update(
        patient=patient, accepted_at=now
    )
    if not claimed:
        raise CareLinkNotUsable(
            "That code has already been used. Ask your clinician for a new one."
        )
    link.refresh_from_db()
    care_team_linked_update(patient)
    # The clinician's panel needs this patient's row and any alert already due.
    alerts_evaluate(patient=patient, now=now)
    return link


@transaction.atomic
def care_link_revoke(*, link: CareLink, by, now: dt.datetime | None = None) -> CareLink:
    """Ends access at once: the clinician's next request is a 404."""
    link.revoked_at = now or timezone.now()
    link.revoked_by = by
    link.save(update_fields=["revoked_at", "revoked_by"])
    if link.patient_id:
        care_team_linked_update(link.patient)
    return link


def care_team_linked_update(patient) -> None:
    """Copy "has an active care link" to the patient's profile, where the record reads it."""
    PatientProfile.objects.filter(user=patient).update(
        care_team_linked=CareLink.objects.active().filter(patient=patient).exists()
    )


# Alerts -----------------------------------------------------------------------------------


def _summary_save(patient, summary: dict, now: dt.datetime) -> None:
    values = dict.fromkeys(("plan_day", "dose_mg", "adherence_7"))
    values.update(summary, refreshed_at=now)
    PatientSummary.objects.update_or_create(patient=patient, defaults=values)


def _urgent_alert_email(patient_id: int) -> None:
    # Looked up after the commit: only the clinicians who can see the patient then.
    patient = User.objects.get(pk=patient_id)
    recipients = selectors.linked_clinician_emails(patient)
    if not recipients:
        return
    body = render_to_string(
        "clinic/email/urgent_alert.txt", {"url": absolute_url(reverse("clinic:panel"))}
    )
    # No health detail, not even the patient's name: the email only says to look.
    send_mail("A patient needs your attention", body, None, recipients, fail_silently=False)


@transaction.atomic
def alerts_evaluate(
    *,
    patient,
    now: dt.datetime | None = None,
    thresholds: alert_rules.Thresholds | None = None,
) -> list[Alert]:
    """Open an alert for each rule that holds and has no alert for its episode yet; refresh
    the patient's panel row. Idempotent: call it after any save that might matter.

    The rules use the patient's own thresholds unless `thresholds` is given. Returns the
    alerts opened by this call.
    """
    now = now or timezone.now()
    if thresholds is None:
        thresholds = selectors.patient_thresholds(patient)
    review = selectors.patient_review(patient, now)
    _summary_save(patient, review.summary, now)
    opened = []
    for finding in alert_rules.evaluate(review.facts, thresholds):
        exists = Alert.objects.filter(patient=patient, rule=finding.rule)
        if exists.filter(acknowledged_at__isnull=True).exists():
            continue  # one open alert per rule: it already says what this one would
        if exists.filter(episode=finding.episode).exists():
            continue  # acknowledged already: the same episode does not come back
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    patient=patient,
                    rule=finding.rule,
                    urgency=finding.urgency,
                    episode=finding.episode,
                    detail=finding.detail[:200],
                    opened_at=now,
                )
        except IntegrityError:
            continue  # opened by a concurrent save of the same data
        opened.append(alert)
        if alert.is_urgent:
            transaction.on_commit(lambda pk=patient.pk: _urgent_alert_email(pk))
    return opened


def alerts_sweep(*, now: dt.datetime | None = None) -> int:
    """The daily check for linked patients: time-based alerts (missed doses, gone quiet) and
    the panel row, once per patient-local day.

    Each patient's row is claimed with a conditional UPDATE on its `as_of` date, so two
    sweeps running at once never do the same patient twice. Returns patients evaluated.
    """
    now = now or timezone.now()
    linked = (
        User.objects.filter(care_links__accepted_at__isnull=False, care_links__revoked_at=None)
        .select_related("profile", "clinic_summary", "alert_thresholds")
        .distinct()
    )
    done = 0
    for patient in linked.iterator(chunk_size=500):
        profile = getattr(patient, "profile", None)
        if profile is None:
            continue
        today = profile.local_today(now)
        summary = getattr(patient, "clinic_summary", None)
        if summary is not None:
            claimed = PatientSummary.objects.filter(patient=patient, as_of__lt=today).update(
                as_of=today
            )
            if not claimed:
                continue  # done today already, or by another sweep just now
        alerts_evaluate(patient=patient, now=now)
        done += 1
    return done


@transaction.atomic
def alert_acknowledge(
    *, alert: Alert, clinician, note: str = "", now: dt.datetime | None = None
) -> AlertAcknowledgement:
    now = now or timezone.now()
    Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(acknowledged_at=now)
    alert.refresh_from_db(fields=["acknowledged_at"])
    # Every acknowledgement is kept, a second one of an already closed alert included.
    return AlertAcknowledgement.objects.create(
        alert=alert, clinician=clinician, note=note.strip(), created_at=now
    )


@transaction.atomic
def alert_thresholds_set(
    *, patient, clinician, values: dict, now: dt.datetime | None = None
) -> AlertThresholds:
    """Save a clinician's thresholds for one patient (None keeps the default), then evaluate
    the patient's alerts with them: a line moved below today's figures opens its alert now,
    not at the patient's next save. Alerts already open stay open until acknowledged."""
    now = now or timezone.now()
    row, _ = AlertThresholds.objects.update_or_create(
        patient=patient,
        defaults={
            **{name: values.get(name) for name in alert_rules.ADJUSTABLE},
            "changed_at": now,
            "changed_by": clinician,
        },
    )
    alerts_evaluate(patient=patient, now=now, thresholds=row.thresholds())
    return row


@transaction.atomic
def patient_identity_set(*, patient, clinician, mrn: str, date_of_birth) -> None:
    """A linked clinician's record number for the patient (kept on the link it sees them
    through, so it is their clinic's number) and the patient's date of birth."""
    link = selectors.record_number_link(clinician, patient)
    if link is not None and link.mrn != mrn:
        link.mrn = mrn
        link.save(update_fields=["mrn"])
    profile = patient.profile
    if profile.date_of_birth != date_of_birth:
        profile.date_of_birth = date_of_birth
        profile.save(update_fields=["date_of_birth", "updated_at"])


# Notes ------------------------------------------------------------------------------------


@transaction.atomic
def clinician_note_add(*, patient, author, text: str) -> ClinicianNote:
    return ClinicianNote.objects.create(patient=patient, author=author, text=text.strip())


@transaction.atomic
def clinician_note_edit(
    *, note: ClinicianNote, author, text: str, now: dt.datetime | None = None
) -> ClinicianNote:
    now = now or timezone.now()
    if not note.is_editable_by(author, now):
        raise NoteLocked("Notes can only be changed by their author within 24 hours.")
    note.text = text.strip()
    note.edited_at = now
    note.save(update_fields=["text", "edited_at"])
    return note


# Plan control -----------------------------------------------------------------------------

PLAN_CHANGES = {
    "step_up": "Approve the next step",
    "hold": "Hold at this dose",
    "release": "End the hold",
    "step_back": "Step back",
    "target": "Change the target",
    "custom": "Set a custom schedule",
    "dose_time": "Switch dose time",
    "pause": "Pause",
    "resume": "Resume",
    "stop": "Stop the plan",
}


@transaction.atomic
def plan_adjust(*, patient, clinician, change: str, values: dict, now: dt.datetime | None = None):
    """Apply one clinician change through the titration services, from the patient's today.

    Each is a plan event attributed to the clinician: the patient's Today page shows it, and
    tomorrow's reminder reads the new schedule. Raises PlanChangeNotAllowed with a message.
    """
    now = now or timezone.now()
    plan = titration_selectors.current_plan(patient)
    if plan is None:
        raise PlanNotFound("This patient has no plan yet.")
    day = patient.profile.local_today(now)
    reason = (
        values.get("reason", "").strip() or f"{PLAN_CHANGES[change]} ({person_name(clinician)})"
    )
    common = {"plan": plan, "actor": clinician, "day": day, "reason": reason}
    ts = titration_services
    if change == "step_up":
        result = ts.plan_step_up(**common)
    elif change == "hold":
        result = ts.plan_hold(**common, days=values.get("days"))
    elif change == "release":
        result = ts.plan_release(**common)
    elif change == "step_back":
        result = ts.plan_step_back(**common)
    elif change == "target":
        result = ts.plan_change(
            **common,
            target_mg=Decimal(values["target_mg"]),
            big_change_confirmed=bool(values.get("confirm_big_change")),
        )
    elif change == "custom":
        steps = values["steps"]
        target = max(Decimal(str(s["dose_mg"])) for s in steps)
        result = ts.plan_change(
            **common,
            target_mg=target,
            custom_steps=steps,
            big_change_confirmed=bool(values.get("confirm_big_change")),
        )
    elif change == "dose_time":
        result = ts.plan_dose_time_switch(**common, dose_time=values["dose_time"])
    elif change == "pause":
        result = ts.plan_pause(**common)
    elif change == "resume":
        result = ts.plan_resume(**common)
    elif change == "stop":
        result = ts.plan_stop(**common)
    else:
        raise ValueError(f"Unknown plan change {change!r}")
    alerts_evaluate(patient=patient, now=now)
    return result


def alerts_review(
    *, patient_id: int, changed_at: dt.datetime, now: dt.datetime | None = None
) -> bool:
    """Evaluate one patient's alerts for their record as changed at `changed_at`, unless
    another worker has. The claim and the evaluation commit together: an evaluation that
    fails leaves the change for the next sweep."""
    with transaction.atomic():
        if not AlertReview.objects.claim(patient_id, changed_at):
            return False
        patient = User.objects.select_related("profile", "alert_thresholds").get(pk=patient_id)
        alerts_evaluate(patient=patient, now=now)
    return True


def alerts_review_changed(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """The minute sweep: evaluate each linked patient whose record changed since the clinic
    last looked (a dose, the diary, the plan, the safety screen; an opioid answer is urgent,
    so this runs every minute). Oldest change first. Returns patients evaluated."""
    changed = (
        PatientProfile.objects.filter(record_changed_at__isnull=False)
        .filter(Exists(CareLink.objects.active().filter(patient=OuterRef("user"))))
        .filter(
            Q(user__alert_review__isnull=True)
            | Q(user__alert_review__record_seen_at__lt=F("record_changed_at"))
        )
        .order_by("record_changed_at")
        .values_list("user_id", "record_changed_at")[:limit]
    )
    done = 0
    for patient_id, changed_at in list(changed):
        try:
            done += alerts_review(patient_id=patient_id, changed_at=changed_at, now=now)
        except Exception:
            # One patient's failure must not hold up everyone after them; theirs is retried
            # next minute, since the claim rolled back with it.
            logger.exception("Alert review failed for patient %s", patient_id)
    return done
