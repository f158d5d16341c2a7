"""Log lines in production: JSON, one per request with its id (also in X-Request-ID), the
user id, method, path without query string, status and duration; nothing that names a
person or holds what they wrote."""

import json
import logging
import re

import pytest
from django.urls import reverse

from ops.logs import ContextFilter, JsonFormatter
from tests.services import every_logger_at_debug

REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


class JsonLines(logging.Handler):
    """The production formatter and filter on the root logger, every logger at DEBUG."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.addFilter(ContextFilter())
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))

    @property
    def objects(self):
        return [json.loads(line) for line in self.lines]

    def requests(self):
        return [line for line in self.objects if line["logger"] == "ops.request"]


@pytest.fixture
def json_logs():
    with every_logger_at_debug(JsonLines()) as handler:
        yield handler


def test_every_response_carries_a_fresh_request_id(client, db):
    first = client.get("/healthz")
    second = client.get("/healthz")

    assert REQUEST_ID.match(first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_request_id_sent_by_the_client_is_not_taken(client, db, json_logs):
    response = client.get("/healthz", headers={"X-Request-ID": "chosen-by-the-client"})

    assert response["X-Request-ID"] != "chosen-by-the-client"
    assert "chosen-by-the-client" not in "".join(json_logs.lines)


def test_a_request_writes_one_json_line_with_its_id_user_path_status_and_duration(
    patient_client, patient, json_logs
):
    response = patient_client.get(reverse("today"), {"q": "Alex Smith"})

    assert response.status_code == 200
    (line,) = json_logs.requests()
    assert line["request_id"] == response["X-Request-ID"]
    assert line["user_id"] == patient.pk
    assert line["method"] == "GET"
    assert line["path"] == "/today/"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["level"] == "INFO"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00$", line["time"])
    everything = "\n".join(json_logs.lines)
    assert "Alex" not in everything and "q=" not in everything
    assert patient.email not in everything


def test_an_anonymous_request_has_no_user_id(client, db, json_logs):
    client.get(reverse("account_login"))

    (line,) = json_logs.requests()
    assert "user_id" not in line
    assert line["path"] == "/accounts/login/"


def test_lines_written_while_a_request_runs_carry_its_id_and_never_the_full_url(
    patient_client, patient, json_logs
):
    # Django logs a 404 itself, with the request object attached (whose text is the URL with
    # its query string), after the last middleware has returned.
    response = patient_client.get("/no-such-page/", {"name": "Alex Smith"})

    assert response.status_code == 404
    warning = next(line for line in json_logs.objects if line["logger"] == "django.request")
    assert warning["request_id"] == response["X-Request-ID"]
    assert warning["user_id"] == patient.pk
    assert "request" not in warning
    assert "Alex" not in "\n".join(json_logs.lines)


def test_secrets_in_a_url_path_are_logged_by_name_and_numeric_ids_as_they_are(
    client, patient, clinician, json_logs
):
    client.force_login(patient)
    client.post(reverse("clinic:sharing_accept", args=["SECRETCODE42"]))
    client.get(reverse("account_confirm_email", args=["MQ:1tKey:Secret-confirmation"]))
    client.get(reverse("reminder_action", args=["opaque-reminder-token"]))
    client.force_login(clinician)
    client.get(reverse("clinic:patient_detail", args=[patient.pk]))

    paths = [line["path"] for line in json_logs.requests()]
    assert paths == [
        "/sharing/accept/<code>/",
        "/accounts/confirm-email/<key>/",
        "/r/<token>/",
        f"/clinic/patients/{patient.pk}/",
    ]
    everything = "\n".join(json_logs.lines)
    for secret in ("SECRETCODE42", "Secret-confirmation", "opaque-reminder-token"):
        assert secret not in everything


def test_a_logout_line_names_the_user_who_logged_out(patient_client, patient, json_logs):
    patient_client.post(reverse("account_logout"))

    (line,) = json_logs.requests()
    assert line["user_id"] == patient.pk
    assert line["method"] == "POST"


def test_a_failed_login_logs_no_email_address(client, patient, json_logs):
    client.post(reverse("account_login"), {"login": patient.email, "password": "wrong-password"})

    assert json_logs.requests()[0]["status"] == 200
    assert any("AXES" in line["message"] for line in json_logs.objects), "axes was heard"
    assert patient.email not in "\n".join(json_logs.lines)


def test_outside_a_request_or_task_a_line_has_no_context(json_logs):
    logging.getLogger("ops").warning("starting")

    (line,) = json_logs.objects
    assert line["message"] == "starting"
    assert not {"request_id", "user_id", "task_id", "task_name"} & set(line)
