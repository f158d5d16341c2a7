import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import PatientProfile
from clinic.models import CareLink, new_invite_code
from clinic.services import care_link_accept, care_link_revoke

from ..factories import onboarded_patient
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


def test_accepting_and_revoking_a_link_keeps_the_profiles_care_team_flag(frozen, doctor):
    # With a linked clinician only the clinician may lift an opioid block (DOMAIN.md).
    patient = onboarded_patient()
    invite = CareLink.objects.create(
        clinician=doctor,
        invited_by=doctor,
        code=new_invite_code(),
        expires_at=timezone.now() + dt.timedelta(days=14),
    )
    link = care_link_accept(patient=patient, code=invite.code)
    assert PatientProfile.objects.get(user=patient).care_team_linked
    care_link_revoke(link=link, by=patient)
    assert not PatientProfile.objects.get(user=patient).care_team_linked
