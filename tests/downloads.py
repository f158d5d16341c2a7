"""The patient's downloads as a browser meets them: a POST, the "Your download has started"
page, then the file that page starts."""

import time

from django.urls import reverse


def just_logged_in(client, user, *, seconds_ago: float = 0):
    """Logged in with a password `seconds_ago`, as allauth records a login in the session."""
    client.force_login(user)
    session = client.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time() - seconds_ago, "email": user.email}
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return client


def download(client, url: str):
    """POST to a download button's address and follow it to the file: the file's response."""
    started = client.post(url)
    assert started.status_code == 302, started
    page = client.get(started["Location"])
    assert page.status_code == 200
    assert "Your download has started" in page.content.decode()
    [file_url] = {
        reverse("download_file", args=[kind])
        for kind in ("everything", "diary", "fhir")
        if reverse("download_file", args=[kind]) in page.content.decode()
    }
    return client.get(file_url)
