"""The per-minute tick: which rows it creates, sweeps and enqueues."""

import datetime as dt
import uuid

import psycopg
import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core.management import call_command

from reminders import services
from reminders.models import Reminder, ReminderSettings, SweepMark
from reminders.services import reminders_tick
from tests.factories import DoseLogFactory
from tests.services import require_postgresql
from titration import services as titration_services
from titration.models import Plan

from .conftest import database_url, patient_due_at

UTC = dt.UTC
NIGHT = dt.datetime(2026, 1, 15, 21, 30, tzinfo=UTC)  # 21:30 in London


@pytest.fixture
def at_night():
    with time_machine.travel(NIGHT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def due_patient(db, at_night):
    return patient_due_at(NIGHT)


def test_it_creates_one_pending_row_when_the_reminder_falls_due(due_patient):
    result = reminders_tick(now=NIGHT)

    row = Reminder.objects.get()
    assert (row.patient, row.local_date, row.kind) == (due_patient, NIGHT.date(), "first")
    assert (row.status, row.due_at) == (Reminder.Status.PENDING, NIGHT)
    assert result.enqueued == [row.pk]


def test_it_creates_nothing_a_minute_early(due_patient):
    reminders_tick(now=NIGHT - dt.timedelta(minutes=1))

    assert not Reminder.objects.exists()


def test_a_second_tick_creates_and_enqueues_nothing_more(due_patient):
    reminders_tick(now=NIGHT)

    again = reminders_tick(now=NIGHT + dt.timedelta(minutes=1))

    assert Reminder.objects.count() == 1
    assert again.enqueued == []


def test_two_beats_in_the_same_window_make_no_duplicate(due_patient):
    reminders_tick(now=NIGHT)
    # As if a second beat had read the mark before the first one moved it.
    SweepMark.objects.update(covered_until=NIGHT - dt.timedelta(minutes=5))

    reminders_tick(now=NIGHT)

    assert Reminder.objects.count() == 1


def test_the_management_command_runs_the_same_tick(due_patient, capsys):
    call_command("remind")

    assert Reminder.objects.count() == 1
    assert "created 1" in capsys.readouterr().out


def test_a_logged_dose_gets_no_reminder(due_patient):
    DoseLogFactory(plan=Plan.objects.get(patient=due_patient), date=NIGHT.date())

    reminders_tick(now=NIGHT)

    assert not Reminder.objects.exists()


@pytest.mark.parametrize("how", ["reminders_off", "unverified", "paused", "stopped"])
def test_no_reminder_when_it_is_not_wanted(due_patient, how):
    plan = Plan.objects.get(patient=due_patient)
    if how == "reminders_off":
        due_patient.profile.reminders_enabled = False
        due_patient.profile.save()
    elif how == "unverified":
        EmailAddress.objects.filter(user=due_patient).update(verified=False)
    elif how == "paused":
        titration_services.plan_pause(plan=plan, actor=due_patient, day=NIGHT.date(), reason="")
    else:
        titration_services.plan_stop(plan=plan, actor=due_patient, day=NIGHT.date(), reason="x")

    reminders_tick(now=NIGHT)

    assert not Reminder.objects.exists()


def test_after_an_outage_under_two_hours_the_reminder_is_still_sent(due_patient):
    SweepMark.objects.create(pk=1, covered_until=NIGHT - dt.timedelta(minutes=30))

    result = reminders_tick(now=NIGHT + dt.timedelta(minutes=110))

    row = Reminder.objects.get()
    assert row.status == Reminder.Status.PENDING
    assert result.enqueued == [row.pk]


def test_after_an_outage_over_two_hours_it_is_recorded_as_missed_send(due_patient):
    SweepMark.objects.create(pk=1, covered_until=NIGHT - dt.timedelta(minutes=30))

    result = reminders_tick(now=NIGHT + dt.timedelta(hours=2, minutes=1))

    assert Reminder.objects.get().status == Reminder.Status.MISSED_SEND
    assert result.enqueued == []


def test_a_pending_row_left_over_two_hours_becomes_missed_send(due_patient):
    reminders_tick(now=NIGHT)
    Reminder.objects.update(lease_until=None)

    reminders_tick(now=NIGHT + dt.timedelta(hours=2, minutes=1))

    assert Reminder.objects.get().status == Reminder.Status.MISSED_SEND


def test_a_row_whose_worker_vanished_is_enqueued_again_when_its_lease_runs_out(due_patient):
    reminders_tick(now=NIGHT)
    Reminder.objects.update(
        status=Reminder.Status.SENDING, lease_until=NIGHT + dt.timedelta(minutes=5)
    )

    early = reminders_tick(now=NIGHT + dt.timedelta(minutes=4))
    late = reminders_tick(now=NIGHT + dt.timedelta(minutes=6))

    assert early.enqueued == []
    assert late.released == 1
    assert late.enqueued == [Reminder.objects.get().pk]


def test_stay_on_home_time_keeps_the_home_clock_while_travelling(db, at_night):
    # Home is London (21:30 reminder); now in New York, where 21:30 is five hours later.
    patient = patient_due_at(NIGHT, time_zone="Europe/London")
    ReminderSettings.objects.create(
        patient=patient, travel=ReminderSettings.Travel.HOME, home_time_zone="Europe/London"
    )
    patient.profile.time_zone = "America/New_York"
    patient.profile.save()

    reminders_tick(now=NIGHT)

    assert Reminder.objects.get().due_at == NIGHT


def test_follow_where_i_am_moves_the_reminder_with_the_profile_time_zone(db, at_night):
    patient = patient_due_at(NIGHT, time_zone="Europe/London")
    patient.profile.time_zone = "America/New_York"
    patient.profile.save()

    reminders_tick(now=NIGHT)
    assert not Reminder.objects.exists()

    reminders_tick(now=NIGHT + dt.timedelta(hours=5))
    assert Reminder.objects.get().due_at == NIGHT + dt.timedelta(hours=5)


def test_spring_forward_night_fires_once_at_the_first_valid_minute(db):
    # 8 March 2026 in New York: 02:00-03:00 does not exist; a 02:30 reminder goes at 03:00.
    gap_end = dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    with time_machine.travel(gap_end - dt.timedelta(hours=3), tick=False):
        patient = patient_due_at(gap_end, time_zone="America/New_York")
        patient.profile.reminder_time = dt.time(2, 30)
        patient.profile.save()

    for minute in range(0, 180):
        reminders_tick(now=gap_end - dt.timedelta(minutes=90) + dt.timedelta(minutes=minute))

    row = Reminder.objects.get()
    assert (row.local_date, row.due_at) == (dt.date(2026, 3, 8), gap_end)


def test_fall_back_night_fires_once(db):
    # 1 November 2026 in New York: 01:30 happens twice; the reminder goes at the first.
    first = dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    with time_machine.travel(first - dt.timedelta(hours=2), tick=False):
        patient = patient_due_at(first, time_zone="America/New_York")
    assert patient.profile.reminder_time == dt.time(1, 30)

    for minute in range(0, 180):
        reminders_tick(now=first - dt.timedelta(minutes=30) + dt.timedelta(minutes=minute))

    assert list(Reminder.objects.values_list("kind", "due_at")) == [("first", first)]


def _sent_first(patient, at):
    reminders_tick(now=at)
    Reminder.objects.filter(patient=patient).update(status=Reminder.Status.SENT, sent_at=at)


def test_a_nudge_follows_ninety_minutes_after_the_first_if_nothing_is_logged(due_patient):
    _sent_first(due_patient, NIGHT)

    reminders_tick(now=NIGHT + dt.timedelta(minutes=89))
    assert not Reminder.objects.filter(kind="nudge").exists()

    reminders_tick(now=NIGHT + dt.timedelta(minutes=90))
    nudge = Reminder.objects.get(kind="nudge")
    assert nudge.due_at == NIGHT + dt.timedelta(minutes=90)


def test_no_nudge_when_the_patient_switched_it_off(due_patient):
    ReminderSettings.objects.create(patient=due_patient, nudge_enabled=False)
    _sent_first(due_patient, NIGHT)

    reminders_tick(now=NIGHT + dt.timedelta(minutes=91))

    assert not Reminder.objects.filter(kind="nudge").exists()


def test_no_nudge_once_the_dose_is_logged(due_patient):
    _sent_first(due_patient, NIGHT)
    DoseLogFactory(plan=Plan.objects.get(patient=due_patient), date=NIGHT.date())

    reminders_tick(now=NIGHT + dt.timedelta(minutes=91))

    assert not Reminder.objects.filter(kind="nudge").exists()


# A peak minute is created, committed and enqueued a chunk at a time: the tick reads back
# the ids of the rows it inserted and publishes them once they are committed -------------


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(services, "TICK_CHUNK", 2)


@pytest.fixture
def published(monkeypatch):
    """The ids each publish carried, in order (the broker is not needed here)."""
    batches = []
    monkeypatch.setattr(
        services,
        "reminders_enqueue",
        lambda *, reminder_ids: batches.append(list(reminder_ids)) or True,
    )
    return batches


def test_a_tick_that_dies_after_its_first_chunk_leaves_the_rest_to_the_next_tick(
    db, at_night, small_chunks, published, monkeypatch, django_capture_on_commit_callbacks
):
    require_postgresql()
    patients = [patient_due_at(NIGHT) for _ in range(5)]
    rows_for = services._rows_for

    def killed_during_the_second_chunk(chunk, *args, **kwargs):
        if Reminder.objects.exists():
            raise RuntimeError("worker killed")
        return rows_for(chunk, *args, **kwargs)

    monkeypatch.setattr(services, "_rows_for", killed_during_the_second_chunk)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        reminders_tick(now=NIGHT)

    assert Reminder.objects.count() == 2
    assert published == [list(Reminder.objects.order_by("pk").values_list("pk", flat=True))]
    # The window is not marked done, so the next tick does it again.
    assert SweepMark.objects.get().covered_until == NIGHT - dt.timedelta(minutes=1)

    monkeypatch.setattr(services, "_rows_for", rows_for)
    with django_capture_on_commit_callbacks(execute=True):
        reminders_tick(now=NIGHT + dt.timedelta(minutes=1))

    rows = Reminder.objects.all()
    assert sorted(row.patient_id for row in rows) == sorted(p.pk for p in patients)
    every_publish = [pk for batch in published for pk in batch]
    assert sorted(every_publish) == sorted(row.pk for row in rows)  # each exactly once
    assert SweepMark.objects.get().covered_until == NIGHT + dt.timedelta(minutes=1)


def test_each_chunk_is_published_as_soon_as_it_is_committed(
    transactional_db, at_night, small_chunks, monkeypatch
):
    require_postgresql()
    for _ in range(5):
        patient_due_at(NIGHT)
    committed_when_published = []
    monkeypatch.setattr(
        services,
        "reminders_enqueue",
        lambda *, reminder_ids: (
            committed_when_published.append((len(reminder_ids), Reminder.objects.count())) or True
        ),
    )

    result = reminders_tick(now=NIGHT)

    assert len(result.enqueued) == 5
    # Workers get the first two while the tick is still creating the others.
    assert committed_when_published[:3] == [(2, 2), (2, 4), (1, 5)]


def test_a_second_tick_while_another_is_creating_rows_leaves_the_window_to_it(due_patient):
    SweepMark.objects.create(pk=1, covered_until=NIGHT - dt.timedelta(minutes=1))
    with SweepMark.window_claim(NIGHT, longest=services.LOOKBACK) as (start, _):
        assert start == NIGHT - dt.timedelta(minutes=1)

        skipped = reminders_tick(now=NIGHT)

        assert (skipped.created, Reminder.objects.count()) == (0, 0)

    reminders_tick(now=NIGHT + dt.timedelta(minutes=1))

    assert Reminder.objects.get().patient == due_patient


def test_two_beats_on_their_own_connections_claim_the_window_once(transactional_db, at_night):
    require_postgresql()
    SweepMark.objects.create(pk=1, covered_until=NIGHT - dt.timedelta(minutes=1))
    with psycopg.connect(database_url(), autocommit=True) as other_beat:
        # Another beat's claim, committed on its own connection.
        other_beat.execute(
            "UPDATE reminders_sweepmark SET claim_token = gen_random_uuid(), claimed_until = %s",
            [NIGHT + SweepMark.CLAIM_FOR],
        )
        with SweepMark.window_claim(NIGHT, longest=services.LOOKBACK) as (start, renew):
            assert (start, renew) == (None, None)


def test_a_tick_that_died_holding_the_window_frees_it_when_its_claim_runs_out(
    due_patient, at_night
):
    SweepMark.objects.create(
        pk=1,
        covered_until=NIGHT - dt.timedelta(minutes=1),
        claim_token=uuid.uuid4(),
        claimed_until=NIGHT + SweepMark.CLAIM_FOR,
    )

    assert reminders_tick(now=NIGHT).created == 0
    at_night.shift(SweepMark.CLAIM_FOR + dt.timedelta(seconds=1))
    later = reminders_tick(now=NIGHT + dt.timedelta(minutes=3))

    assert later.created == 1
    assert SweepMark.objects.get().claimed_until is None


def test_a_tick_that_fails_gives_the_window_back_at_once(due_patient, monkeypatch):
    monkeypatch.setattr(services, "_rows_for", lambda *a, **k: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        reminders_tick(now=NIGHT)

    mark = SweepMark.objects.get()
    assert (mark.claim_token, mark.claimed_until) == (None, None)
    assert mark.covered_until == NIGHT - dt.timedelta(minutes=1)


def test_the_claim_is_renewed_after_each_chunk(due_patient, small_chunks, monkeypatch):
    for _ in range(3):
        patient_due_at(NIGHT)
    renewals = []
    claim = SweepMark._claim
    monkeypatch.setattr(
        SweepMark, "_claim", classmethod(lambda cls, token: renewals.append(token) or claim(token))
    )

    reminders_tick(now=NIGHT)

    assert len(renewals) == 1 + 2  # the claim, then once after each of the two chunks
    assert len(set(renewals)) == 1


def test_the_mark_only_moves_forward(db):
    SweepMark.objects.create(pk=1, covered_until=NIGHT)

    SweepMark.window_done(NIGHT - dt.timedelta(minutes=1))

    assert SweepMark.objects.get().covered_until == NIGHT


@pytest.mark.parametrize(
    ("dose_time", "due"),
    [("bedtime", dt.time(21, 30)), ("morning", dt.time(8, 0))],
)
def test_a_patient_who_chose_no_time_gets_the_default_for_their_dose_time(db, dose_time, due):
    at = dt.datetime.combine(NIGHT.date(), due, tzinfo=UTC)  # London is on UTC in January
    with time_machine.travel(at, tick=False):
        patient = patient_due_at(at, dose_time=dose_time)
        patient.profile.reminder_time = None
        patient.profile.save()

        reminders_tick(now=at - dt.timedelta(minutes=1))
        assert not Reminder.objects.exists()

        reminders_tick(now=at)

    assert Reminder.objects.get().due_at == at
