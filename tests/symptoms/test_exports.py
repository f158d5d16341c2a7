import codecs
import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from symptoms import exports
from symptoms.models import DiaryEntry, QuestionnaireResponse

from ..downloads import download as follow_download
from ..downloads import just_logged_in
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
    just_logged_in(client, user)
    response = follow_download(client, URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    return response, parse_zip(response.content)


def parse_zip(content):
    """Every CSV file of a zip read back as a spreadsheet would: rows of dicts."""
    archive = zipfile.ZipFile(io.BytesIO(content))
    return {
        name: list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
        for name in archive.namelist()
        if name.endswith(".csv")
    }


def dictionary_entries(readme: str) -> dict[str, list[str]]:
    """{file name: column names} as README.txt lists them (a column is an unindented line
    under the file's underlined heading, followed by its three indented lines)."""
    lines = readme.splitlines()
    files, current = {}, None
    for index, line in enumerate(lines):
        if index + 1 < len(lines) and set(lines[index + 1]) == {"-"} and line.endswith(".csv"):
            current = files.setdefault(line, [])
        elif current is not None and line and not line.startswith(" ") and set(line) != {"-"}:
            following = lines[index + 1 : index + 4]
            if len(following) == 3 and all(f.startswith("    ") for f in following):
                assert following[1].startswith("    Unit or scale: ")
                assert following[2].startswith("    Blank means: ")
                current.append(line)
    return files


def test_anonymous_visitors_are_sent_to_login(client):
    assert login_redirect(client.post(URL))


def test_clinicians_get_404(client, clinician):
    client.force_login(clinician)
    assert client.post(URL).status_code == 404
    assert client.get(reverse("download_file", args=["diary"])).status_code == 404


def test_a_get_downloads_nothing(client, exporter):
    just_logged_in(client, exporter)
    assert client.get(URL).status_code == 405


def test_the_file_needs_the_button_pressed_first(client, exporter):
    just_logged_in(client, exporter)
    response = client.get(reverse("download_file", args=["diary"]))
    assert response.status_code == 302
    assert response["Location"] == reverse("account_settings")


def test_a_login_older_than_10_minutes_asks_for_the_password(client, exporter):
    just_logged_in(client, exporter, seconds_ago=601)
    response = client.post(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_the_progress_page_offers_the_download_as_a_button(client, exporter):
    client.force_login(exporter)
    page = client.get(reverse("progress")).content.decode()
    assert f'<form method="post" action="{URL}">' in page


def test_the_zip_holds_three_csv_files_and_a_data_dictionary(client, exporter):
    response, files = download(client, exporter)
    assert response["Content-Disposition"] == (
        'attachment; filename="ldn-tracker-export-2026-11-20.zip"'
    )
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == [
        "README.txt",
        "diary.csv",
        "doses.csv",
        "questionnaires.csv",
    ]


def test_the_dictionary_names_every_column_of_every_file_in_order(client, exporter):
    response, files = download(client, exporter)
    readme = zipfile.ZipFile(io.BytesIO(response.content)).read("README.txt").decode()
    listed = dictionary_entries(readme)
    assert set(listed) == set(files)
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    for name in files:
        text = archive.read(name).decode("utf-8-sig")
        header = next(csv.reader(io.StringIO(text)))
        assert header == listed[name], name


def test_files_are_utf8_with_a_byte_order_mark_so_accents_survive(client, frozen):
    patient = with_records("accent@example.org", notes="Journée difficile, très fatiguée")
    response, files = download(client, patient)
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert all(archive.read(name).startswith(codecs.BOM_UTF8) for name in files)
    assert files["diary.csv"][-2]["notes"] == "Journée difficile, très fatiguée"


def test_units_and_scales_are_in_the_column_names(client, exporter):
    _, files = download(client, exporter)
    diary = files["diary.csv"][0].keys()
    assert {"pain_0_10", "sleep_quality_0_10", "fatigue_0_10", "fog_0_10", "mood_0_10"} <= diary
    assert {"headache_severity_0_3", "alcohol_yes_no"} <= diary
    assert {"dose_mg", "dose_ml", "taken_at_utc"} <= files["doses.csv"][0].keys()


def test_there_is_a_dose_row_for_every_plan_day_missed_nights_included(client, exporter):
    _, files = download(client, exporter)
    doses = files["doses.csv"]
    assert [row["date"] for row in doses] == [f"2026-11-{day}" for day in range(11, 21)]
    assert [row["plan_day"] for row in doses] == [str(n) for n in range(1, 11)]
    assert [row["status"] for row in doses] == ["taken"] * 3 + ["missed"] * 6 + ["skipped"]
    assert [row["dose_mg"] for row in doses[:3]] == ["1.50"] * 3
    assert doses[-1]["dose_mg"] == "3.00"
    taken = doses[0]
    assert dt.datetime.fromisoformat(taken["taken_at_utc"]) == dt.datetime(
        2026, 11, 11, 21, 30, tzinfo=dt.UTC
    )
    assert taken["taken_at_local"] == "2026-11-11T21:30:00+00:00"
    assert (taken["late_entry"], taken["recorded_from"]) == ("no", "app")
    missed = doses[3]
    assert (missed["taken_at_utc"], missed["logged_at_utc"], missed["late_entry"]) == ("", "", "")
    assert missed["dose_mg"] == "1.5"


def test_a_liquid_dose_has_its_millilitres(client, frozen):
    patient = with_records("liquid@example.org")
    patient.profile.formulation = "liquid"
    patient.profile.concentration_mg_per_ml = Decimal("1.00")
    patient.profile.save()
    _, files = download(client, patient)
    assert files["doses.csv"][0]["dose_ml"] == "1.5"


def test_the_diary_has_a_row_per_day_with_blank_cells_for_unanswered_questions(client, exporter):
    _, files = download(client, exporter)
    diary = files["diary.csv"]
    assert [row["date"] for row in diary] == [f"2026-11-{day}" for day in range(11, 21)]
    assert [row["diary_recorded"] for row in diary] == ["no"] * 8 + ["yes", "yes"]
    assert set(diary[0].values()) == {"2026-11-11", "no", ""}
    yesterday, today = diary[-2:]
    assert (yesterday["pain_0_10"], yesterday["sleep_quality_0_10"]) == ("5", "")
    assert (today["sleep_quality_0_10"], today["headache_severity_0_3"]) == ("7", "2")
    assert (today["alcohol_yes_no"], today["exercise_yes_no"]) == ("yes", "")
    assert today["notes_shared"] == "no"


def test_questionnaire_items_each_have_their_own_column(client, exporter):
    QuestionnaireResponse.objects.create(
        patient=exporter,
        kind="pgic",
        week=4,
        answers={"pgic": 6},
        score=6,
        completed_at=timezone.now(),
    )
    _, files = download(client, exporter)
    fiqr, pgic = files["questionnaires.csv"]
    assert (fiqr["questionnaire"], fiqr["plan_week"], fiqr["fiqr_total_0_100"]) == (
        "fiqr",
        "0",
        "44.5",
    )
    assert (fiqr["fiqr_f1_0_10"], fiqr["fiqr_s1_0_10"], fiqr["fiqr_f2_0_10"]) == ("3", "8", "")
    assert fiqr["pgic_1_7"] == ""
    assert fiqr["completed_at_utc"].startswith("2026-11-20T19:00:00")
    assert (pgic["pgic_1_7"], pgic["fiqr_total_0_100"], pgic["fiqr_s1_0_10"]) == ("6", "", "")


def test_only_this_patients_rows_are_exported(client, exporter, stranger):
    _, files = download(client, exporter)
    assert len(files["doses.csv"]) == 10
    assert [row["fiqr_total_0_100"] for row in files["questionnaires.csv"]] == ["44.5"]
    assert [row["pain_0_10"] for row in files["diary.csv"][-2:]] == ["5", ""]
    assert "Stranger's own note" not in str(files)


def test_a_clinics_copy_leaves_out_notes_the_patient_did_not_share(frozen):
    patient = with_records("notes@example.org", notes="Only for me")
    own = parse_zip(exports.patient_export_zip(patient))
    clinic = parse_zip(exports.patient_export_zip(patient, shared_notes_only=True))
    assert own["diary.csv"][-2]["notes"] == "Only for me"
    assert clinic["diary.csv"][-2]["notes"] == ""
    DiaryEntry.objects.filter(patient=patient).update(share_notes=True)
    clinic = parse_zip(exports.patient_export_zip(patient, shared_notes_only=True))
    assert clinic["diary.csv"][-2]["notes"] == "Only for me"


def test_a_cell_starting_with_a_formula_character_is_neutralised(client, exporter):
    _, files = download(client, exporter)
    notes = files["diary.csv"][-2]["notes"]
    assert notes == '\'=HYPERLINK("http://evil.example","click")'
    assert files["doses.csv"][-1]["skip_reason"] == "'+felt sick"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_quoted_as_text(start):
    patient_rows = exports._csv(["notes"], [[f"{start}1+1"], ["fine = ok"], [5]])
    rows = list(csv.reader(io.StringIO(patient_rows)))
    assert rows == [["notes"], [f"'{start}1+1"], ["fine = ok"], ["5"]]


def test_a_patient_with_nothing_logged_gets_a_row_for_today_and_header_only_otherwise(
    client, frozen
):
    patient = patient_on_day(1, email="empty@example.org")
    _, files = download(client, patient)
    assert [row["status"] for row in files["doses.csv"]] == ["due"]
    assert [row["diary_recorded"] for row in files["diary.csv"]] == ["no"]
    assert files["questionnaires.csv"] == []
