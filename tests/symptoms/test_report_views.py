import datetime as dt
import html
import io
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from symptoms.models import DiaryEntry

from .conftest import TODAY, add_history, login_redirect, patient_on_day

pytestmark = pytest.mark.django_db

URL = reverse("report")
PDF_URL = reverse("report_pdf")
PAIN_ROW = re.compile(
    r'Pain <span class="direction">\(higher is worse\)</span></th>\s*'
    r"<td>6\.0</td>\s*<td>4\.2</td>\s*<td>-1\.8 \(-30%\)</td>"
)


@pytest.fixture
def reporter(frozen):
    """Plan day 30, with a run-in week, every day logged, and three kinds of notes."""
    patient = patient_on_day(30, email="rep@example.org")
    add_history(
        patient,
        notes_for={
            TODAY - dt.timedelta(days=3): ("Flare after gardening", True),
            TODAY - dt.timedelta(days=2): ("Worried about work, keep this private", False),
            TODAY - dt.timedelta(days=60): ("Too old for the plan", True),
        },
    )
    return patient


def page(client, user, query=""):
    client.force_login(user)
    response = client.get(URL + query)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def pdf_text(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)


@pytest.mark.parametrize("url", [URL, PDF_URL])
def test_anonymous_visitors_are_sent_to_login(client, url):
    assert login_redirect(client.get(url))


@pytest.mark.parametrize("url", [URL, PDF_URL])
def test_clinicians_get_404(client, clinician, url):
    client.force_login(clinician)
    assert client.get(url).status_code == 404


def test_the_report_shows_baseline_and_current_pain(client, reporter):
    body = page(client, reporter)
    assert PAIN_ROW.search(body)
    assert "Pain response: moderate improvement (≥30% or ≥2 points lower)." in body
    assert "Report period 15 Oct 2026 to 20 Nov 2026." in body


def test_the_report_shows_the_dose_steps_and_adherence(client, reporter):
    body = page(client, reporter)
    assert "<li>1.5 mg from 22 Oct to 28 Oct 2026 (7 days)</li>" in body
    assert "<li>3.0 mg from 29 Oct to 4 Nov 2026 (7 days)</li>" in body
    assert "30 of 30 doses taken (100%)." in body


def test_only_notes_marked_shared_appear(client, reporter):
    body = page(client, reporter)
    assert "17 Nov 2026: Flare after gardening" in body
    assert "keep this private" not in body


def test_notes_outside_the_period_do_not_appear(client, reporter):
    body = page(client, reporter, "?start=2026-11-18&end=2026-11-20")
    assert "Flare after gardening" not in body
    assert "No notes shared." in body


def test_another_patients_shared_notes_and_ratings_never_appear(client, reporter, other_patient):
    DiaryEntry.objects.create(
        patient=other_patient, date=TODAY, pain=10, notes="Sam's shared note", share_notes=True
    )
    body = page(client, reporter)
    assert "Sam's shared note" not in body
    assert "sam@example.org" not in body
    assert PAIN_ROW.search(body)


def test_a_chosen_period_is_used(client, reporter):
    body = page(client, reporter, "?start=2026-11-01&end=2026-11-10")
    assert "Report period 1 Nov 2026 to 10 Nov 2026." in body
    assert "10 of 10 doses taken (100%)." in body


def test_by_default_a_long_plan_shows_its_last_90_days_and_the_form_says_so(client, frozen):
    veteran = patient_on_day(120, email="vet@example.org")
    body = page(client, veteran)
    assert "Report period 23 Aug 2026 to 20 Nov 2026." in body
    assert 'name="start" value="2026-08-23"' in body
    assert 'name="end" value="2026-11-20"' in body


def test_a_plan_starting_tomorrow_gets_its_run_in_week_and_never_a_period_ending_before_it_begins(
    client, frozen
):
    early = patient_on_day(0, email="early@example.org")
    body = page(client, early)
    assert "Report period 14 Nov 2026 to 20 Nov 2026." in body
    assert 'name="start" value="2026-11-14"' in body


def test_a_start_before_the_run_in_is_moved_to_its_first_day(client, reporter):
    body = page(client, reporter, "?start=2020-01-01&end=2026-11-20")
    assert "Report period 15 Oct 2026 to 20 Nov 2026." in body


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("?start=2026-11-15&end=2026-11-10", "end", "The end date must be after the start date."),
        (
            "?start=2026-11-01&end=2026-11-21",
            "end",
            "The report can't include days that haven't happened yet.",
        ),
        ("?start=2026-11-01&end=9999-12-31", "end", "haven't happened yet"),
        ("?start=yesterday&end=2026-11-20", "start", "Please enter a date like 2026-11-01."),
        ("?start=2026-11-01&end=31/13/2026", "end", "Please enter a date like 2026-11-30."),
        ("?start=2026-02-30&end=2026-11-20", "start", "Please enter a date like 2026-11-01."),
        ("?start=2026-11-01&end=99999-01-01", "end", "Please enter a date like 2026-11-30."),
        ("?start=2026-11-01&end=", "end", "Please choose the last day of the report."),
        ("?end=2026-11-20", "start", "Please choose the first day of the report."),
        (
            "?start=2020-01-01&end=2020-01-31",
            "end",
            "Your records start on 15 October 2026. Please choose an end date after that.",
        ),
        ("?start=0001-01-01&end=0001-01-02", "end", "Your records start on 15 October 2026."),
    ],
)
def test_a_bad_period_gets_a_message_next_to_the_field(client, reporter, query, field, message):
    body = page(client, reporter, query)
    # Crispy puts the error inside the field's own block, tied to the input.
    block = body[body.index(f'<div id="div_id_{field}"') : body.index("Show this period")]
    if field == "start":
        block = block[: block.index('<div id="div_id_end"')]
    assert f'aria-describedby="id_{field}_error"' in block
    assert message in block
    # The report underneath falls back to the default period.
    assert "Report period 15 Oct 2026 to 20 Nov 2026." in body


def test_a_stray_parameter_is_not_treated_as_a_bad_period(client, reporter):
    body = page(client, reporter, "?utm_source=newsletter")
    assert "invalid-feedback" not in body
    assert PAIN_ROW.search(body)


def test_the_pdf_link_keeps_the_chosen_period(client, reporter):
    body = page(client, reporter, "?start=2026-11-01&end=2026-11-10")
    assert f'href="{PDF_URL}?start=2026-11-01&end=2026-11-10"' in body


def test_the_pdf_holds_baseline_and_current_pain(client, reporter):
    client.force_login(reporter)
    response = client.get(PDF_URL)
    assert response["Content-Disposition"] == (
        'attachment; filename="ldn-report-2026-10-15-2026-11-20.pdf"'
    )
    text = pdf_text(response)
    assert "Pain (higher is worse) 6.0 4.2 -1.8 (-30%)" in text
    assert "moderate improvement" in text
    assert "Flare after gardening" in text
    assert "keep this private" not in text


def test_the_pdf_for_a_bad_period_is_still_a_pdf(client, reporter):
    client.force_login(reporter)
    text = pdf_text(client.get(PDF_URL + "?start=nonsense&end=2030-01-01"))
    assert "Report period 15 Oct 2026 to 20 Nov 2026." in text


def test_the_pdf_charts_are_drawn_in_their_colours(client, reporter):
    # WeasyPrint ignores the page's CSS inside an SVG: without the chart's own colours the
    # dose band came out as black bars and the 7-day mean line not at all.
    client.force_login(reporter)
    response = client.get(PDF_URL)
    drawing = "".join(
        page.get_contents().get_data().decode("latin-1")
        for page in PdfReader(io.BytesIO(response.content)).pages
    )
    mean_line_teal = "0.043137 0.368627 0.388235 RG"  # #0b5e63, stroked
    band_light = "0.843137 0.921569 0.92549 rg"  # #d7ebec, filled
    assert mean_line_teal in drawing
    assert band_light in drawing


def test_the_reports_dose_is_the_dose_decisions_not_the_plan_as_written(client, frozen):
    """Moderate nausea before the step to 4.5 mg holds it at 3.0 mg (the tolerance rule, not
    yet recorded as an event): the plan as written says 4.5 mg."""
    from titration import selectors as titration_selectors

    held = patient_on_day(16, email="held@example.org")
    add_history(held)
    plan = held.plans.get()
    DiaryEntry.objects.filter(
        patient=held, date__gte=TODAY - dt.timedelta(days=3), date__lte=TODAY - dt.timedelta(days=2)
    ).update(nausea=2)
    assert plan.planned_dose_on(TODAY).dose_mg == 4.5
    tonight = titration_selectors.tonight(held, plan)
    assert tonight.due.dose_mg == 3
    body = page(client, held)
    assert "<strong>3.0 mg, capsules (strength not recorded)</strong>" in body
    assert "Step-up waiting:" in body
    assert "4.5 mg =" not in body and "<strong>4.5 mg" not in body


def test_a_capsule_dose_names_how_many_capsules_of_the_batchs_strength(client, reporter):
    from titration import services as titration_services

    titration_services.supply_record(
        patient=reporter,
        kind="refill",
        received_on=TODAY - dt.timedelta(days=10),
        amount=60,
        capsule_strength_mg="1.5",
    )
    body = page(client, reporter)
    assert "<strong>4.5 mg = 3 capsules of 1.5 mg</strong>" in body
