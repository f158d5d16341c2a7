import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from clinic.models import ClinicianNote

from .conftest import NOW, Personas, audit_rows, link, login_redirect, mfa_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def add_url(linked_patient):
    return reverse("clinic:note_add", args=[linked_patient.pk])


def test_the_linked_clinician_adds_a_timestamped_note(client, linked_patient, doctor, add_url):
    response = Personas(client, add_url, "post", {"text": "Reviewed at clinic"}).request(doctor)
    assert response.status_code == 302
    note = ClinicianNote.objects.get()
    assert (note.author_id, note.text, note.created_at) == (doctor.pk, "Reviewed at clinic", NOW)
    assert audit_rows(linked_patient)[-1].action == "note"


@pytest.mark.parametrize("who", ["stranger", "colleague", "linked_patient"])
def test_anyone_else_gets_404(client, request, add_url, who):
    user = request.getfixturevalue(who)
    assert Personas(client, add_url, "post", {"text": "x"}).request(user).status_code == 404
    assert not ClinicianNote.objects.exists()


def test_anonymous_is_sent_to_log_in(client, add_url):
    assert login_redirect(Personas(client, add_url, "post", {"text": "x"}).request(None))


def test_notes_are_never_shown_to_the_patient(client, linked_patient, doctor):
    ClinicianNote.objects.create(patient=linked_patient, author=doctor, text="Private remark")
    client.force_login(linked_patient)
    for name in ("today", "progress", "report"):
        assert "Private remark" not in client.get(reverse(name)).content.decode()


def test_a_note_can_be_edited_by_its_author_for_24_hours_only(
    client, linked_patient, doctor, colleague, clinic
):
    link(linked_patient, clinic=clinic)
    note = ClinicianNote.objects.create(patient=linked_patient, author=doctor, text="First")
    url = reverse("clinic:note_edit", args=[linked_patient.pk, note.pk])
    mfa_login(client, colleague)
    client.post(url, {"text": "Not mine to change"})
    note.refresh_from_db()
    assert note.text == "First"
    with time_machine.travel(NOW + dt.timedelta(hours=23, minutes=59), tick=False):
        mfa_login(client, doctor).post(url, {"text": "Second"})
    note.refresh_from_db()
    assert note.text == "Second"
    with time_machine.travel(NOW + dt.timedelta(hours=24), tick=False):
        response = mfa_login(client, doctor).post(url, {"text": "Third"})
    note.refresh_from_db()
    assert note.text == "Second"
    assert response.status_code == 302
