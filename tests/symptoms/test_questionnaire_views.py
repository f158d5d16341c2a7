import html
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from symptoms import questionnaires as q
from symptoms.models import QuestionnaireResponse

from .conftest import login_redirect, patient_on_day

pytestmark = pytest.mark.django_db

FIQR_0 = reverse("questionnaire", kwargs={"kind": "fiqr", "week": 0})
FIQR_4 = reverse("questionnaire", kwargs={"kind": "fiqr", "week": 4})
PGIC_0 = reverse("questionnaire", kwargs={"kind": "pgic", "week": 0})
PGIC_4 = reverse("questionnaire", kwargs={"kind": "pgic", "week": 4})
NOT_OPEN = "This questionnaire isn't open now, or it's already done."


@pytest.fixture
def week_zero(frozen):
    """Plan day 1: the week-0 FIQR is due today."""
    return patient_on_day(1, email="wz@example.org")


@pytest.fixture
def week_four(frozen):
    """Plan day 30: the week-4 questionnaires fell due two days ago."""
    return patient_on_day(30, email="wf@example.org")


def fiqr_answers(function, overall, symptoms):
    keys = [k for k, _ in q.FIQR_FUNCTION] + [k for k, _ in q.FIQR_OVERALL]
    keys += [item[0] for item in q.FIQR_SYMPTOMS]
    return dict(zip(keys, [str(v) for v in [*function, *overall, *symptoms]], strict=True))


# function 1..9 = 45, / 3 = 15.0; overall 3 + 4 = 7; symptoms 0..9 = 45, / 2 = 22.5 -> 44.5
MIXED = fiqr_answers(range(1, 10), [3, 4], range(10))


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_anonymous_visitors_are_sent_to_login(client):
    assert login_redirect(client.get(FIQR_0))
    assert login_redirect(client.post(FIQR_0, MIXED))
    assert not QuestionnaireResponse.objects.exists()


def test_clinicians_get_404(client, clinician):
    client.force_login(clinician)
    assert client.get(FIQR_0).status_code == 404
    assert client.post(FIQR_0, MIXED).status_code == 404


def test_an_unknown_questionnaire_is_404(client, week_zero):
    client.force_login(week_zero)
    url = reverse("questionnaire", kwargs={"kind": "phq9", "week": 0})
    assert client.get(url).status_code == 404


def test_the_week_zero_fiqr_shows_all_21_questions(client, week_zero):
    client.force_login(week_zero)
    response = client.get(FIQR_0)
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert body.count("<fieldset") == 21
    assert "Brush or comb your hair" in body
    assert "0 = No pain, 10 = Unbearable pain." in body


def test_completing_the_week_zero_fiqr_stores_the_score(client, week_zero):
    client.force_login(week_zero)
    response = client.post(FIQR_0, MIXED)
    assert response.status_code == 302
    assert response["Location"] == reverse("progress")
    saved = QuestionnaireResponse.objects.get(patient=week_zero)
    assert (saved.kind, saved.week, saved.score) == ("fiqr", 0, Decimal("44.5"))
    assert saved.answers["f9"] == 9 and saved.answers["s1"] == 0
    assert messages_of(response) == ["Thank you. Saved (FIQR (fibromyalgia impact))."]


def test_a_missing_item_is_reported_next_to_it_and_typed_answers_are_kept(client, week_zero):
    client.force_login(week_zero)
    answers = {k: v for k, v in MIXED.items() if k != "s5"}
    response = client.post(FIQR_0, answers)
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert "Some answers are missing: they are marked below." in body
    # The message sits inside the fieldset of the question left out...
    s5 = body[body.index("Your level of depression") : body.index("Your level of memory")]
    assert '<p id="s5-error" class="field-error">Please choose a number from 0 to 10.</p>' in s5
    assert body.count('class="field-error"') == 1
    # ...and what was already chosen is still chosen.
    assert _checked(body, "f7", "7")
    assert not _checked(body, "f7", "6")
    assert _checked(body, "s10", "9")
    assert not QuestionnaireResponse.objects.exists()


def _checked(body, name, value):
    start = body.index(f'name="{name}" value="{value}"')
    tag = body[body.rindex("<input", 0, start) : body.index(">", start)]
    return "checked" in tag


@pytest.mark.parametrize("value", ["11", "-1", "five", "4.5"])
def test_an_out_of_range_item_is_refused(client, week_zero, value):
    client.force_login(week_zero)
    response = client.post(FIQR_0, MIXED | {"o1": value})
    assert response.status_code == 200
    assert "Choose a number from 0 to 10." in response.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def test_completing_twice_is_refused(client, week_zero):
    client.force_login(week_zero)
    client.post(FIQR_0, MIXED)
    response = client.post(FIQR_0, fiqr_answers([10] * 9, [10] * 2, [10] * 10))
    assert response.status_code == 302
    assert response["Location"] == reverse("today")
    assert messages_of(response)[-1] == NOT_OPEN
    saved = QuestionnaireResponse.objects.get(patient=week_zero)
    assert saved.score == Decimal("44.5")


def test_a_double_tap_that_passes_the_open_check_twice_is_refused_not_a_500(
    client, week_zero, monkeypatch
):
    client.force_login(week_zero)
    client.post(FIQR_0, MIXED)
    # The second request read "not done yet" before the first one saved.
    real = q.open_questionnaires
    monkeypatch.setattr(
        q, "open_questionnaires", lambda start, today, done: real(start, today, set())
    )
    response = client.post(FIQR_0, MIXED)
    assert response.status_code == 302
    assert messages_of(response)[-1] == NOT_OPEN
    assert QuestionnaireResponse.objects.filter(patient=week_zero).count() == 1


def test_a_completed_questionnaire_is_not_shown_again(client, week_zero):
    client.force_login(week_zero)
    client.post(FIQR_0, MIXED)
    response = client.get(FIQR_0)
    assert response.status_code == 302
    assert messages_of(response)[-1] == NOT_OPEN


def test_there_is_no_pgic_at_week_zero(client, week_zero):
    client.force_login(week_zero)
    response = client.get(PGIC_0)
    assert response.status_code == 302
    assert response["Location"] == reverse("today")
    assert messages_of(response) == [NOT_OPEN]
    assert client.post(PGIC_0, {"pgic": "5"}).status_code == 302
    assert not QuestionnaireResponse.objects.exists()


def test_a_questionnaire_not_yet_due_redirects_with_a_message(client, week_zero):
    client.force_login(week_zero)
    response = client.post(FIQR_4, MIXED)
    assert response.status_code == 302
    assert response["Location"] == reverse("today")
    assert messages_of(response) == [NOT_OPEN]
    assert not QuestionnaireResponse.objects.exists()


def test_a_questionnaire_past_its_week_is_closed(client, week_four):
    client.force_login(week_four)
    response = client.get(FIQR_0)
    assert response.status_code == 302
    assert messages_of(response) == [NOT_OPEN]


def test_an_invalid_answer_to_a_closed_questionnaire_still_redirects(client, week_four):
    client.force_login(week_four)
    response = client.post(FIQR_0, {"f1": "3"})
    assert response.status_code == 302
    assert messages_of(response) == [NOT_OPEN]


def test_the_week_four_pgic_can_be_completed(client, week_four):
    client.force_login(week_four)
    page = client.get(PGIC_4)
    assert page.status_code == 200
    assert "A great deal better" in html.unescape(page.content.decode())
    response = client.post(PGIC_4, {"pgic": "6"})
    assert response.status_code == 302
    saved = QuestionnaireResponse.objects.get(patient=week_four)
    assert (saved.kind, saved.week, saved.score) == ("pgic", 4, Decimal("6.0"))
    assert saved.answers == {"pgic": 6}


def test_the_pgic_needs_an_answer(client, week_four):
    client.force_login(week_four)
    response = client.post(PGIC_4, {})
    assert response.status_code == 200
    assert "Please choose the answer closest to how you feel." in response.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def test_the_week_four_fiqr_is_open_alongside_the_pgic(client, week_four):
    client.force_login(week_four)
    assert client.get(FIQR_4).status_code == 200
    client.post(PGIC_4, {"pgic": "4"})
    assert client.get(FIQR_4).status_code == 200


def test_another_patients_answers_do_not_close_mine(client, week_zero, frozen):
    other = patient_on_day(1, email="other@example.org")
    client.force_login(other)
    client.post(FIQR_0, fiqr_answers([0] * 9, [0] * 2, [0] * 10))
    client.force_login(week_zero)
    assert client.get(FIQR_0).status_code == 200
    client.post(FIQR_0, MIXED)
    scores = dict(QuestionnaireResponse.objects.values_list("patient__email", "score"))
    assert scores == {"other@example.org": Decimal("0.0"), "wz@example.org": Decimal("44.5")}
