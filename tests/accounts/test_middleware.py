import pytest
from django.conf import settings
from django.urls import NoReverseMatch, reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

# Sample arguments for public views whose URL needs some; a bad key still has to answer.
PUBLIC_VIEW_KWARGS = {
    "account_confirm_email": {"key": "not-a-real-key"},
    "account_reset_password_from_key": {"uidb36": "0", "key": "not-a-real-key"},
}

PRIVATE_VIEW_NAMES = [
    ("today", {}),
    ("dose_skip", {}),
    ("onboarding", {}),
    ("onboarding_stop", {}),
    ("onboarding_step", {"step": "safety"}),
    ("account_email", {}),
    ("account_change_password", {}),
    ("admin:index", {}),
]


def _login_url():
    return reverse(settings.LOGIN_URL)


# Public views that take a signed token or a key: a made-up one must answer kindly too.
GUESSED_KWARGS = [{}, {"token": "not-a-real-token"}, {"key": "not-a-real-key"}]


def _public_url(name):
    if name in PUBLIC_VIEW_KWARGS:
        return reverse(name, kwargs=PUBLIC_VIEW_KWARGS[name])
    for kwargs in GUESSED_KWARGS:
        try:
            return reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            continue
    raise AssertionError(f"Add sample URL arguments for the public view {name!r}")


@pytest.mark.parametrize("name", sorted(settings.PUBLIC_VIEW_NAMES))
def test_anonymous_can_reach_every_public_view(client, name):
    response = client.get(_public_url(name))
    if response.status_code == 302:
        # Some public views send a visitor on (logout with nobody logged in goes home),
        # but never to the login page because they are anonymous.
        assert not response["Location"].startswith(_login_url() + "?")
    else:
        # 404 is a fine answer to a made-up token; a login redirect or a 500 is not.
        assert response.status_code in (200, 404)


@pytest.mark.parametrize("name,kwargs", PRIVATE_VIEW_NAMES)
def test_anonymous_is_sent_to_login_from_a_private_view(client, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    response = client.get(url)
    assert response.status_code == 302
    login_url = reverse("admin:login") if name.startswith("admin:") else _login_url()
    assert response["Location"].startswith(login_url)
    assert "next=" in response["Location"]


def test_anonymous_post_to_a_private_view_changes_nothing_and_goes_to_login(client):
    response = client.post(reverse("dose_take"))
    assert response.status_code == 302
    assert response["Location"].startswith(_login_url())


def test_the_login_redirect_brings_the_patient_back_to_the_page(client, patient):
    response = client.get(reverse("dose_skip"))
    response = client.post(
        response["Location"], {"login": "alex@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("dose_skip")


def test_an_unknown_address_is_a_404_not_a_login_redirect(client):
    assert client.get("/no-such-page/").status_code == 404


def test_a_logged_in_patient_passes_through(patient_client):
    assert patient_client.get(reverse("today")).status_code == 200
