import datetime as dt
import json
from urllib.parse import urlencode

from allauth.account.adapter import get_adapter as get_account_adapter
from django.contrib import messages
from django.contrib.auth import login
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import patient_required
from symptoms import documents, exports, fhir, summary
from symptoms import selectors as symptom_selectors
from symptoms.models import QuestionnaireResponse
from titration import adherence as adherence_rules
from titration import schedule as engine
from titration import selectors as titration_selectors
from titration import services as titration_services
from titration.services import PlanChangeNotAllowed

from . import searches, selectors, services
from .access import clinician_required, is_approved_clinician, patient_for_clinician
from .forms import (
    PLAN_FORMS,
    AcknowledgeForm,
    AlertThresholdsForm,
    CareInviteForm,
    ClinicianSignupForm,
    DiaryFilterForm,
    InviteAcceptForm,
    NoteForm,
    PanelForm,
    PatientIdentityForm,
    ShareCodeForm,
)
from .middleware import AFTER_MFA_SETUP_KEY
from .models import (
    Alert,
    AlertThresholds,
    AuditEvent,
    CareLink,
    ClinicianMembership,
    ClinicianNote,
)

DIARY_DAYS = 28

# Clinician accounts --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def clinician_signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = ClinicianSignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.clinician_signup(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password"],
            first_name=form.cleaned_data["first_name"],
            registration_number=form.cleaned_data["registration_number"],
        )
        return redirect("clinic:clinician_signup_done")
    return render(request, "clinic/clinician_signup.html", {"form": form})


def clinician_signup_done(request):
    return render(request, "clinic/clinician_signup_done.html")


@require_http_methods(["GET", "POST"])
def clinician_invite_accept(request, token):
    invite = services.clinician_invite_for_token(token)
    if invite is None:
        # A page that explains, like allauth's answer to an old confirmation link.
        return render(request, "clinic/clinician_invite_invalid.html")
    form = InviteAcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.clinician_invite_accept(
                invite=invite,
                password=form.cleaned_data["password"],
                first_name=form.cleaned_data["first_name"],
            )
        except services.CareLinkNotUsable:
            return render(request, "clinic/clinician_invite_invalid.html")
        login(request, user, backend="allauth.account.auth_backends.AuthenticationBackend")
        messages.info(request, "Welcome. First, set up two-factor authentication.")
        return redirect("clinic:panel")
    return render(request, "clinic/clinician_invite_accept.html", {"form": form, "invite": invite})


@require_GET
def after_mfa_setup(request):
    """The "Continue" button under the recovery codes: back to the page the person was
    going to when they were sent to set up the app, else their usual start page."""
    target = request.session.pop(AFTER_MFA_SETUP_KEY, None)
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = get_account_adapter(request).get_login_redirect_url(request)
    return redirect(target)


def clinician_pending(request):
    if not request.user.is_clinician:
        raise Http404("No such page.")
    if is_approved_clinician(request.user):
        return redirect("clinic:panel")
    membership = ClinicianMembership.objects.filter(clinician=request.user).first()
    return render(request, "clinic/clinician_pending.html", {"membership": membership})


# Panel -------------------------------------------------------------------------------------


def _panel_url(request, options) -> str:
    """The panel's address for these options; a search is named by its id, never its text."""
    params = {key: options[key] for key in ("show", "sort") if options.get(key)}
    if options.get("desc"):
        params["desc"] = "on"
    if options.get("q"):
        params["search"] = searches.search_remember(request.session, options["q"])
    url = reverse("clinic:panel")
    return f"{url}?{urlencode(params)}" if params else url


@require_http_methods(["GET", "POST"])
@clinician_required
def panel(request):
    search_id = request.GET.get("search", "")
    search = searches.search_recall(request.session, search_id)
    if request.method == "POST":
        form = PanelForm(request.POST)
        if form.is_valid():
            return redirect(_panel_url(request, form.cleaned_data))
    else:
        # A "q" in the address is ignored: names stay out of URLs.
        data = {key: request.GET[key] for key in ("show", "sort", "desc") if key in request.GET}
        form = PanelForm({**data, "q": search or ""})
    options = form.cleaned_data if form.is_valid() else {}
    page_obj, rows = selectors.panel(
        request.user,
        filter_by=options.get("show", ""),
        sort=options.get("sort") or "attention",
        descending=options.get("desc", False),
        search=options.get("q", ""),
        page=request.GET.get("page", 1),
    )
    services.audit_events_record_panel(
        request=request,
        patient_ids=[r.patient.pk for r in rows],
        action=AuditEvent.Action.PANEL_SEARCH if options.get("q") else AuditEvent.Action.PANEL,
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "clinic/panel.html",
        {
            "form": form,
            "page_obj": page_obj,
            "rows": rows,
            "query": query.urlencode(),
            "search_ended": bool(search_id) and search is None,
        },
    )


@require_http_methods(["GET", "POST"])
@clinician_required
def care_invite(request):
    membership = ClinicianMembership.objects.select_related("clinic").get(clinician=request.user)
    form = CareInviteForm(request.POST or None, has_clinic=membership.clinic_id is not None)
    link = None
    if request.method == "POST" and form.is_valid():
        link = services.care_invite_create(
            clinician=request.user,
            for_clinic=form.cleaned_data.get("for_clinic", False),
            email=form.cleaned_data["email"],
        )
        form = CareInviteForm(has_clinic=membership.clinic_id is not None)
    pending = CareLink.objects.pending().filter(invited_by=request.user)[:20]
    return render(
        request,
        "clinic/care_invite.html",
        {"form": form, "link": link, "pending": pending, "membership": membership},
    )


# Patient detail ----------------------------------------------------------------------------


def _detail_context(request, patient, thresholds_form=None, identity_form=None):
    plan = titration_selectors.current_plan(patient)
    today = patient.profile.local_today()
    context = {"patient": patient, "plan": plan, "today": today}
    if plan is not None:
        overview = titration_selectors.plan_overview(patient, plan)
        record = overview["record"]
        now = timezone.now()
        tonight = titration_selectors.tonight(patient, plan, now=now, record=record)
        spec = tonight.d.spec
        days = engine.schedule(spec, until=today, since=plan.start_date)
        due_days = [d.day for d in days if d.is_due]
        statuses = spec.logged
        supply = titration_selectors.supply_status(patient, plan, now=now, record=record)
        context.update(
            overview=overview,
            tonight=tonight,
            dose_text=symptom_selectors.dose_text_of(patient, tonight, supply),
            timeline=overview["past"][:DIARY_DAYS],
            report=symptom_selectors.progress_report(patient, plan, today, record=record),
            adherence_7=adherence_rules.adherence(
                today=today,
                days=7,
                due_days=due_days,
                logs=statuses,
                counted_from=spec.counted_from,
            ),
            adherence_28=adherence_rules.adherence(
                today=today,
                days=28,
                due_days=due_days,
                logs=statuses,
                counted_from=spec.counted_from,
            ),
            missed_28=summary.dates_text(
                d
                for d in adherence_rules.missed_days(today=today, due_days=due_days, logs=statuses)
                if d > today - dt.timedelta(days=28)
            ),
            supply=supply,
        )
    diary_form = DiaryFilterForm(request.GET or None)
    filters = diary_form.cleaned_data if diary_form.is_valid() else {}
    until = filters.get("until") or today
    since = filters.get("since") or until - dt.timedelta(days=DIARY_DAYS - 1)
    context.update(
        diary_form=diary_form,
        diary=selectors.diary_rows(patient, since=since, until=until, show=filters.get("show", "")),
        diary_since=since,
        diary_until=until,
        questionnaires=QuestionnaireResponse.objects.filter(patient=patient).order_by(
            "kind", "week"
        ),
        alerts=Alert.objects.filter(patient=patient)
        .prefetch_related("acknowledgements__clinician")
        .order_by("acknowledged_at", "urgency", "-opened_at"),
        notes=[
            (note, note.is_editable_by(request.user))
            for note in ClinicianNote.objects.filter(patient=patient).select_related("author")
        ],
        note_form=NoteForm(),
        ack_form=AcknowledgeForm(),
    )
    thresholds = AlertThresholds.objects.filter(patient=patient).select_related("changed_by")
    context["thresholds"] = thresholds.first()
    context["thresholds_form"] = thresholds_form or AlertThresholdsForm.for_row(
        context["thresholds"]
    )
    context["identity_form"] = identity_form or _identity_form(request, patient)
    return context


def _identity_form(request, patient):
    link = selectors.record_number_link(request.user, patient)
    return PatientIdentityForm(
        initial={
            "mrn": link.mrn if link else "",
            "date_of_birth": patient.profile.date_of_birth,
        }
    )


@clinician_required
def patient_detail(request, patient_id):
    patient = patient_for_clinician(request, patient_id)
    return render(request, "clinic/patient_detail.html", _detail_context(request, patient))


@require_POST
@clinician_required
def alert_acknowledge(request, patient_id, alert_id):
    patient = patient_for_clinician(request, patient_id, action=AuditEvent.Action.ALERT_ACK)
    alert = get_object_or_404(Alert, pk=alert_id, patient=patient)
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        services.alert_acknowledge(
            alert=alert, clinician=request.user, note=form.cleaned_data["note"]
        )
        messages.success(request, f"Alert acknowledged: {alert.get_rule_display()}.")
    if request.POST.get("next") == "panel":
        return redirect("clinic:panel")
    return redirect(reverse("clinic:patient_detail", args=[patient.pk]) + "#alerts")


@require_POST
@clinician_required
def patient_identity(request, patient_id):
    """The clinic's record number and the date of birth, for matching the exports."""
    patient = patient_for_clinician(request, patient_id, action=AuditEvent.Action.IDENTITY)
    form = PatientIdentityForm(request.POST, today=patient.profile.local_today())
    if not form.is_valid():
        context = _detail_context(request, patient, identity_form=form)
        return render(request, "clinic/patient_detail.html", context)
    services.patient_identity_set(
        patient=patient,
        clinician=request.user,
        mrn=form.cleaned_data["mrn"],
        date_of_birth=form.cleaned_data["date_of_birth"],
    )
    messages.success(request, "Saved. The exports carry the record number and date of birth.")
    return redirect(reverse("clinic:patient_detail", args=[patient.pk]) + "#identity")


@require_POST
@clinician_required
def opioid_clear(request, patient_id):
    """The linked clinician has checked the patient's opioid use: the plan may go on."""
    patient = patient_for_clinician(request, patient_id, action=AuditEvent.Action.PLAN_CHANGE)
    titration_services.opioid_block_clear(patient=patient, clinician=request.user)
    messages.success(request, "Cleared: the patient's plan can go on. They see it on Today.")
    return redirect("clinic:patient_plan", patient.pk)


@require_POST
@clinician_required
def alert_settings(request, patient_id):
    patient = patient_for_clinician(request, patient_id, action=AuditEvent.Action.ALERT_SETTINGS)
    form = AlertThresholdsForm(request.POST)
    if form.is_valid():
        services.alert_thresholds_set(
            patient=patient, clinician=request.user, values=form.cleaned_data
        )
        messages.success(request, "Alert settings saved. The alerts were checked again with them.")
        return redirect(reverse("clinic:patient_detail", args=[patient.pk]) + "#alert-settings")
    # The whole page again, with each message next to its field.
    context = _detail_context(request, patient, thresholds_form=form)
    return render(request, "clinic/patient_detail.html", context)


@require_POST
@clinician_required
def note_add(request, patient_id):
    patient = patient_for_clinician(request, patient_id, action=AuditEvent.Action.NOTE)
    form = NoteForm(request.POST)
    if form.is_valid():
        note = services.clinician_note_add(
            patient=patient, author=request.user, text=form.cleaned_data["text"]
        )
        messages.success(request, "Note saved.")
        return redirect(note)
    messages.error(request, "A note can't be empty.")
    return redirect("clinic:patient_detail", patient.pk)


@require_http_methods(["GET", "POST"])
@clinician_required
def note_edit(request, patient_id, note_id):
    patient = patient_for_clinician(request, patient_id, action=AuditEvent.Action.NOTE)
    note = get_object_or_404(ClinicianNote, pk=note_id, patient=patient)
    if not note.is_editable_by(request.user):
        messages.info(request, "Notes can only be changed by their author within 24 hours.")
        return redirect(note)
    form = NoteForm(request.POST or None, initial={"text": note.text})
    if request.method == "POST" and form.is_valid():
        try:
            services.clinician_note_edit(
                note=note, author=request.user, text=form.cleaned_data["text"]
            )
        except services.NoteLocked as exc:
            messages.info(request, str(exc))
        else:
            messages.success(request, "Note updated.")
        return redirect(note)
    return render(
        request, "clinic/note_edit.html", {"patient": patient, "note": note, "form": form}
    )


# Plan control ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@clinician_required
def patient_plan(request, patient_id):
    """The plan and the changes that fit it today. A change is shown first as the schedule
    it would leave; a second press, on that preview, records it."""
    is_post = request.method == "POST"
    action = AuditEvent.Action.PLAN_CHANGE if is_post else AuditEvent.Action.VIEW
    patient = patient_for_clinician(request, patient_id, action=action)
    plan = titration_selectors.current_plan(patient)
    change = request.POST.get("change") if is_post else None
    if is_post and change not in PLAN_FORMS:
        raise Http404("No such change.")
    available = selectors.plan_state(patient, plan)[1] if plan is not None else []
    shown = [*available, change] if is_post and change not in available else available
    forms = {
        name: PLAN_FORMS[name](request.POST if name == change else None, prefix=name)
        for name in shown
    }
    preview = None
    if is_post and plan is not None and change not in available:
        forms[change].add_error(None, "That change doesn't fit the plan today.")
    elif is_post and plan is not None and forms[change].is_valid():
        values = forms[change].cleaned_data
        if request.POST.get("confirm") != "yes":
            try:
                preview = selectors.plan_change_preview(patient, plan, change, values)
            except ValueError as exc:
                forms[change].add_error(None, str(exc))
        else:
            try:
                services.plan_adjust(
                    patient=patient, clinician=request.user, change=change, values=values
                )
            except PlanChangeNotAllowed as exc:
                forms[change].add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    f"{services.PLAN_CHANGES[change]}: done. The patient sees it on Today.",
                )
                return redirect("clinic:patient_plan", patient.pk)
    context = {
        "patient": patient,
        "plan": plan,
        "forms": forms,
        "labels": services.PLAN_CHANGES,
        "preview": preview,
        "opioid_blocked": titration_selectors.plan_blocked_by_screening(patient),
    }
    if plan is not None:
        today = patient.profile.local_today()
        context["tonight"] = titration_selectors.tonight(patient, plan)
        context["overview"] = titration_selectors.plan_overview(patient, plan)
        context["today"] = today
    status = 400 if is_post and preview is None else 200
    return render(request, "clinic/patient_plan.html", context, status=status)


# Exports -----------------------------------------------------------------------------------


def _attachment(patient, what: str, day: dt.date, extension: str) -> str:
    """A download named so a clinician can find it again, e.g. ldn-report-alex-2026-11-20.pdf:
    the patient's name in plain ASCII (no internal ids) and the patient's date."""
    name = slugify(patient.get_short_name()) or "patient"
    return content_disposition_header(True, f"ldn-{what}-{name}-{day:%Y-%m-%d}.{extension}")


@clinician_required
def export_pdf(request, patient_id):
    patient = patient_for_clinician(request, patient_id, action=AuditEvent.Action.EXPORT_PDF)
    plan = titration_selectors.current_plan(patient)
    if plan is None:
        raise Http404("No plan to report on.")
    start, end = symptom_selectors.report_period(plan, patient.profile.local_today())
    context = symptom_selectors.report_context(
        patient, plan, start, end, paper_size=selectors.clinic_paper_size(request.user)
    )
    context.update(copy="clinician", open_alerts=Alert.objects.filter(patient=patient).open())
    pdf = documents.report_pdf(context=context)
    return HttpResponse(
        pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": _attachment(patient, "report", end, "pdf")},
    )


@clinician_required
def export_csv(request, patient_id):
    patient = patient_for_clinician(request, patient_id, action=AuditEvent.Action.EXPORT_CSV)
    # The clinic's copy: notes the patient did not share stay out.
    archive = exports.patient_export_zip(patient, shared_notes_only=True)
    return HttpResponse(
        archive,
        content_type="application/zip",
        headers={
            "Content-Disposition": _attachment(
                patient, "data", patient.profile.local_today(), "zip"
            )
        },
    )


@clinician_required
def export_fhir(request, patient_id):
    patient = patient_for_clinician(request, patient_id, action=AuditEvent.Action.EXPORT_FHIR)
    kind = "document" if request.GET.get("type") == "document" else "transaction"
    bundle = fhir.patient_bundle(
        patient,
        now=timezone.now(),
        kind=kind,
        record_number=selectors.record_number_for(request.user, patient),
    )
    return HttpResponse(
        json.dumps(bundle, cls=DjangoJSONEncoder),
        content_type="application/fhir+json",
        headers={
            "Content-Disposition": _attachment(
                patient,
                "fhir" if kind == "transaction" else "fhir-document",
                patient.profile.local_today(),
                "json",
            )
        },
    )


# The patient's side: sharing ---------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@patient_required
def sharing(request):
    form = ShareCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return redirect("clinic:sharing_accept", form.cleaned_data["code"])
    links = CareLink.objects.filter(patient=request.user, accepted_at__isnull=False).select_related(
        "clinician", "clinic"
    )
    return render(
        request,
        "clinic/sharing.html",
        {
            "form": form,
            "active": [link for link in links if link.is_active],
            "ended": [link for link in links if not link.is_active],
        },
    )


@require_http_methods(["GET", "POST"])
@patient_required
def sharing_accept(request, code):
    """The emailed link and the code form both land here: one click to confirm, so a mail
    scanner opening the link shares nothing."""
    try:
        link = services.care_link_for_code(code)
    except services.CareLinkNotUsable as exc:
        messages.info(request, str(exc))
        return redirect("clinic:sharing")
    if request.method == "POST":
        try:
            link = services.care_link_accept(patient=request.user, code=code)
        except services.CareLinkNotUsable as exc:
            messages.info(request, str(exc))
        else:
            messages.success(request, f"You now share your record with {link.recipient_name}.")
        return redirect("clinic:sharing")
    return render(request, "clinic/sharing_accept.html", {"link": link})


@require_POST
@patient_required
def sharing_revoke(request, link_id):
    link = get_object_or_404(CareLink.objects.active(), pk=link_id, patient=request.user)
    services.care_link_revoke(link=link, by=request.user)
    messages.success(request, f"{link.recipient_name} can no longer see your record.")
    return redirect("clinic:sharing")


@patient_required
def sharing_log(request):
    events = selectors.access_log_for_patient(request.user)
    return render(request, "clinic/sharing_log.html", {"events": events})
