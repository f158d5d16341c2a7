"""Who may see which patient. Every clinician view fetches its patient through
`patient_for_clinician`: anything the clinician may not see is a 404, and every answer,
yes or no, is written to the audit log."""

from functools import wraps

from django.http import Http404
from django.shortcuts import redirect

from accounts.models import User

from . import services
from .models import AuditEvent, ClinicianMembership
from .selectors import linked_patients


def is_approved_clinician(user) -> bool:
    if not (user.is_authenticated and user.is_clinician):
        return False
    return ClinicianMembership.objects.approved().filter(clinician=user).exists()


def clinician_required(view):
    """Clinician pages: to anyone else they do not exist; a clinician not yet approved by an
    administrator is told so."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        allowed = user.is_authenticated and user.is_clinician and is_approved_clinician(user)
        if not allowed and "patient_id" in kwargs:
            # A try at a patient's record by someone who may not see any is audited too.
            services.audit_event_record(
                request=request,
                patient_id=kwargs["patient_id"],
                action=AuditEvent.Action.VIEW,
                outcome=AuditEvent.Outcome.DENIED,
            )
        if not (user.is_authenticated and user.is_clinician):
            raise Http404("No such page.")
        if not allowed:
            return redirect("clinic:clinician_pending")
        return view(request, *args, **kwargs)

    return wrapper


def patient_for_clinician(request, patient_id, action=AuditEvent.Action.VIEW) -> User:
    """The patient, if they share their record with this clinician now; else 404.

    Checked on every request, so a revoked link is a 404 on the clinician's next request.
    """
    user = request.user
    patient = None
    if is_approved_clinician(user):
        patient = linked_patients(user).filter(pk=patient_id).select_related("profile").first()
    outcome = AuditEvent.Outcome.ALLOWED if patient else AuditEvent.Outcome.DENIED
    services.audit_event_record(
        request=request, patient_id=patient_id, action=action, outcome=outcome
    )
    if patient is None:
        raise Http404("No such patient.")
    return patient
