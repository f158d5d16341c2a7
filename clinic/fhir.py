"""A patient's record as a FHIR R4 Bundle (JSON), for a clinic's own systems.

- MedicationStatement for each plan (the prescriber's titration plan),
- MedicationAdministration for each logged dose (taken: completed; skipped: not-done),
- Observation for each diary rating (LOINC where a code exists, else our own code system),
- QuestionnaireResponse for each FIQR and PGIC.

Plain dictionaries: the tests validate them with the fhir.resources models (R4B, which
shares these resources with R4), so the app itself does not depend on that library.
"""

import uuid

from symptoms.models import RATINGS, DiaryEntry, QuestionnaireResponse
from titration.models import DoseLog, Plan

PROJECT_SYSTEM = "https://ldn-tracker.example/fhir/CodeSystem/diary"
QUESTIONNAIRE_BASE = "https://ldn-tracker.example/fhir/Questionnaire/"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
NALTREXONE = {
    "coding": [{"system": RXNORM, "code": "7243", "display": "naltrexone"}],
    "text": "Naltrexone (low-dose, compounded)",
}
# Only pain has a LOINC code for a 0-10 numeric rating scale that fits the diary question.
RATING_CODES = {
    "pain": (LOINC, "72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported"),
}
NAMESPACE = uuid.UUID("6f1c2a9e-7c55-4a0e-9a57-3d1f3f0b6a51")


def _urn(kind: str, pk) -> str:
    # Stable ids: the same record exported twice gives the same references.
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{kind}/{pk}')}"


def _entry(full_url: str, resource: dict) -> dict:
    return {"fullUrl": full_url, "resource": resource}


def _patient(patient) -> dict:
    resource = {"resourceType": "Patient", "telecom": [{"system": "email", "value": patient.email}]}
    if patient.first_name:
        resource["name"] = [{"given": [patient.first_name]}]
    return resource


def _plan_statement(plan: Plan, subject: dict) -> dict:
    stopped = any(e.kind == "stop" for e in plan.events.all())
    steps = ", ".join(
        f"{s.dose_mg.normalize():f} mg" + (f" for {s.min_days} days" if s.min_days else "")
        for s in plan.steps()
    )
    return {
        "resourceType": "MedicationStatement",
        "status": "stopped" if stopped else "active",
        "medicationCodeableConcept": NALTREXONE,
        "subject": subject,
        "effectivePeriod": {"start": plan.start_date.isoformat()},
        "dateAsserted": plan.created_at.isoformat(),
        "dosage": [
            {
                "text": f"{plan.get_protocol_display()}: {steps}; once a day",
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                "route": {"text": "oral"},
            }
        ],
    }


def _administration(log: DoseLog, subject: dict, plan_url: str) -> dict:
    resource = {
        "resourceType": "MedicationAdministration",
        "status": "completed" if log.status == DoseLog.Status.TAKEN else "not-done",
        "medicationCodeableConcept": NALTREXONE,
        "subject": subject,
        "effectiveDateTime": log.date.isoformat(),
        "supportingInformation": [{"reference": plan_url}],
        "dosage": {
            "dose": {"value": float(log.dose_mg), "unit": "mg", "system": UCUM, "code": "mg"}
        },
    }
    if log.status == DoseLog.Status.SKIPPED:
        resource["statusReason"] = [{"text": log.skip_reason or "Skipped by the patient"}]
    if log.is_reported_when_joining:
        resource["note"] = [{"text": log.get_source_display()}]
    return resource


def _observation(entry: DiaryEntry, name: str, subject: dict) -> dict:
    label = RATINGS[name][0]
    system, code, display = RATING_CODES.get(name, (PROJECT_SYSTEM, name, f"{label} (0-10)"))
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": system, "code": code, "display": display}], "text": label},
        "subject": subject,
        "effectiveDateTime": entry.date.isoformat(),
        "valueInteger": getattr(entry, name),
    }


def _questionnaire_response(response: QuestionnaireResponse, subject: dict) -> dict:
    items = [
        {"linkId": str(key), "answer": [{"valueInteger": int(value)}]}
        for key, value in response.answers.items()
    ]
    items.append({"linkId": "score", "answer": [{"valueDecimal": float(response.score)}]})
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": QUESTIONNAIRE_BASE + response.kind,
        "status": "completed",
        "subject": subject,
        "authored": response.completed_at.isoformat(),
        "item": items,
    }


def patient_bundle(patient, *, now) -> dict:
    patient_url = _urn("patient", patient.pk)
    subject = {"reference": patient_url}
    entries = [_entry(patient_url, _patient(patient))]
    plan_urls = {}
    for plan in Plan.objects.filter(patient=patient).prefetch_related("events").order_by("id"):
        plan_urls[plan.pk] = _urn("plan", plan.pk)
        entries.append(_entry(plan_urls[plan.pk], _plan_statement(plan, subject)))
    for log in DoseLog.objects.filter(patient=patient).order_by("date"):
        entries.append(
            _entry(_urn("dose", log.pk), _administration(log, subject, plan_urls[log.plan_id]))
        )
    for entry in DiaryEntry.objects.filter(patient=patient).order_by("date"):
        for name in RATINGS:
            if getattr(entry, name) is not None:
                url = _urn(f"diary-{name}", entry.pk)
                entries.append(_entry(url, _observation(entry, name, subject)))
    for response in QuestionnaireResponse.objects.filter(patient=patient).order_by("completed_at"):
        entries.append(
            _entry(_urn("questionnaire", response.pk), _questionnaire_response(response, subject))
        )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": now.isoformat(),
        "entry": entries,
    }
