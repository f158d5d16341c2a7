"""The FHIR R4 export: every resource valid (fhir.resources, R4B models), every reference
resolved inside the Bundle, and the doses and ratings read back equal to the database's."""

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from symptoms import fhir
from symptoms import questionnaires as q
from symptoms.models import RATINGS, DiaryEntry, QuestionnaireResponse
from titration import selectors as titration_selectors
from titration import services as titration_services
from titration.models import DoseLog, PlanEvent, SupplyEntry

from ..downloads import download, just_logged_in
from ..factories import ClinicianFactory, onboarded_patient

pytestmark = pytest.mark.django_db

# 19:00 in London on Friday 20 November 2026.
NOW = dt.datetime(2026, 11, 20, 19, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 20)
START = TODAY - dt.timedelta(days=20)  # plan day 21: 4.5 mg since day 15
SKIPPED = START + dt.timedelta(days=3)
MISSED = (START + dt.timedelta(days=5), START + dt.timedelta(days=9))


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _fiqr_answers(value=5):
    return dict.fromkeys(q.FIQR_ITEMS, value)


@pytest.fixture
def patient(frozen):
    patient = onboarded_patient(
        email="alex@example.org",
        start_date=START,
        formulation="liquid",
        concentration_mg_per_ml=Decimal("1.00"),
        date_of_birth=dt.date(1980, 5, 17),
    )
    patient.first_name = "Alex Sam"
    patient.save()
    plan = patient.plans.get()
    clock = titration_selectors.clock_of(patient.profile)
    day = START
    while day < TODAY:
        if day not in MISSED:
            taken = day != SKIPPED
            at = clock.scheduled(day) + dt.timedelta(minutes=7)
            DoseLog.objects.create(
                patient=patient,
                plan=plan,
                date=day,
                status="taken" if taken else "skipped",
                dose_mg=plan.planned_dose_on(day).dose_mg,
                skip_reason="" if taken else "Felt sick",
                logged_at=at,
                taken_at=at if taken else None,
            )
        DiaryEntry.objects.create(
            patient=patient,
            date=day,
            pain=6 if day < START + dt.timedelta(days=10) else 4,
            sleep=5,
            fatigue=7,
            fog=None if day == START else 3,
            mood=6,
            vivid_dreams=2 if day == START + dt.timedelta(days=8) else 0,
            other=1 if day == START + dt.timedelta(days=2) else None,
            other_text="Dry mouth" if day == START + dt.timedelta(days=2) else "",
            alcohol=day == START + dt.timedelta(days=4),
            notes="Bad flare" if day == START + dt.timedelta(days=1) else "",
            share_notes=True,
        )
        day += dt.timedelta(days=1)
    DiaryEntry.objects.create(patient=patient, date=TODAY, notes="Private", share_notes=False)
    for week, value in ((0, 6), (4, 4)):
        answers = _fiqr_answers(value)
        QuestionnaireResponse.objects.create(
            patient=patient,
            kind="fiqr",
            week=week,
            answers=answers,
            score=q.fiqr_score(answers),
            completed_at=timezone.now() - dt.timedelta(days=20 - week * 7),
        )
    QuestionnaireResponse.objects.create(
        patient=patient, kind="pgic", week=4, answers={"pgic": 5}, score=5, completed_at=NOW
    )
    return patient


@pytest.fixture
def doctor(db):
    return ClinicianFactory(email="dr.lee@example.org")


def resources(bundle, kind=None):
    return [
        e["resource"]
        for e in bundle["entry"]
        if kind is None or e["resource"]["resourceType"] == kind
    ]


def references(node):
    """Every Reference.reference in a resource, wherever it sits."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def as_json(bundle):
    # What the view sends: the Bundle through JSON, as a server would read it.
    return json.loads(json.dumps(bundle))


@pytest.mark.parametrize("kind", ["transaction", "document"])
def test_the_bundle_and_every_resource_validate_as_r4(patient, kind):
    bundle = as_json(fhir.patient_bundle(patient, now=NOW, kind=kind))
    Bundle.model_validate(bundle)
    for resource in resources(bundle):
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    kinds = {r["resourceType"] for r in resources(bundle)}
    assert kinds >= {
        "Patient",
        "Medication",
        "MedicationRequest",
        "MedicationAdministration",
        "Observation",
        "Questionnaire",
        "QuestionnaireResponse",
        "CodeSystem",
    }


@pytest.mark.parametrize("kind", ["transaction", "document"])
def test_every_reference_and_canonical_resolves_inside_the_bundle(patient, kind):
    bundle = as_json(fhir.patient_bundle(patient, now=NOW, kind=kind))
    full_urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(full_urls) == len(set(full_urls))
    assert all(url.startswith("urn:uuid:") for url in full_urls)
    for resource in resources(bundle):
        for reference in references(resource):
            assert reference in full_urls, (resource["resourceType"], reference)
    questionnaires = {r["url"] for r in resources(bundle, "Questionnaire")}
    for response in resources(bundle, "QuestionnaireResponse"):
        assert response["questionnaire"] in questionnaires
    (code_system,) = resources(bundle, "CodeSystem")
    defined = {c["code"] for c in code_system["concept"]}
    for resource in resources(bundle):
        for coding in _codings(resource):
            if coding["system"] == fhir.DIARY_SYSTEM:
                assert coding["code"] in defined


def _codings(node):
    if isinstance(node, dict):
        if "system" in node and "code" in node:
            yield node
        for value in node.values():
            yield from _codings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _codings(item)


def test_a_transaction_entry_creates_conditionally_so_a_second_import_adds_nothing(patient):
    bundle = fhir.patient_bundle(patient, now=NOW)
    assert bundle["type"] == "transaction"
    for entry in bundle["entry"]:
        request = entry["request"]
        assert request["method"] == "POST"
        assert request["url"] == entry["resource"]["resourceType"]
        assert request["ifNoneExist"].startswith(("identifier=", "url="))
    again = fhir.patient_bundle(patient, now=NOW + dt.timedelta(hours=1))
    assert [e["fullUrl"] for e in again["entry"]] == [e["fullUrl"] for e in bundle["entry"]]


def test_a_document_starts_with_a_composition_whose_sections_list_every_record(patient):
    bundle = fhir.patient_bundle(patient, now=NOW, kind="document")
    assert bundle["identifier"]["value"]
    composition = bundle["entry"][0]["resource"]
    assert composition["resourceType"] == "Composition"
    assert all("request" not in e for e in bundle["entry"])
    listed = {ref["reference"] for s in composition["section"] for ref in s.get("entry", [])}
    records = {
        e["fullUrl"]
        for e in bundle["entry"][1:]
        if e["resource"]["resourceType"] not in ("Patient", "CodeSystem", "Questionnaire")
    }
    assert listed == records
    assert "4.5 mg = 4.5 mL of 1 mg/mL" in composition["text"]["div"]


def test_the_patient_carries_the_apps_identifier_name_and_birth_date(patient, settings):
    settings.SITE_URL = "https://tracker.example.org"
    record_number = fhir.RecordNumber(
        value="RX-0042", system="https://tracker.example.org/fhir/clinic/1/mrn", assigner="Clinic"
    )
    bundle = fhir.patient_bundle(patient, now=NOW, record_number=record_number)
    (resource,) = resources(bundle, "Patient")
    app, mrn = resource["identifier"]
    assert app == {
        "use": "usual",
        "system": "https://tracker.example.org/fhir/patient",
        "value": patient.record_id,  # the ID printed on the doctor report
    }
    assert mrn["value"] == "RX-0042"
    assert mrn["type"]["coding"][0]["code"] == "MR"
    assert resource["name"] == [{"use": "usual", "text": "Alex Sam", "given": ["Alex", "Sam"]}]
    assert resource["birthDate"] == "1980-05-17"
    assert resource["meta"]["profile"] == [fhir.PROFILE["Patient"]]
    entry = bundle["entry"][0]
    assert entry["request"]["ifNoneExist"] == (
        f"identifier=https://tracker.example.org/fhir/patient|{patient.record_id}"
    )


def test_without_a_birth_date_the_patient_claims_no_ips_profile(patient):
    patient.profile.date_of_birth = None
    patient.profile.save()
    bundle = fhir.patient_bundle(patient, now=NOW)
    (resource,) = resources(bundle, "Patient")
    assert "birthDate" not in resource and "meta" not in resource
    (request,) = resources(bundle, "MedicationRequest")
    assert "meta" not in request


def test_the_plan_is_a_medication_request_with_one_dosage_per_step(patient):
    bundle = fhir.patient_bundle(patient, now=NOW)
    (request,) = resources(bundle, "MedicationRequest")
    assert request["status"] == "active"
    assert request["reasonCode"][0]["coding"][0] == {
        "system": fhir.SNOMED,
        "code": "203082005",
        "display": "Fibromyalgia",
    }
    steps = [
        (
            d["doseAndRate"][0]["doseQuantity"]["value"],
            d["timing"]["repeat"]["boundsPeriod"].get("start"),
            d["timing"]["repeat"]["boundsPeriod"].get("end"),
        )
        for d in request["dosageInstruction"]
    ]
    # Standard plan, no holds: days 1-7, 8-14, then 4.5 mg from day 15 on.
    assert steps == [
        (1.5, "2026-10-31", "2026-11-06"),
        (3.0, "2026-11-07", "2026-11-13"),
        (4.5, "2026-11-14", None),
    ]
    for dosage in request["dosageInstruction"]:
        repeat = dosage["timing"]["repeat"]
        assert (repeat["frequency"], repeat["period"], repeat["periodUnit"]) == (1, 1, "d")
        assert repeat["when"] == ["HS"]
        assert dosage["doseAndRate"][0]["doseQuantity"]["code"] == "mg"
        assert dosage["doseAndRate"][0]["doseQuantity"]["system"] == fhir.UCUM
    decision = titration_selectors.dose_decision(patient, patient.plans.get(), NOW)
    assert f"Dose for {decision.dose_day}: 4.5 mg = 4.5 mL" in request["note"][-1]["text"]


def test_a_morning_patient_takes_it_in_the_morning(patient):
    patient.profile.dose_time = "morning"
    patient.profile.save()
    (request,) = resources(fhir.patient_bundle(patient, now=NOW), "MedicationRequest")
    assert {d["timing"]["repeat"]["when"][0] for d in request["dosageInstruction"]} == {"MORN"}


def test_the_medication_says_its_form_and_strength(patient):
    (medication,) = resources(fhir.patient_bundle(patient, now=NOW), "Medication")
    assert medication["form"]["coding"][0]["display"] == "Oral solution"
    strength = medication["ingredient"][0]["strength"]
    assert strength["numerator"]["value"] == 1.0 and strength["numerator"]["code"] == "mg"
    assert strength["denominator"]["code"] == "mL"


def test_capsules_carry_the_latest_batchs_strength(patient):
    patient.profile.formulation = "capsule"
    patient.profile.save()
    SupplyEntry.objects.create(
        patient=patient,
        kind="refill",
        received_on=TODAY,
        amount=30,
        capsule_strength_mg=Decimal("1.5"),
        recorded_at=NOW,
    )
    (medication,) = resources(fhir.patient_bundle(patient, now=NOW), "Medication")
    assert medication["form"]["coding"][0]["code"] == "385049006"
    strength = medication["ingredient"][0]["strength"]
    assert strength["numerator"]["value"] == 1.5
    assert strength["denominator"]["code"] == "{capsule}"


def test_taken_doses_have_their_instant_and_skipped_and_missed_nights_are_not_done(patient):
    bundle = fhir.patient_bundle(patient, now=NOW)
    by_day = {
        r["extension"][0]["valueDate"]: r for r in resources(bundle, "MedicationAdministration")
    }
    taken = DoseLog.objects.filter(patient=patient, status="taken").first()
    assert by_day[taken.date.isoformat()]["status"] == "completed"
    assert by_day[taken.date.isoformat()]["effectiveDateTime"] == taken.taken_at.isoformat()
    skipped = by_day[SKIPPED.isoformat()]
    assert skipped["status"] == "not-done"
    assert skipped["statusReason"][0]["coding"][0]["code"] == "skipped"
    assert skipped["statusReason"][0]["text"] == "Felt sick"
    for day in MISSED:
        assert by_day[day.isoformat()]["status"] == "not-done"
        assert by_day[day.isoformat()]["statusReason"][0]["coding"][0]["code"] == "missed"


def test_side_effects_are_observations_with_their_severity(patient):
    bundle = fhir.patient_bundle(patient, now=NOW)
    side_effects = [
        r for r in resources(bundle, "Observation") if r["code"]["text"].startswith("Side effect")
    ]
    assert {(r["code"]["text"], r["valueCodeableConcept"]["text"]) for r in side_effects} == {
        ("Side effect: Vivid dreams", "Moderate"),
        ("Side effect: Something else (Dry mouth)", "Mild"),
    }


def test_ratings_are_patient_reported_and_pain_is_loinc(patient):
    bundle = fhir.patient_bundle(patient, now=NOW)
    (patient_url,) = [
        e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    ]
    pain = [
        r for r in resources(bundle, "Observation") if r["code"]["coding"][0]["code"] == "72514-3"
    ]
    assert len(pain) == DiaryEntry.objects.filter(patient=patient, pain__isnull=False).count()
    assert all(r["performer"] == [{"reference": patient_url}] for r in pain)


def test_only_shared_notes_go_to_a_clinic_and_the_patients_own_copy_keeps_all(patient):
    def notes(bundle):
        return [
            r["valueString"]
            for r in resources(bundle, "Observation")
            if r["code"]["coding"][0]["code"] == fhir.NOTE_CODE
        ]

    assert notes(fhir.patient_bundle(patient, now=NOW)) == ["Bad flare"]
    own = fhir.patient_bundle(patient, now=NOW, include_private_notes=True)
    assert notes(own) == ["Bad flare", "Private"]


def test_questionnaire_answers_have_their_item_text_and_the_fiqr_total_derives_from_them(patient):
    bundle = fhir.patient_bundle(patient, now=NOW)
    urls = {id(e["resource"]): e["fullUrl"] for e in bundle["entry"]}
    responses = resources(bundle, "QuestionnaireResponse")
    fiqr = [r for r in responses if r["questionnaire"] == fhir.QUESTIONNAIRE_URL["fiqr"]]
    assert len(fiqr) == 2
    items = [i for group in fiqr[0]["item"] for i in group["item"]]
    assert len(items) == 21 and all(i["text"] for i in items)
    totals = [
        r
        for r in resources(bundle, "Observation")
        if r["code"]["coding"][0]["code"] == "fiqr-total"
    ]
    assert sorted(t["valueQuantity"]["value"] for t in totals) == sorted(
        float(r.score) for r in QuestionnaireResponse.objects.filter(kind="fiqr")
    )
    assert {t["derivedFrom"][0]["reference"] for t in totals} == {urls[id(r)] for r in fiqr}
    (pgic,) = [r for r in responses if r["questionnaire"] == fhir.QUESTIONNAIRE_URL["pgic"]]
    assert pgic["item"][0]["answer"][0]["valueCoding"]["code"] == "5"
    assert pgic["item"][0]["answer"][0]["valueCoding"]["display"].startswith("Moderately better")


# Round trip ---------------------------------------------------------------------------------


def timeline_from_bundle(bundle):
    """What an importer rebuilds: the doses (date, status, mg, instant taken) and ratings."""
    doses = sorted(
        (
            r["extension"][0]["valueDate"],
            r["status"],
            Decimal(str(r["dosage"]["dose"]["value"])),
            dt.datetime.fromisoformat(r["effectiveDateTime"])
            if r["status"] == "completed"
            else None,
        )
        for r in resources(bundle, "MedicationAdministration")
    )
    codes = {"72514-3": "pain", **{name: name for name in RATINGS}}
    ratings = sorted(
        (r["effectiveDateTime"], codes[r["code"]["coding"][0]["code"]], r["valueInteger"])
        for r in resources(bundle, "Observation")
        if "valueInteger" in r
    )
    return doses, ratings


def timeline_from_database(patient):
    status = {"taken": "completed", "skipped": "not-done"}
    doses = [
        (
            log.date.isoformat(),
            status[log.status],
            log.dose_mg,
            log.taken_at,
        )
        for log in DoseLog.objects.filter(patient=patient)
    ]
    plan = patient.plans.get()
    record = titration_selectors.record_of(patient, plan, now=NOW)
    for row in titration_selectors.day_rows(patient, record, START, TODAY, now=NOW):
        if row.status == "missed":
            doses.append((row.day.isoformat(), "not-done", row.dose_mg, None))
    ratings = [
        (entry.date.isoformat(), name, getattr(entry, name))
        for entry in DiaryEntry.objects.filter(patient=patient)
        for name in RATINGS
        if getattr(entry, name) is not None
    ]
    return sorted(doses), sorted(ratings)


@pytest.mark.parametrize("kind", ["transaction", "document"])
def test_a_round_trip_rebuilds_the_databases_doses_and_ratings(patient, kind):
    bundle = Bundle.model_validate(as_json(fhir.patient_bundle(patient, now=NOW, kind=kind)))
    loaded = json.loads(bundle.model_dump_json())  # read back through the FHIR models
    doses, ratings = timeline_from_bundle(loaded)
    assert (doses, ratings) == timeline_from_database(patient)
    assert len([d for d in doses if d[1] == "not-done"]) == 3  # one skipped, two missed


# The patient's own download -------------------------------------------------------------------


def test_a_patient_downloads_their_own_record_with_every_note(client, patient, other_patient):
    # A button on the progress page: a POST behind a recent login, then the file.
    just_logged_in(client, patient)
    response = download(client, reverse("export_fhir"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert response["Content-Disposition"].endswith('.json"')
    bundle = Bundle.model_validate(json.loads(response.content))
    assert bundle.type == "transaction"
    (person,) = [e.resource for e in bundle.entry if e.resource.get_resource_type() == "Patient"]
    assert person.identifier[0].value == patient.record_id
    assert "Private" in response.content.decode()


def test_someone_logged_out_is_sent_to_log_in(client, patient):
    response = client.post(reverse("export_fhir"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_partly_answered_fiqr_still_validates(patient):
    QuestionnaireResponse.objects.filter(patient=patient, kind="fiqr", week=4).update(
        answers={"f1": 3, "s1": 8}
    )
    bundle = as_json(fhir.patient_bundle(patient, now=NOW))
    Bundle.model_validate(bundle)


def test_each_answer_carries_the_text_of_its_question_in_the_questionnaire(patient):
    bundle = fhir.patient_bundle(patient, now=NOW)
    questions = {}
    for questionnaire in resources(bundle, "Questionnaire"):
        stack = list(questionnaire["item"])
        while stack:
            item = stack.pop()
            questions[(questionnaire["url"], item["linkId"])] = item["text"]
            stack.extend(item.get("item", []))
    for response in resources(bundle, "QuestionnaireResponse"):
        stack = list(response["item"])
        while stack:
            item = stack.pop()
            assert item["text"] == questions[(response["questionnaire"], item["linkId"])]
            stack.extend(item.get("item", []))


def _steps(request):
    return [
        (
            d["doseAndRate"][0]["doseQuantity"]["value"],
            d["timing"]["repeat"]["boundsPeriod"].get("start"),
            d["timing"]["repeat"]["boundsPeriod"].get("end"),
        )
        for d in request["dosageInstruction"]
    ]


def test_the_dosages_follow_the_dose_decision_through_holds(patient):
    # A 3-day hold from day 8 ends on 9 November; the moderate vivid dreams on 8 November
    # then hold the step-up until 3 clear days have passed (the tolerance rule).
    plan = patient.plans.get()
    PlanEvent.objects.create(
        plan=plan, kind="hold", effective_date=START + dt.timedelta(days=7), days=3
    )
    (request,) = resources(fhir.patient_bundle(patient, now=NOW), "MedicationRequest")
    assert _steps(request) == [
        (1.5, "2026-10-31", "2026-11-11"),
        (3.0, "2026-11-12", "2026-11-18"),
        (4.5, "2026-11-19", None),
    ]


def test_a_changed_plan_stops_the_old_request_and_doses_point_at_their_own_plan(patient, doctor):
    old = patient.plans.get()
    new = titration_services.plan_change(
        plan=old, actor=doctor, day=TODAY, reason="Lower target", target_mg=Decimal("3.0")
    )
    bundle = as_json(fhir.patient_bundle(patient, now=NOW))
    Bundle.model_validate(bundle)
    urls = {
        e["resource"]["identifier"][0]["value"]: e["fullUrl"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    }
    requests = {r["identifier"][0]["value"]: r for r in resources(bundle, "MedicationRequest")}
    assert requests[f"plan/{old.pk}"]["status"] == "stopped"
    assert _steps(requests[f"plan/{old.pk}"])[-1] == (4.5, "2026-11-14", "2026-11-19")
    assert requests[f"plan/{new.pk}"]["status"] == "active"
    assert _steps(requests[f"plan/{new.pk}"]) == [(3.0, "2026-11-20", None)]
    assert "Dose for 2026-11-20: 3.0 mg" in requests[f"plan/{new.pk}"]["note"][-1]["text"]
    administrations = resources(bundle, "MedicationAdministration")
    assert {a["request"]["reference"] for a in administrations} == {urls[f"plan/{old.pk}"]}
