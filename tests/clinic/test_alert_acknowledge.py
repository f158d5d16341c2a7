import pytest
from django.urls import reverse

from clinic.models import Alert, AlertAcknowledgement

from .conftest import TODAY, Personas, audit_rows, login_redirect, mfa_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(linked_patient):
    return Alert.objects.create(
        patient=linked_patient, rule="missed_doses", urgency=3, episode=TODAY
    )


@pytest.fixture
def url(linked_patient, alert):
    return reverse("clinic:alert_acknowledge", args=[linked_patient.pk, alert.pk])


def test_the_linked_clinician_acknowledges_with_a_note(client, linked_patient, doctor, alert, url):
    response = Personas(client, url, "post", {"note": "Phoned: away on holiday"}).request(doctor)
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None
    ack = AlertAcknowledgement.objects.get()
    assert (ack.clinician_id, ack.note) == (doctor.pk, "Phoned: away on holiday")
    assert audit_rows(linked_patient)[-1].action == "alert_ack"


def test_every_acknowledgement_is_recorded(client, linked_patient, doctor, alert, url):
    mfa_login(client, doctor)
    client.post(url, {"note": ""})
    client.post(url, {"note": "Seen again"})
    assert AlertAcknowledgement.objects.filter(alert=alert).count() == 2


@pytest.mark.parametrize("who", ["stranger", "colleague", "linked_patient"])
def test_anyone_else_gets_404_and_the_alert_stays_open(client, request, alert, url, who):
    user = request.getfixturevalue(who)
    assert Personas(client, url, "post", {}).request(user).status_code == 404
    alert.refresh_from_db()
    assert alert.is_open


def test_anonymous_is_sent_to_log_in(client, url):
    assert login_redirect(Personas(client, url, "post", {}).request(None))


def test_another_patients_alert_is_404(client, linked_patient, other_patient, doctor):
    theirs = Alert.objects.create(
        patient=other_patient, rule="gone_quiet", urgency=4, episode=TODAY
    )
    url = reverse("clinic:alert_acknowledge", args=[linked_patient.pk, theirs.pk])
    assert Personas(client, url, "post", {}).request(doctor).status_code == 404
