import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from ..factories import PatientProfileFactory, SafetyScreeningFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(client):
    """A patient who has answered every step but the start date."""
    with time_machine.travel(dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC), tick=False):
        user = UserFactory()
        PatientProfileFactory(user=user, onboarded_at=None)
        SafetyScreeningFactory(patient=user)
        client.force_login(user)
        yield user


def _start(client, **extra):
    data = {"start_date": "2026-11-20", **extra}
    return client.post(reverse("onboarding_step", kwargs={"step": "start"}), data)


def test_the_prescribers_gentle_plan_and_target_can_be_chosen(client, ready):
    assert _start(client, protocol="gentle", target_mg="3.00").status_code == 302
    plan = ready.plans.get()
    assert (plan.protocol, plan.target_mg) == ("gentle", Decimal("3.00"))
    assert plan.planned_dose_on(dt.date(2026, 12, 4)).dose_mg == Decimal("3.0")  # day 15


def test_without_a_choice_the_plan_is_standard_to_4_5_mg(client, ready):
    _start(client)
    plan = ready.plans.get()
    assert (plan.protocol, plan.target_mg) == ("standard", Decimal("4.50"))


@pytest.mark.parametrize(
    "field, value",
    [("protocol", "custom"), ("protocol", "turbo"), ("target_mg", "6.25"), ("target_mg", "4.33")],
)
def test_other_plans_and_targets_are_refused_next_to_the_field(client, ready, field, value):
    response = _start(client, **{field: value})
    assert response.status_code == 200
    assert "Please choose" in response.content.decode()
    assert not ready.plans.exists()
