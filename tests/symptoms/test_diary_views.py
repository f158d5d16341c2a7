import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from symptoms.models import DiaryEntry
from titration.models import PlanEvent

from ..factories import DiaryEntryFactory, onboarded_patient

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 19, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def diarist(frozen):
    return onboarded_patient(email="dee@example.org", start_date=dt.date(2026, 11, 10))


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(reverse("diary"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_clinicians_get_404(client, clinician):
    client.force_login(clinician)
    assert client.get(reverse("diary")).status_code == 404


def test_the_diary_says_which_way_each_scale_goes(client, diarist):
    client.force_login(diarist)
    body = client.get(reverse("diary")).content.decode()
    assert "0 = No pain, 10 = Worst pain imaginable. Higher is worse." in body
    assert "Higher is better." in body
    assert "Vivid dreams" in body


def test_saving_a_partial_day_creates_one_entry_and_saving_again_edits_it(client, diarist):
    client.force_login(diarist)
    client.post(reverse("diary"), {"pain": "6"})
    entry = DiaryEntry.objects.get(patient=diarist)
    assert entry.pain == 6
    assert entry.is_partial()
    client.post(reverse("diary"), {"pain": "5", "sleep": "7", "headache": "2"})
    entry = DiaryEntry.objects.get(patient=diarist)
    assert (entry.pain, entry.sleep, entry.headache) == (5, 7, 2)
    assert DiaryEntry.objects.filter(patient=diarist).count() == 1


@pytest.mark.parametrize("value", ["11", "-1", "abc", "5.5", "NaN"])
def test_out_of_range_ratings_are_refused_next_to_the_field(client, diarist, value):
    client.force_login(diarist)
    response = client.post(reverse("diary"), {"pain": value, "notes": "kept text"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Choose a number from 0 to 10." in body
    assert "kept text" in body
    assert not DiaryEntry.objects.exists()


def test_unknown_severity_is_refused(client, diarist):
    client.force_login(diarist)
    response = client.post(reverse("diary"), {"nausea": "9"})
    assert "Choose none, mild, moderate or severe." in response.content.decode()
    assert not DiaryEntry.objects.exists()


def test_no_side_effects_sets_every_side_effect_to_none(client, diarist):
    client.force_login(diarist)
    client.post(reverse("diary"), {"no_side_effects": "on"})
    entry = DiaryEntry.objects.get(patient=diarist)
    assert entry.headache == 0 and entry.vivid_dreams == 0 and entry.other == 0


def test_other_side_effect_needs_a_description(client, diarist):
    client.force_login(diarist)
    response = client.post(reverse("diary"), {"other": "2"})
    assert "Please say what the other side effect was." in response.content.decode()


def test_an_earlier_day_is_stamped_as_edited_later(client, diarist):
    client.force_login(diarist)
    client.post(reverse("diary_day", kwargs={"day": "2026-11-15"}), {"pain": "4"})
    entry = DiaryEntry.objects.get(patient=diarist)
    assert entry.date == dt.date(2026, 11, 15)
    assert entry.edited_after_day is True


@pytest.mark.parametrize("day", ["2026-11-21", "2026-11-12"])
def test_future_days_and_days_over_a_week_back_are_refused(client, diarist, day):
    client.force_login(diarist)
    response = client.post(reverse("diary_day", kwargs={"day": day}), {"pain": "4"}, follow=True)
    assert "today or up to 7 days back" in response.content.decode()
    assert not DiaryEntry.objects.exists()


def test_a_garbage_date_is_404(client, diarist):
    client.force_login(diarist)
    assert client.get(reverse("diary_day", kwargs={"day": "yesterday"})).status_code == 404


def test_another_patients_entry_is_never_shown_or_changed(client, diarist, other_patient):
    theirs = DiaryEntryFactory(
        patient=other_patient, date=dt.date(2026, 11, 20), pain=9, notes="private"
    )
    client.force_login(diarist)
    body = client.get(reverse("diary")).content.decode()
    assert "private" not in body
    client.post(reverse("diary"), {"pain": "2"})
    theirs.refresh_from_db()
    assert theirs.pain == 9


def test_after_week_four_the_diary_is_short_with_a_link_to_the_full_one(client, frozen):
    user = onboarded_patient(start_date=dt.date(2026, 9, 1))
    client.force_login(user)
    body = client.get(reverse("diary")).content.decode()
    assert "Open the full diary" in body
    assert 'name="fatigue"' not in body
    full = client.get(reverse("diary") + "?full=1").content.decode()
    assert 'name="fatigue"' in full


def test_in_the_week_after_a_dose_change_the_diary_is_full(client, frozen):
    user = onboarded_patient(start_date=dt.date(2026, 10, 20))  # day 32, step-up on day 15
    client.force_login(user)
    body = client.get(reverse("diary")).content.decode()
    assert 'name="fatigue"' not in body  # 17 days after the last change: short
    user2 = onboarded_patient(start_date=dt.date(2026, 10, 1), email="back@example.org")
    PlanEvent.objects.create(
        plan=user2.plans.get(), kind=PlanEvent.Kind.STEP_BACK, effective_date=dt.date(2026, 11, 17)
    )
    client.force_login(user2)
    assert 'name="fatigue"' in client.get(reverse("diary")).content.decode()


def test_the_short_diary_keeps_what_the_full_one_saved_earlier_that_day(client, frozen):
    user = onboarded_patient(start_date=dt.date(2026, 9, 1))
    client.force_login(user)
    client.post(reverse("diary") + "?full=1", {"pain": "6", "fatigue": "8", "mood": "3"})
    client.post(reverse("diary"), {"pain": "4", "sleep": "5"})  # the short form
    entry = DiaryEntry.objects.get(patient=user)
    assert (entry.pain, entry.sleep, entry.fatigue, entry.mood) == (4, 5, 8, 3)


def test_a_diary_post_writes_with_one_upsert(client, diarist, django_assert_num_queries):
    client.force_login(diarist)
    DiaryEntryFactory(patient=diarist, date=NOW.date(), pain=8)
    # As the page posts it (it says which form it showed): session, user, profile, the
    # entry's upsert, the clinic review request, session save, and the test transaction's
    # four savepoint statements. No read of the plan or of the entry before the write.
    with django_assert_num_queries(10):
        response = client.post(reverse("diary"), {"diary_form": "full", "pain": "3"})
    assert response.status_code == 302
    assert DiaryEntry.objects.get(patient=diarist).pain == 3


def test_the_page_says_which_form_it_showed(client, frozen):
    short = onboarded_patient(start_date=dt.date(2026, 9, 1))
    client.force_login(short)
    assert 'name="diary_form" value="short"' in client.get(reverse("diary")).content.decode()
    full = client.get(reverse("diary") + "?full=1").content.decode()
    assert 'name="diary_form" value="full"' in full


def test_a_short_form_saves_only_its_fields_when_the_full_one_has_become_due(client, diarist):
    """A page opened as the short diary and sent after a dose change made the full one due:
    the notes, factors and ratings it did not show are kept, not blanked."""
    DiaryEntryFactory(
        patient=diarist, date=NOW.date(), fatigue=7, notes="kept", alcohol=True, pain=8
    )
    client.force_login(diarist)
    assert 'name="fatigue"' in client.get(reverse("diary")).content.decode()  # full is due
    response = client.post(reverse("diary"), {"diary_form": "short", "pain": "3", "sleep": "6"})
    assert response.status_code == 302
    entry = DiaryEntry.objects.get(patient=diarist)
    assert (entry.pain, entry.sleep) == (3, 6)
    assert (entry.fatigue, entry.notes, entry.alcohol) == (7, "kept", True)


def test_a_post_without_the_forms_name_is_read_as_the_server_would_show_it(client, frozen):
    user = onboarded_patient(start_date=dt.date(2026, 9, 1))  # short form due
    DiaryEntryFactory(patient=user, date=NOW.date(), notes="kept")
    client.force_login(user)
    client.post(reverse("diary"), {"diary_form": "anything", "pain": "2"})
    entry = DiaryEntry.objects.get(patient=user)
    assert (entry.pain, entry.notes) == (2, "kept")
