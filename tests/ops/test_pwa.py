"""The installable app: the manifest, the service worker at the site root, the install card."""

import datetime as dt
import json

import pytest
import time_machine
from django.templatetags.static import static

from ops import pwa
from tests.factories import DoseLogFactory, onboarded_patient
from titration.selectors import current_plan


def test_the_manifest_names_the_app_starts_on_today_and_lists_our_icons(client, db):
    response = client.get("/manifest.webmanifest")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == "LDN Tracker"
    assert manifest["start_url"] == "/today/"
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"] if icon["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
    for icon in manifest["icons"]:
        assert icon["src"].startswith("/static/icons/")


def test_every_icon_the_manifest_names_is_a_file_in_static(client, db, settings):
    from django.contrib.staticfiles import finders

    manifest = json.loads(client.get("/manifest.webmanifest").content)
    for icon in manifest["icons"]:
        name = icon["src"].removeprefix(settings.STATIC_URL)
        assert finders.find(name), name


def test_the_service_worker_is_served_from_the_root_uncached_with_its_version(client, db):
    response = client.get("/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"
    assert response["Service-Worker-Allowed"] == "/"
    text = response.content.decode()
    assert pwa.shell_version() in text
    for url in pwa.shell_urls():
        assert json.dumps(url) in text


def test_the_shell_lists_the_vendored_assets_and_every_one_exists():
    from django.contrib.staticfiles import finders

    assert static("vendor/htmx-2.0.11/htmx.min.js") in pwa.shell_urls()
    for name in pwa.SHELL_FILES:
        assert finders.find(name), name


def test_the_shell_version_changes_when_a_shell_file_changes(tmp_path, settings):
    pwa.shell_version.cache_clear()
    before = pwa.shell_version()
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "app.css").write_text("body { color: red; }")
    settings.STATICFILES_DIRS = [tmp_path, *settings.STATICFILES_DIRS]
    from django.contrib.staticfiles import finders

    finders.get_finder.cache_clear()
    pwa.shell_version.cache_clear()
    try:
        assert pwa.shell_version() != before
    finally:
        settings.STATICFILES_DIRS = settings.STATICFILES_DIRS[1:]
        finders.get_finder.cache_clear()
        pwa.shell_version.cache_clear()


@pytest.fixture
def evening():
    with time_machine.travel(dt.datetime(2026, 3, 10, 21, 0, tzinfo=dt.UTC), tick=False):
        yield


def test_today_offers_the_install_card_only_once_a_dose_is_logged(db, evening, client):
    patient = onboarded_patient(email="kim@example.org")
    client.force_login(patient)
    patient_client = client
    page = patient_client.get("/today/").content.decode()
    assert "data-install-card" not in page

    DoseLogFactory(patient=patient, plan=current_plan(patient))
    page = patient_client.get("/today/").content.decode()
    assert "data-install-card" in page
    assert "Add to Home Screen" in page  # the iPhone steps


@pytest.mark.django_db
def test_patient_pages_carry_a_device_owner_tag_without_the_id(patient_client, patient):
    page = patient_client.get("/today/").content.decode()
    assert 'data-patient="' in page
    assert f'data-patient="{patient.pk}"' not in page
