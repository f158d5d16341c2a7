"""The patient's full data export: one zip with everything the app holds about them."""

import io
import json
import zipfile

import pytest
from django.urls import reverse

from clinic.models import AlertThresholds, AuditEvent

from ..clinic.conftest import mfa_login
from .test_account_deletion import recently_authenticated

EXPECTED_FILES = {
    "README.txt",
    "account.json",
    "profile.json",
    "safety_screenings.json",
    "plans.json",
    "doses.csv",
    "supply.json",
    "diary.csv",
    "questionnaires.csv",
    "reminders.json",
    "sharing.json",
    "access_log.json",
    "alerts.json",
    "alert_settings.json",
}


@pytest.fixture
def archive(client, world):
    recently_authenticated(client, world["patient_a"])
    response = client.post(reverse("data_export"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "no-store"
    return zipfile.ZipFile(io.BytesIO(response.content))


def read(archive, name):
    return archive.read(name).decode()


def test_the_zip_holds_every_kind_of_record(archive):
    assert set(archive.namelist()) == EXPECTED_FILES


def test_it_holds_the_patients_own_words_and_numbers(archive, world):
    assert "Slept badly" in read(archive, "diary.csv")
    assert "Itch" in read(archive, "diary.csv")
    assert "Felt sick" in read(archive, "doses.csv")
    assert json.loads(read(archive, "account.json"))["email"] == "alex@example.org"
    assert json.loads(read(archive, "profile.json"))["time_zone"] == "Europe/London"
    plans = json.loads(read(archive, "plans.json"))
    assert plans[0]["events"][0]["kind"] == "start"
    assert json.loads(read(archive, "supply.json"))[0]["amount"] == "30.0"
    sharing = json.loads(read(archive, "sharing.json"))
    assert {link["with"] for link in sharing} == {"Dr Lee", "Dr Ray"}
    assert json.loads(read(archive, "alerts.json"))[0]["detail"] == "A test alert"
    assert json.loads(read(archive, "reminders.json"))["sent"][0]["status"] == "sent"


def test_it_holds_the_alert_limits_the_care_team_set(client, world):
    AlertThresholds.objects.create(patient=world["patient_a"], quiet_days=10)
    recently_authenticated(client, world["patient_a"])
    archive = zipfile.ZipFile(io.BytesIO(client.post(reverse("data_export")).content))
    [settings] = json.loads(read(archive, "alert_settings.json"))
    assert settings["quiet_days"] == 10
    assert settings["persistent_days"] is None  # the usual limit


def test_it_holds_nothing_about_anyone_else_nor_the_clinicians_private_notes(archive):
    everything = "".join(read(archive, name) for name in archive.namelist())
    assert "sam@example.org" not in everything
    assert "Discussed sleep" not in everything


def test_the_export_asks_for_the_password_again(client, world):
    client.force_login(world["patient_a"])
    response = client.post(reverse("data_export"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_a_get_downloads_nothing(client, world):
    recently_authenticated(client, world["patient_a"])
    assert client.get(reverse("data_export")).status_code == 405


def test_the_access_log_lists_only_allowed_views_as_the_who_viewed_page_does(client, world):
    a = world["patient_a"]
    # Dr Kim (another clinic) tries to open A's record: a 404, written to the audit log.
    mfa_login(client, world["clinician_unlinked"])
    assert client.get(reverse("clinic:patient_detail", args=[a.pk])).status_code == 404
    mfa_login(client, world["clinician_linked"])
    assert client.get(reverse("clinic:patient_detail", args=[a.pk])).status_code == 200
    assert AuditEvent.objects.filter(patient_id=a.pk, outcome="denied").exists()

    recently_authenticated(client, a)
    archive = zipfile.ZipFile(io.BytesIO(client.post(reverse("data_export")).content))
    log = json.loads(read(archive, "access_log.json"))
    shown = client.get(reverse("clinic:sharing_log")).content.decode()
    assert log, "the allowed view is listed"
    assert {row["outcome"] for row in log} == {"allowed"}
    assert "dr.lee@example.org" in {row["who"] for row in log}
    assert "dr.kim" not in read(archive, "access_log.json").lower()
    assert "dr.kim" not in shown.lower()
