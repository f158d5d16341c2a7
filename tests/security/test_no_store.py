"""Nothing shown to a logged-in person is kept by a browser, proxy or shared cache:
`Cache-Control: no-store, private` on every authenticated response, pages and files."""

import pytest
from django.test import Client
from django.urls import reverse

from ..downloads import download
from .conftest import login_persona
from .test_account_deletion import recently_authenticated

pytestmark = pytest.mark.django_db


def assert_no_store(response):
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    assert {"no-store", "private"} <= directives, response.get("Cache-Control")


def as_persona(world, persona):
    client = Client()
    login_persona(client, world, persona)
    return client


@pytest.mark.parametrize("name", ["today", "diary", "progress", "report", "report_pdf"])
def test_the_patients_pages_and_files(world, name):
    response = as_persona(world, "patient_a").get(reverse(name))
    assert response.status_code == 200
    assert_no_store(response)


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("data_export", "application/zip"),
        ("export_zip", "application/zip"),
        ("export_fhir", "application/fhir+json"),
    ],
)
def test_the_patients_downloads(world, name, content_type):
    client = recently_authenticated(Client(), world["patient_a"])
    response = download(client, reverse(name))
    assert response["Content-Type"] == content_type
    assert_no_store(response)


@pytest.mark.parametrize(
    "name",
    ["clinic:patient_detail", "clinic:export_pdf", "clinic:export_csv", "clinic:export_fhir"],
)
def test_the_clinicians_pages_and_exports(world, name):
    client = as_persona(world, "clinician_linked")
    response = client.get(reverse(name, args=[world["patient_a"].pk]))
    assert response.status_code == 200
    assert_no_store(response)


def test_a_redirect_and_a_404_for_a_logged_in_person_too(world):
    client = as_persona(world, "patient_b")
    assert_no_store(client.get(reverse("clinic:panel")))
    assert_no_store(client.get("/no-such-page/"))


def test_the_public_home_page_for_anonymous_visitors_is_left_alone(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
