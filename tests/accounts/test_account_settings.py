"""Settings: the date of birth and the paper the report for the doctor is printed on."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

pytestmark = pytest.mark.django_db

URL = reverse("account_settings")
NOW = dt.datetime(2026, 11, 20, 19, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_patient_saves_a_date_of_birth_and_letter_paper(client, patient, frozen):
    client.force_login(patient)
    response = client.post(URL, {"date_of_birth": "1980-03-14", "paper_size": "letter"})
    assert response.status_code == 302
    patient.profile.refresh_from_db()
    assert patient.profile.date_of_birth == dt.date(1980, 3, 14)
    assert patient.profile.paper_size == "letter"
    body = client.get(URL).content.decode()
    assert 'value="1980-03-14"' in body


def test_the_date_of_birth_is_optional_and_a4_the_default(client, patient, frozen):
    assert patient.profile.paper_size == "a4"
    client.force_login(patient)
    assert client.post(URL, {"date_of_birth": "", "paper_size": "a4"}).status_code == 302
    patient.profile.refresh_from_db()
    assert patient.profile.date_of_birth is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"date_of_birth": "2026-11-21", "paper_size": "a4"}, "can&#x27;t be in the future"),
        ({"date_of_birth": "1850-01-01", "paper_size": "a4"}, "check the year"),
        ({"date_of_birth": "14/03/80x", "paper_size": "a4"}, "a date like 1980-03-14"),
        ({"date_of_birth": "", "paper_size": "A3"}, "Select a valid choice"),
        ({"date_of_birth": ""}, "Please choose A4 or US Letter."),
    ],
)
def test_bad_input_gets_a_message_next_to_the_field_and_saves_nothing(
    client, patient, frozen, data, message
):
    client.force_login(patient)
    response = client.post(URL, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    patient.profile.refresh_from_db()
    assert patient.profile.date_of_birth is None and patient.profile.paper_size == "a4"


def test_a_clinician_gets_404(client, clinician):
    client.force_login(clinician)
    assert client.post(URL, {"paper_size": "letter"}).status_code == 404
