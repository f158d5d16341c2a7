import pytest
from django.urls import reverse

from clinic.models import CareLink

from .conftest import Personas, login_redirect

pytestmark = pytest.mark.django_db
URL = reverse("clinic:care_invite")


def test_a_clinician_creates_a_short_code(client, frozen, doctor):
    response = Personas(client, URL, "post", {"email": ""}).request(doctor)
    link = CareLink.objects.get()
    assert link.clinician == doctor and link.clinic is None
    assert len(link.code) == 8
    assert link.display_code in response.content.decode()


def test_a_code_can_share_with_the_whole_clinic(client, frozen, doctor, clinic):
    Personas(client, URL, "post", {"email": "", "for_clinic": "on"}).request(doctor)
    link = CareLink.objects.get()
    assert link.clinic == clinic and link.clinician is None


@pytest.mark.parametrize("who", ["patient"])
def test_patients_get_404(client, request, who):
    user = request.getfixturevalue(who)
    assert Personas(client, URL).request(user).status_code == 404


def test_anonymous_is_sent_to_log_in(client):
    assert login_redirect(client.get(URL))
