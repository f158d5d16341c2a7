import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from symptoms import exports
from symptoms.models import QuestionnaireResponse

from ..factories import DiaryEntryFactory, DoseLogFactory
from .conftest import TODAY, login_redirect, patient_on_day

pytestmark = pytest.mark.django_db

URL = reverse("export_zip")


def with_records(email, *, notes="", pain=5, skip_reason="", score="44.5"):
    patient = patient_on_day(10, email=email)
    plan = patient.plans.get()
    for n in range(3):
        DoseLogFactory(plan=plan, date=plan.start_date + dt.timedelta(days=n))
    DoseLogFactory(
        plan=plan, date=TODAY, status="skipped", skip_reason=skip_reason, dose_mg=Decimal("3.0")
    )
    DiaryEntryFactory(patient=patient, date=TODAY - dt.timedelta(days=1), pain=pain, notes=notes)
    DiaryEntryFactory(patient=patient, date=TODAY, sleep=7, headache=2, alcohol=True)
    QuestionnaireResponse.objects.create(
        patient=patient,
        kind="fiqr",
        week=0,
        answers={"f1": 3, "s1": 8},
        score=Decimal(score),
        completed_at=timezone.now(),
    )
    return patient


@pytest.fixture
def exporter(frozen):
    return with_records(
        "exp@example.org",
        notes='=HYPERLINK("http://evil.example","click")',
        skip_reason="+felt sick",
    )


@pytest.fixture
def stranger(frozen):
    return with_records("strange@example.org", notes="Stranger's own note", pain=9, score="88.0")


def download(client, user):
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    return response, {
        name: list(csv.DictReader(io.StringIO(archive.read(name).decode())))
        for name in archive.namelist()
    }


def test_anonymous_visitors_are_sent_to_login(client):
    assert login_redirect(client.get(URL))


def test_clinicians_get_404(client, clinician):
    client.force_login(clinician)
    assert client.get(URL).status_code == 404


def test_the_zip_holds_three_csv_files_with_header_rows(client, exporter):
    response, files = download(client, exporter)
    assert response["Content-Disposition"] == (
        'attachment; filename="ldn-tracker-export-2026-11-20.zip"'
    )
    assert sorted(files) == ["diary.csv", "doses.csv", "questionnaires.csv"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    first_lines = {n: archive.read(n).decode().splitlines()[0] for n in archive.namelist()}
    assert first_lines["doses.csv"] == (
        "date,status,dose_mg,late_entry,skip_reason,logged_at,recorded_by"
    )
    assert first_lines["diary.csv"].startswith("date,pain,sleep,fatigue,fog,mood,vivid_dreams,")
    assert first_lines["diary.csv"].endswith(",notes,share_notes")
    assert first_lines["questionnaires.csv"] == "kind,week,score,completed_at,answers"


def test_doses_are_exported_in_date_order_with_iso_dates(client, exporter):
    _, files = download(client, exporter)
    doses = files["doses.csv"]
    assert [row["date"] for row in doses] == [
        "2026-11-11",
        "2026-11-12",
        "2026-11-13",
        "2026-11-20",
    ]
    assert [row["dose_mg"] for row in doses] == ["1.50", "1.50", "1.50", "3.00"]
    assert doses[-1]["status"] == "skipped"
    assert dt.datetime.fromisoformat(doses[0]["logged_at"]) == timezone.now()


def test_diary_rows_have_iso_dates_and_blank_cells_for_unanswered_questions(client, exporter):
    _, files = download(client, exporter)
    yesterday, today = files["diary.csv"]
    assert (yesterday["date"], yesterday["pain"], yesterday["sleep"]) == ("2026-11-19", "5", "")
    assert (today["date"], today["sleep"], today["headache"], today["alcohol"]) == (
        "2026-11-20",
        "7",
        "2",
        "True",
    )


def test_questionnaires_are_exported_with_score_and_answers(client, exporter):
    _, files = download(client, exporter)
    (row,) = files["questionnaires.csv"]
    assert (row["kind"], row["week"], row["score"]) == ("fiqr", "0", "44.5")
    assert row["answers"] == "f1=3 s1=8"
    assert row["completed_at"].startswith("2026-11-20T19:00:00")


def test_only_this_patients_rows_are_exported(client, exporter, stranger):
    _, files = download(client, exporter)
    assert len(files["doses.csv"]) == 4
    assert len(files["diary.csv"]) == 2
    assert [row["score"] for row in files["questionnaires.csv"]] == ["44.5"]
    assert [row["pain"] for row in files["diary.csv"]] == ["5", ""]
    assert "Stranger's own note" not in str(files)


def test_a_cell_starting_with_a_formula_character_is_neutralised(client, exporter):
    _, files = download(client, exporter)
    notes = files["diary.csv"][0]["notes"]
    assert notes == '\'=HYPERLINK("http://evil.example","click")'
    assert files["doses.csv"][-1]["skip_reason"] == "'+felt sick"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_quoted_as_text(start):
    patient_rows = exports._csv(["notes"], [[f"{start}1+1"], ["fine = ok"], [5]])
    rows = list(csv.reader(io.StringIO(patient_rows)))
    assert rows == [["notes"], [f"'{start}1+1"], ["fine = ok"], ["5"]]


def test_a_patient_with_nothing_logged_gets_header_only_files(client, frozen):
    patient = patient_on_day(1, email="empty@example.org")
    response, files = download(client, patient)
    assert files == {"doses.csv": [], "diary.csv": [], "questionnaires.csv": []}
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert all(archive.read(name).decode().startswith(("date,", "kind,")) for name in files)
