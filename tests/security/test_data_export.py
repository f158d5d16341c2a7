"""The patient's full data export: one zip with everything the app holds about them."""

import codecs
import csv
import datetime as dt
import io
import json
import zipfile

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.models import AlertThresholds, AuditEvent

from ..clinic.conftest import mfa_login
from ..downloads import download, just_logged_in
from ..factories import PASSWORD
from ..symptoms.test_exports import dictionary_entries
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


def export(client):
    return download(client, reverse("data_export"))


@pytest.fixture
def archive(client, world):
    recently_authenticated(client, world["patient_a"])
    response = export(client)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert {"no-store", "private"} <= set(response["Cache-Control"].replace(" ", "").split(","))
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
    archive = zipfile.ZipFile(io.BytesIO(export(client).content))
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


def test_every_csv_parses_back_and_the_readme_names_each_of_its_columns(archive):
    readme = read(archive, "README.txt")
    assert readme.startswith("Your LDN Tracker data")
    listed = dictionary_entries(readme)
    for name in ("doses.csv", "diary.csv", "questionnaires.csv"):
        raw = archive.read(name)
        assert raw.startswith(codecs.BOM_UTF8)
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert rows[0] == listed[name]
        assert all(len(row) == len(rows[0]) for row in rows)


def test_the_access_log_lists_only_allowed_views_as_the_who_viewed_page_does(client, world):
    a = world["patient_a"]
    # Dr Kim (another clinic) tries to open A's record: a 404, written to the audit log.
    mfa_login(client, world["clinician_unlinked"])
    assert client.get(reverse("clinic:patient_detail", args=[a.pk])).status_code == 404
    mfa_login(client, world["clinician_linked"])
    assert client.get(reverse("clinic:patient_detail", args=[a.pk])).status_code == 200
    assert AuditEvent.objects.filter(patient_id=a.pk, outcome="denied").exists()

    recently_authenticated(client, a)
    archive = zipfile.ZipFile(io.BytesIO(export(client).content))
    log = json.loads(read(archive, "access_log.json"))
    shown = client.get(reverse("clinic:sharing_log")).content.decode()
    assert log, "the allowed view is listed"
    assert {row["outcome"] for row in log} == {"allowed"}
    assert "dr.lee@example.org" in {row["who"] for row in log}
    assert "dr.kim" not in read(archive, "access_log.json").lower()
    assert "dr.kim" not in shown.lower()


def test_a_login_moments_ago_downloads_without_the_password_again(client, world):
    just_logged_in(client, world["patient_a"], seconds_ago=5)
    response = client.post(reverse("data_export"))
    assert response["Location"] == reverse("download_started", args=["everything"])


def test_after_the_password_the_page_says_the_download_has_started(client, world):
    """Not the password page again with an empty box: the download's own page, which then
    starts the file."""
    a = world["patient_a"]
    a.set_password(PASSWORD)
    a.save(update_fields=["password"])
    just_logged_in(client, a, seconds_ago=11 * 60)
    asked = client.post(reverse("data_export"))
    assert asked["Location"].startswith(reverse("account_reauthenticate"))
    page = client.get(asked["Location"]).content.decode()
    assert "Type your password again" in page
    assert "Before we send you your data" in page
    assert "Confirm Access" not in page

    wrong = client.post(asked["Location"], {"password": "not-it"})
    assert "That isn&#x27;t your password" in wrong.content.decode()
    done = client.post(asked["Location"], {"password": PASSWORD}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("download_started", args=["everything"])
    body = done.content.decode()
    assert "Your download has started" in body
    file_url = reverse("download_file", args=["everything"])
    assert f'<meta http-equiv="refresh" content="0;url={file_url}">' in body
    response = client.get(file_url)
    assert response["Content-Type"] == "application/zip"
    assert "account.json" in zipfile.ZipFile(io.BytesIO(response.content)).namelist()


def test_the_file_is_only_for_the_session_that_asked_and_for_5_minutes(client, world):
    just_logged_in(client, world["patient_a"])
    client.post(reverse("data_export"))
    file_url = reverse("download_file", args=["everything"])
    assert client.get(file_url).status_code == 200
    assert client.get(file_url).status_code == 200  # the page's link works again

    other = just_logged_in(Client(), world["patient_a"])
    assert other.get(file_url)["Location"] == reverse("account_settings")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5, seconds=1)):
        assert client.get(file_url)["Location"] == reverse("account_settings")
        page = client.get(reverse("download_started", args=["everything"]), follow=True)
    assert "That download link has expired" in page.content.decode()


def test_an_unknown_download_is_404(client, world):
    just_logged_in(client, world["patient_a"])
    assert client.get(reverse("download_file", args=["other"])).status_code == 404
