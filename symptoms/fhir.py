"""A patient's record as a FHIR R4 Bundle (plain JSON dictionaries).

A `transaction` Bundle by default, which a FHIR server can import: every entry has a
`urn:uuid` fullUrl and a conditional-create `request` (on the app's identifier of the row), so
importing the same export twice creates nothing new. A `document` Bundle (a Composition
first) when a document is asked for. What it holds:

- Patient (the app's identifier, the clinic's record number when a clinician entered one,
  given name, birth date when known),
- Medication (naltrexone, capsule or oral solution, with its strength) and, per plan, a
  MedicationRequest with one dosage per dose step (mg in UCUM, once a day at bedtime or in
  the morning, the step's dates), reason fibromyalgia,
- MedicationAdministration for every taken dose (at the instant taken) and, as `not-done`,
  every skipped or missed night,
- Observations for the diary: ratings (pain in LOINC; the rest in the app's CodeSystem,
  included, as LOINC has no code for these single 0-10 items), side effects with their
  severity, factors and notes,
- Questionnaire and QuestionnaireResponse for FIQR and PGIC, and the FIQR total as an
  Observation derived from its response.

The tests validate every resource with the fhir.resources models (R4B, which shares these
resources with R4), so the app itself does not depend on that library.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from titration import schedule as engine
from titration import selectors as titration_selectors
from titration.models import DoseLog, Plan, PlanEvent, SupplyEntry
from titration.templatetags.dose import mg as format_mg

from . import questionnaires as q
from .models import FACTORS, RATINGS, SIDE_EFFECTS, DiaryEntry, QuestionnaireResponse, Severity

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DOSE_RATE_TYPE = "http://terminology.hl7.org/CodeSystem/dose-rate-type"
TIMING_WHEN = {"bedtime": "HS", "morning": "MORN"}  # HL7 event timing

# The product's own definitions: one canonical for every installation.
CANONICAL = "https://ldn-tracker.example/fhir"
DIARY_SYSTEM = f"{CANONICAL}/CodeSystem/diary"
PGIC_SYSTEM = f"{CANONICAL}/CodeSystem/pgic"
DOSE_DATE_EXTENSION = f"{CANONICAL}/StructureDefinition/dose-date"
QUESTIONNAIRE_URL = {
    q.FIQR: f"{CANONICAL}/Questionnaire/fiqr",
    q.PGIC: f"{CANONICAL}/Questionnaire/pgic",
}

PROFILE = {
    "Patient": "http://hl7.org/fhir/uv/ips/StructureDefinition/Patient-uv-ips",
    "Medication": "http://hl7.org/fhir/uv/ips/StructureDefinition/Medication-uv-ips",
    "MedicationRequest": "http://hl7.org/fhir/uv/ips/StructureDefinition/MedicationRequest-uv-ips",
    "Questionnaire": "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire",
    "QuestionnaireResponse": (
        "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaireresponse"
    ),
}

NALTREXONE = {
    "coding": [{"system": RXNORM, "code": "7243", "display": "naltrexone"}],
    "text": "Naltrexone (low-dose, compounded)",
}
FORMS = {
    "capsule": {"coding": [{"system": SNOMED, "code": "385049006", "display": "Capsule"}]},
    "liquid": {"coding": [{"system": SNOMED, "code": "385023001", "display": "Oral solution"}]},
}
ORAL = {"coding": [{"system": SNOMED, "code": "26643006", "display": "Oral route"}]}
FIBROMYALGIA = {
    "coding": [{"system": SNOMED, "code": "203082005", "display": "Fibromyalgia"}],
    "text": "Fibromyalgia",
}
SURVEY = [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}]

PAIN_CODE = (LOINC, "72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
# Side effects a SNOMED CT finding names exactly; the app's own code is always there too.
SIDE_EFFECT_SNOMED = {
    "headache": ("25064002", "Headache"),
    "nausea": ("422587007", "Nausea"),
    "dizziness": ("404640003", "Dizziness"),
    "insomnia": ("193462001", "Insomnia"),
    "anxiety": ("48694002", "Anxiety"),
    "reduced_appetite": ("79890006", "Loss of appetite"),
}
SEVERITY_SNOMED = {
    Severity.MILD: ("255604002", "Mild"),
    Severity.MODERATE: ("6736007", "Moderate"),
    Severity.SEVERE: ("24484000", "Severe"),
}
NOT_DONE_REASON = {
    DoseLog.Status.SKIPPED: ("skipped", "Skipped by the patient"),
    "missed": ("missed", "Not recorded as taken or skipped by the end of its window"),
}
FIQR_TOTAL_CODE = "fiqr-total"
NOTE_CODE = "diary-note"
ONE_IDENTIFIER = {"QuestionnaireResponse", "Composition"}  # 0..1 in R4, a list elsewhere
NAMESPACE = uuid.UUID("6f1c2a9e-7c55-4a0e-9a57-3d1f3f0b6a51")
SCHEDULE_HORIZON_DAYS = 400  # long enough for any plan's last step to begin


@dataclass(frozen=True)
class RecordNumber:
    """A clinic's medical record number for the patient (entered by a linked clinician)."""

    value: str
    system: str
    assigner: str


def site_system(name: str) -> str:
    """Identifier systems of this installation: its rows' ids are unique only here."""
    return f"{settings.SITE_URL.rstrip('/')}/fhir/{name}"


def patient_identifier_system() -> str:
    return site_system("patient")


def record_identifier_system() -> str:
    return site_system("record")


def _uuid(key: str) -> str:
    # Stable: the same row exported twice gets the same fullUrl and identifier.
    return str(uuid.uuid5(NAMESPACE, key))


def _coding(system, code, display=None) -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _mg(value) -> dict:
    return {"value": float(value), "unit": "mg", "system": UCUM, "code": "mg"}


def _div(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{escaped}</p></div>'


class _Builder:
    """Collects the entries of one Bundle; `add` names each row by a stable key."""

    def __init__(self, patient, *, kind: str, logged_days=frozenset()):
        self.patient = patient
        self.kind = kind
        self.logged_days = logged_days  # dates with a dose logged (under any plan)
        self.entries = []
        self.patient_url = self.url("patient", patient.pk)
        self.subject = {"reference": self.patient_url}

    @staticmethod
    def url(*key) -> str:
        return f"urn:uuid:{_uuid('/'.join(str(part) for part in key))}"

    def add(self, resource: dict, *key, if_none_exist: str | None = None) -> str:
        full_url = self.url(*key)
        if if_none_exist is None:
            value = "/".join(str(part) for part in key)
            identifier = {"system": record_identifier_system(), "value": value}
            if resource["resourceType"] in ONE_IDENTIFIER:
                resource["identifier"] = identifier
            else:
                resource.setdefault("identifier", []).insert(0, identifier)
            if_none_exist = f"identifier={record_identifier_system()}|{value}"
        entry = {"fullUrl": full_url, "resource": resource}
        if self.kind == "transaction":
            entry["request"] = {
                "method": "POST",
                "url": resource["resourceType"],
                "ifNoneExist": if_none_exist,
            }
        self.entries.append(entry)
        return full_url


# Definitions ------------------------------------------------------------------------------


def diary_code_system() -> dict:
    concepts = [
        {
            "code": name,
            "display": f"{label} (0-10)",
            "definition": f"{label}, {when}, rated 0 ({low}) to 10 ({high}).",
        }
        for name, (label, when, low, high, _) in RATINGS.items()
        if name != "pain"
    ]
    concepts += [
        {
            "code": f"side-effect-{name}",
            "display": label,
            "definition": f"Side effect reported in the diary: {label.lower()}.",
        }
        for name, label in SIDE_EFFECTS.items()
    ]
    concepts += [
        {
            "code": f"factor-{name}",
            "display": label,
            "definition": f"Whether the day had this factor: {label.lower()} (yes or no).",
        }
        for name, label in FACTORS.items()
    ]
    concepts += [
        {"code": NOTE_CODE, "display": "Diary note", "definition": "The patient's own words."},
        {
            "code": FIQR_TOTAL_CODE,
            "display": "FIQR total score (0-100)",
            "definition": "Function sum / 3 + overall sum + symptoms sum / 2 (Bennett 2009).",
        },
        *(
            {"code": code, "display": display, "definition": display}
            for code, display in NOT_DONE_REASON.values()
        ),
    ]
    return {
        "resourceType": "CodeSystem",
        "url": DIARY_SYSTEM,
        "name": "DiaryCodes",
        "title": "Daily diary and dose codes",
        "status": "active",
        "content": "complete",
        "caseSensitive": True,
        "concept": concepts,
    }


def _integer_item(link_id, text, low=0, high=10) -> dict:
    return {
        "linkId": link_id,
        "text": text,
        "type": "integer",
        "required": True,
        "extension": [
            {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": low},
            {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": high},
        ],
    }


# The words the patient sees (symptoms/forms.py and its templates), over the past 7 days.
FIQR_GROUPS = (
    ("function", "How hard was it to… (0 very easy, 10 very difficult)", q.FIQR_FUNCTION),
    ("overall", "Overall (0 never, 10 always)", q.FIQR_OVERALL),
    ("symptoms", "Your symptoms (0-10, the anchors in each item)", q.FIQR_SYMPTOMS),
)
PGIC_QUESTION = (
    "Since you started LDN, how would you describe any change in your activity, symptoms, "
    "emotions and overall quality of life related to your fibromyalgia?"
)


def _questionnaire(kind: str, name: str, title: str, items: list) -> dict:
    return {
        "resourceType": "Questionnaire",
        "meta": {"profile": [PROFILE["Questionnaire"]]},
        "url": QUESTIONNAIRE_URL[kind],
        "name": name,
        "title": title,
        "status": "active",
        "subjectType": ["Patient"],
        "item": items,
    }


def _fiqr_item_text(item) -> str:
    # Symptom items carry their own anchors: ("s1", "Your level of pain", "No pain", ...).
    return f"{item[1]} (0 {item[2]}, 10 {item[3]})" if len(item) == 4 else item[1]


def fiqr_questionnaire() -> dict:
    groups = [
        {
            "linkId": group,
            "text": text,
            "type": "group",
            "required": True,
            "item": [_integer_item(item[0], _fiqr_item_text(item)) for item in items],
        }
        for group, text, items in FIQR_GROUPS
    ]
    return _questionnaire(
        q.FIQR, "FIQR", "Revised Fibromyalgia Impact Questionnaire (FIQR), past 7 days", groups
    )


def pgic_questionnaire() -> dict:
    item = {
        "linkId": "pgic",
        "text": PGIC_QUESTION,
        "type": "choice",
        "required": True,
        "answerOption": [
            {"valueCoding": _coding(PGIC_SYSTEM, str(value), text)}
            for value, text in q.PGIC_CHOICES
        ],
    }
    return _questionnaire(q.PGIC, "PGIC", "Patient Global Impression of Change (PGIC)", [item])


# The patient and the plan -----------------------------------------------------------------


def _patient(patient, record_number: RecordNumber | None) -> dict:
    identifiers = [
        {"use": "usual", "system": patient_identifier_system(), "value": patient.record_id}
    ]
    if record_number is not None:
        identifiers.append(
            {
                "use": "official",
                "type": {
                    "coding": [_coding(V2_IDENTIFIER_TYPE, "MR", "Medical record number")],
                    "text": "Medical record number",
                },
                "system": record_number.system,
                "value": record_number.value,
                "assigner": {"display": record_number.assigner},
            }
        )
    resource = {
        "resourceType": "Patient",
        "identifier": identifiers,
        "active": True,
        "telecom": [{"system": "email", "value": patient.email}],
    }
    first_name = " ".join(patient.first_name.split())
    if first_name:
        resource["name"] = [{"use": "usual", "text": first_name, "given": first_name.split()}]
    birth_date = patient.profile.date_of_birth
    if birth_date:
        resource["birthDate"] = birth_date.isoformat()
    if first_name and birth_date:
        # The International Patient Summary's Patient needs a name and a birth date.
        resource["meta"] = {"profile": [PROFILE["Patient"]]}
    return resource


def _strength(profile) -> tuple[str, dict | None]:
    """The formulation and its strength: the liquid's concentration, or the latest batch of
    capsules."""
    if profile.is_liquid:
        if not profile.concentration_mg_per_ml:
            return "liquid", None
        return "liquid", {
            "numerator": _mg(profile.concentration_mg_per_ml),
            "denominator": {"value": 1, "unit": "mL", "system": UCUM, "code": "mL"},
        }
    batch = (
        SupplyEntry.objects.filter(patient=profile.user, capsule_strength_mg__isnull=False)
        .values_list("capsule_strength_mg", flat=True)
        .first()
    )
    if batch is None:
        return "capsule", None
    return "capsule", {
        "numerator": _mg(batch),
        "denominator": {"value": 1, "unit": "capsule", "system": UCUM, "code": "{capsule}"},
    }


def _medication(profile) -> dict:
    form, strength = _strength(profile)
    ingredient = {"itemCodeableConcept": NALTREXONE, "isActive": True}
    if strength:
        ingredient["strength"] = strength
    return {
        "resourceType": "Medication",
        "meta": {"profile": [PROFILE["Medication"]]},
        "code": NALTREXONE,
        "form": FORMS[form],
        "ingredient": [ingredient],
    }


@dataclass(frozen=True)
class Stretch:
    """Consecutive days on one dose: one dose step as it happened (or is planned)."""

    dose_mg: Decimal
    start: dt.date
    end: dt.date | None  # None: carries on


def dose_stretches(spec: engine.PlanSpec, *, until: dt.date, open_ended: bool) -> list[Stretch]:
    """The plan's doses as runs of days, holds and step-backs included: a pause or a stop
    ends a run. With `open_ended`, a run still going at `until` has no end."""
    stretches, current, last_day = [], None, None
    for day in engine.schedule(spec, until=until):
        if day.dose_mg is not None and current is not None and day.dose_mg == current.dose_mg:
            last_day = day.day
            continue
        if current is not None:
            stretches.append(Stretch(current.dose_mg, current.start, last_day))
            current = None
        if day.dose_mg is not None:
            current, last_day = Stretch(day.dose_mg, day.day, None), day.day
    if current is not None:
        end = None if open_ended and last_day == until else last_day
        stretches.append(Stretch(current.dose_mg, current.start, end))
    return stretches


def _dose_words(dose_mg, profile) -> str:
    words = f"{format_mg(dose_mg)} mg"
    ml = titration_selectors.dose_ml(dose_mg, profile)
    if ml is not None:
        strength = f"{profile.concentration_mg_per_ml.normalize():f}"
        words += f" = {ml} mL of {strength} mg/mL"
    return words


def _dosage(sequence: int, stretch: Stretch, profile) -> dict:
    when = TIMING_WHEN.get(profile.dose_time or "bedtime", "HS")
    bounds = {"start": stretch.start.isoformat()}
    if stretch.end is not None:
        bounds["end"] = stretch.end.isoformat()
    period = f"from {stretch.start}" + (f" to {stretch.end}" if stretch.end else " on")
    moment = "in the morning" if when == "MORN" else "at bedtime"
    return {
        "sequence": sequence,
        "text": f"{_dose_words(stretch.dose_mg, profile)} once a day {moment}, {period}",
        "timing": {
            "repeat": {
                "boundsPeriod": bounds,
                "frequency": 1,
                "period": 1,
                "periodUnit": "d",
                "when": [when],
            }
        },
        "route": ORAL,
        "doseAndRate": [
            {
                "type": {"coding": [_coding(DOSE_RATE_TYPE, "ordered", "Ordered")]},
                "doseQuantity": _mg(stretch.dose_mg),
            }
        ],
    }


@dataclass(frozen=True)
class PlanRecord:
    plan: Plan
    record: titration_selectors.Record
    stopped_on: dt.date | None


def _plan_request(
    item: PlanRecord, *, medication_url, subject, now, current: bool, ips: bool
) -> dict:
    profile = item.plan.patient.profile
    decision = item.record.decide(now)
    until = decision.local_today + dt.timedelta(days=SCHEDULE_HORIZON_DAYS)
    stretches = dose_stretches(decision.spec, until=until, open_ended=current)
    resource = {
        "resourceType": "MedicationRequest",
        "status": "active" if current and item.stopped_on is None else "stopped",
        "intent": "order",
        "reportedBoolean": True,
        "medicationReference": {"reference": medication_url},
        "subject": subject,
        "authoredOn": item.plan.created_at.isoformat(),
        "reasonCode": [FIBROMYALGIA],
        "note": [
            {
                "text": f"Titration plan: {item.plan.get_protocol_display()}, target "
                f"{format_mg(item.plan.target_mg)} mg."
            }
        ],
        "dosageInstruction": [
            _dosage(index, stretch, profile) for index, stretch in enumerate(stretches, 1)
        ],
    }
    if ips:
        resource["meta"] = {"profile": [PROFILE["MedicationRequest"]]}
    if current and decision.dose_mg is not None:
        # The dose the patient is told to take, from the one dose decision.
        resource["note"].append(
            {
                "time": now.isoformat(),
                "text": f"Dose for {decision.dose_day}: {_dose_words(decision.dose_mg, profile)}.",
            }
        )
    return resource


def _stop_day(plan: Plan, events) -> dt.date | None:
    stops = [e.effective_date for e in events if e.kind == PlanEvent.Kind.STOP]
    return min(stops) if stops else None


def plan_records(patient, *, now) -> list[PlanRecord]:
    """Every plan of the patient, oldest first, with what the dose decision reads."""
    items = []
    for plan in Plan.objects.filter(patient=patient).order_by("created_at", "id"):
        record = titration_selectors.record_of(patient, plan, now=now)
        items.append(PlanRecord(plan, record, _stop_day(plan, record.events)))
    return items


# Doses ------------------------------------------------------------------------------------


def _administration(
    *, status, day, instant, dose_mg, reason, medication_url, request_url, subject
) -> dict:
    resource = {
        "resourceType": "MedicationAdministration",
        "extension": [{"url": DOSE_DATE_EXTENSION, "valueDate": day.isoformat()}],
        "status": status,
        "medicationReference": {"reference": medication_url},
        "subject": subject,
        "effectiveDateTime": instant.isoformat(),
        "performer": [{"actor": subject}],
        "request": {"reference": request_url},
        "dosage": {"route": ORAL, "dose": _mg(dose_mg)},
    }
    if reason is not None:
        code, display = NOT_DONE_REASON[reason[0]]
        resource["statusReason"] = [
            {"coding": [_coding(DIARY_SYSTEM, code, display)], "text": reason[1] or display}
        ]
    return resource


def _dose_entries(builder: _Builder, item: PlanRecord, *, medication_url, request_url, now):
    record, plan = item.record, item.plan
    clock = record.inputs.clock
    for day in sorted(record.logs):
        log = record.logs[day]
        taken = log.status == DoseLog.Status.TAKEN
        resource = _administration(
            status="completed" if taken else "not-done",
            day=day,
            instant=(log.taken_at or log.logged_at) if taken else clock.scheduled(day),
            dose_mg=log.dose_mg,
            reason=None if taken else (DoseLog.Status.SKIPPED, log.skip_reason),
            medication_url=medication_url,
            request_url=request_url,
            subject=builder.subject,
        )
        if log.is_reported_when_joining:
            # On the patient's word, for a night before they joined: not logged that night.
            resource["note"] = [{"text": log.get_source_display()}]
        builder.add(resource, "dose", log.pk)
    today = record.decide(now).local_today
    for row in titration_selectors.day_rows(
        plan.patient, record, since=plan.start_date, until=today, now=now
    ):
        if row.status != "missed" or row.day in builder.logged_days:
            continue
        builder.add(
            _administration(
                status="not-done",
                day=row.day,
                instant=clock.scheduled(row.day),
                dose_mg=row.dose_mg,
                reason=("missed", ""),
                medication_url=medication_url,
                request_url=request_url,
                subject=builder.subject,
            ),
            "missed",
            plan.pk,
            row.day.isoformat(),
        )


# The diary --------------------------------------------------------------------------------


def _observation(entry: DiaryEntry, subject, code: dict, value: dict) -> dict:
    return {
        "resourceType": "Observation",
        "status": "amended" if entry.edited_after_day else "final",
        "category": SURVEY,
        "code": code,
        "subject": subject,
        "effectiveDateTime": entry.date.isoformat(),
        "issued": entry.updated_at.isoformat(),
        "performer": [subject],
        **value,
    }


def _rating_code(name: str) -> dict:
    label, when, low, high, _ = RATINGS[name]
    system, code, display = PAIN_CODE if name == "pain" else (DIARY_SYSTEM, name, f"{label} (0-10)")
    return {"coding": [_coding(system, code, display)], "text": f"{label} ({when}), 0-10"}


def _rating_value(name: str, value: int) -> dict:
    label, _, low, high, _ = RATINGS[name]
    return {
        "valueInteger": value,
        "referenceRange": [{"text": f"0 = {low}, 10 = {high}"}],
    }


def _side_effect_code(entry: DiaryEntry, name: str) -> dict:
    label = SIDE_EFFECTS[name]
    codings = [_coding(DIARY_SYSTEM, f"side-effect-{name}", label)]
    if name in SIDE_EFFECT_SNOMED:
        codings.append(_coding(SNOMED, *SIDE_EFFECT_SNOMED[name]))
    text = f"Side effect: {label}"
    if name == "other" and entry.other_text:
        text += f" ({entry.other_text})"
    return {"coding": codings, "text": text}


def _diary_entries(builder: _Builder, *, include_private_notes: bool):
    for entry in DiaryEntry.objects.filter(patient=builder.patient).order_by("date"):
        subject = builder.subject
        for name in RATINGS:
            value = getattr(entry, name)
            if value is not None:
                builder.add(
                    _observation(entry, subject, _rating_code(name), _rating_value(name, value)),
                    "diary",
                    entry.pk,
                    name,
                )
        for name in SIDE_EFFECTS:
            level = getattr(entry, name)
            if level:  # none (or not asked) is not a side effect
                code, display = SEVERITY_SNOMED[Severity(level)]
                builder.add(
                    _observation(
                        entry,
                        subject,
                        _side_effect_code(entry, name),
                        {
                            "valueCodeableConcept": {
                                "coding": [_coding(SNOMED, code, display)],
                                "text": display,
                            }
                        },
                    ),
                    "diary",
                    entry.pk,
                    f"side-effect-{name}",
                )
        for name, label in FACTORS.items():
            value = getattr(entry, name)
            if value is not None:
                code = {"coding": [_coding(DIARY_SYSTEM, f"factor-{name}", label)], "text": label}
                builder.add(
                    _observation(entry, subject, code, {"valueBoolean": value}),
                    "diary",
                    entry.pk,
                    f"factor-{name}",
                )
        if entry.notes and (entry.share_notes or include_private_notes):
            code = {"coding": [_coding(DIARY_SYSTEM, NOTE_CODE, "Diary note")], "text": "Note"}
            builder.add(
                _observation(entry, subject, code, {"valueString": entry.notes}),
                "diary",
                entry.pk,
                NOTE_CODE,
            )


# Questionnaires ---------------------------------------------------------------------------


def _fiqr_items(answers) -> list:
    groups = []
    for group, text, items in FIQR_GROUPS:
        answered = [
            {
                "linkId": item[0],
                "text": _fiqr_item_text(item),
                "answer": [{"valueInteger": int(answers[item[0]])}],
            }
            for item in items
            if item[0] in answers
        ]
        if answered:  # FHIR has no empty lists
            groups.append({"linkId": group, "text": text, "item": answered})
    return groups


def _pgic_items(answers) -> list:
    value = int(answers["pgic"])
    text = dict(q.PGIC_CHOICES)[value]
    return [
        {
            "linkId": "pgic",
            "text": PGIC_QUESTION,
            "answer": [{"valueCoding": _coding(PGIC_SYSTEM, str(value), text)}],
        }
    ]


def _questionnaire_entries(builder: _Builder):
    for response in QuestionnaireResponse.objects.filter(patient=builder.patient).order_by(
        "completed_at", "id"
    ):
        items = _fiqr_items if response.kind == q.FIQR else _pgic_items
        response_url = builder.add(
            {
                "resourceType": "QuestionnaireResponse",
                "meta": {"profile": [PROFILE["QuestionnaireResponse"]]},
                "questionnaire": QUESTIONNAIRE_URL[response.kind],
                "status": "completed",
                "subject": builder.subject,
                "authored": response.completed_at.isoformat(),
                "author": builder.subject,
                "source": builder.subject,
                "item": items(response.answers),
            },
            "questionnaire",
            response.pk,
        )
        if response.kind == q.FIQR:
            builder.add(
                {
                    "resourceType": "Observation",
                    "status": "final",
                    "category": SURVEY,
                    "code": {
                        "coding": [
                            _coding(DIARY_SYSTEM, FIQR_TOTAL_CODE, "FIQR total score (0-100)")
                        ],
                        "text": f"FIQR total (week {response.week} of the plan)",
                    },
                    "subject": builder.subject,
                    "effectiveDateTime": response.completed_at.isoformat(),
                    "performer": [builder.subject],
                    "valueQuantity": {
                        "value": float(response.score),
                        "unit": "score",
                        "system": UCUM,
                        "code": "{score}",
                    },
                    "derivedFrom": [{"reference": response_url}],
                },
                "questionnaire",
                response.pk,
                "total",
            )


# The Bundle -------------------------------------------------------------------------------


def _composition(builder: _Builder, *, now, summary: str, sections) -> dict:
    return {
        "resourceType": "Composition",
        "identifier": {
            "system": record_identifier_system(),
            "value": f"composition/{_uuid(f'{builder.patient.pk}/{now.isoformat()}')}",
        },
        "status": "final",
        "type": {"coding": [_coding(LOINC, "60591-5", "Patient summary Document")]},
        "subject": builder.subject,
        "date": now.isoformat(),
        "author": [builder.subject],
        "title": "LDN titration record and patient-reported outcomes",
        "text": {"status": "generated", "div": _div(summary)},
        "section": sections,
    }


def patient_bundle(
    patient,
    *,
    now: dt.datetime,
    kind: str = "transaction",
    record_number: RecordNumber | None = None,
    include_private_notes: bool = False,
) -> dict:
    """The patient's record as a `transaction` (default) or `document` Bundle. Notes the
    patient did not share are left out unless `include_private_notes` (their own copy)."""
    if kind not in ("transaction", "document"):
        raise ValueError("kind is transaction or document")
    logged = DoseLog.objects.filter(patient=patient).values_list("date", flat=True)
    builder = _Builder(patient, kind=kind, logged_days=frozenset(logged))
    patient_resource = _patient(patient, record_number)
    ips = "meta" in patient_resource
    builder.add(
        patient_resource,
        "patient",
        patient.pk,
        if_none_exist=f"identifier={patient_identifier_system()}|{patient.record_id}",
    )
    for definition in (diary_code_system(), fiqr_questionnaire(), pgic_questionnaire()):
        builder.add(
            definition, "definition", definition["url"], if_none_exist=f"url={definition['url']}"
        )
    medication_url = builder.add(_medication(patient.profile), "medication", patient.pk)
    first_dose_entry = len(builder.entries)
    items = plan_records(patient, now=now)
    summary = "No plan recorded."
    for index, item in enumerate(items):
        current = index == len(items) - 1
        request = _plan_request(
            item,
            medication_url=medication_url,
            subject=builder.subject,
            now=now,
            current=current,
            ips=ips,
        )
        if current:
            summary = " ".join(note["text"] for note in request["note"])
        request_url = builder.add(request, "plan", item.plan.pk)
        _dose_entries(
            builder, item, medication_url=medication_url, request_url=request_url, now=now
        )
    medication_urls = [e["fullUrl"] for e in builder.entries[first_dose_entry - 1 :]]
    first_diary = len(builder.entries)
    _diary_entries(builder, include_private_notes=include_private_notes)
    diary_urls = [e["fullUrl"] for e in builder.entries[first_diary:]]
    first_questionnaire = len(builder.entries)
    _questionnaire_entries(builder)
    questionnaire_urls = [e["fullUrl"] for e in builder.entries[first_questionnaire:]]

    bundle = {"resourceType": "Bundle", "type": kind, "timestamp": now.isoformat()}
    if kind == "document":
        sections = [
            _section(
                "Medication use",
                medication_urls,
                summary,
                code=("10160-0", "History of Medication use Narrative"),
            ),
            _section(
                "Daily diary (patient-reported)",
                diary_urls,
                f"{len(diary_urls)} diary observations.",
            ),
            _section(
                "Questionnaires (FIQR, PGIC)",
                questionnaire_urls,
                f"{len(questionnaire_urls)} questionnaire resources.",
            ),
        ]
        composition = _composition(builder, now=now, summary=summary, sections=sections)
        bundle["identifier"] = {
            "system": record_identifier_system(),
            "value": _uuid(f"document/{patient.pk}/{now.isoformat()}"),
        }
        builder.entries.insert(
            0,
            {
                "fullUrl": builder.url("composition", patient.pk, now.isoformat()),
                "resource": composition,
            },
        )
    bundle["entry"] = builder.entries
    return bundle


def _section(title: str, urls, text: str, *, code=None) -> dict:
    section = {"title": title, "text": {"status": "generated", "div": _div(text)}}
    if code:
        section["code"] = {"coding": [_coding(LOINC, *code)]}
    if urls:
        section["entry"] = [{"reference": url} for url in urls]
    else:
        section["emptyReason"] = {
            "coding": [
                _coding(
                    "http://terminology.hl7.org/CodeSystem/list-empty-reason",
                    "nilknown",
                    "Nil Known",
                )
            ]
        }
    return section
