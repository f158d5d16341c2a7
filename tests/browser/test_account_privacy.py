"""A patient on a 390 px phone downloads their data and deletes their account: the password
is asked for again only when the login is more than 10 minutes old, in plain words, and
each path ends on a page that says what happened."""

import datetime as dt
import io
import re
import zipfile

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE_390 = {"width": 390, "height": 844}


def log_in(page, patient):
    page.set_viewport_size(PHONE_390)
    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="Email").fill(patient.email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/today/$"))


def zip_names(download) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read())).namelist()


def test_a_fresh_login_downloads_at_once_and_says_so(page, check_page, patient):
    log_in(page, patient)
    page.goto("/settings/account/")
    check_page("settings")
    with page.expect_download() as started:
        page.get_by_role("button", name="Download my data").click()
    expect(page.get_by_role("heading", name="Your download has started")).to_be_visible()
    assert "account.json" in zip_names(started.value)
    assert started.value.suggested_filename.startswith("ldn-tracker-all-my-data-")
    check_page("download-started")

    page.goto("/progress/")
    with page.expect_download() as csv_started:
        page.get_by_role("button", name="Download my diary and doses (CSV)").click()
    expect(page.get_by_role("heading", name="Your download has started")).to_be_visible()
    assert sorted(zip_names(csv_started.value)) == [
        "README.txt",
        "diary.csv",
        "doses.csv",
        "questionnaires.csv",
    ]
    check_page("csv-download-started")


def test_an_old_login_asks_for_the_password_then_the_download_starts(page, check_page, patient):
    log_in(page, patient)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        page.goto("/settings/account/")
        page.get_by_role("button", name="Download my data").click()
        expect(page.get_by_role("heading", name="Type your password again")).to_be_visible()
        expect(page.locator("main")).to_contain_text("Before we send you your data")
        expect(page.locator("main")).not_to_contain_text("Confirm Access")
        check_page("password-again")

        page.get_by_role("textbox", name="Password").fill("not-my-password")
        page.get_by_role("button", name="Continue").click()
        expect(page.locator("main form")).to_contain_text("That isn't your password")
        check_page("wrong-password")

        page.get_by_role("textbox", name="Password").fill(PASSWORD)
        with page.expect_download() as started:
            page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", name="Your download has started")).to_be_visible()
        expect(page.get_by_role("textbox", name="Password")).to_have_count(0)
        assert "diary.csv" in zip_names(started.value)
        check_page("download-started")


def test_delete_untick_press_tick_press_then_password_schedules_and_emails(
    page, check_page, patient
):
    log_in(page, patient)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        page.goto("/settings/account/")
        page.get_by_role("link", name="Delete my account").click()
        expect(page).to_have_url(re.compile(r"/settings/account/delete/$"))
        check_page("delete")

        box = page.get_by_role("checkbox", name=re.compile("I understand"))
        expect(box).not_to_be_checked()
        page.get_by_role("button", name="Delete my account in 7 days").click()
        expect(page).to_have_url(re.compile(r"/settings/account/delete/$"))
        error = page.get_by_text("Please tick the box to confirm.")
        expect(error).to_be_visible()
        # The message sits with the box, in the same field group.
        expect(page.locator(".form-check").filter(has=box)).to_contain_text(
            "Please tick the box to confirm."
        )
        check_page("delete-unticked")

        box.check()
        page.get_by_role("button", name="Delete my account in 7 days").click()
        expect(page.get_by_role("heading", name="Type your password again")).to_be_visible()
        expect(page.locator("main")).to_contain_text("Before we schedule the deletion")
        check_page("password-again")

        page.get_by_role("textbox", name="Password").fill(PASSWORD)
        page.get_by_role("button", name="Continue").click()
        expect(page).to_have_url(re.compile(r"/settings/account/delete/scheduled/$"))
        patient.refresh_from_db()
        when = f"{patient.deletion_due_at.astimezone(patient.profile.zone):%A %-d %B %Y}"
        expect(page.get_by_role("heading", level=1)).to_have_text(
            f"Your account will be deleted on {when}"
        )
        check_page("scheduled")

    [message] = mail.outbox
    assert message.to == [patient.email]
    cancel = re.search(r"https?://\S+/settings/account/delete/cancel/", message.body).group(0)
    page.goto(re.sub(r"^https?://[^/]+", "", cancel))
    expect(page.get_by_role("heading", name="Keep your account?")).to_be_visible()
    check_page("keep-your-account")
    page.get_by_role("button", name="Keep my account").click()
    expect(page.get_by_role("status")).to_contain_text("Your account will not be deleted.")
    patient.refresh_from_db()
    assert not patient.deletion_pending
    check_page("kept")
