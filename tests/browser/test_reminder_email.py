"""The reminder email's HTML as a phone shows it: rendered in Chromium at 390 px, in light
and dark mode, its action buttons are at least 44 px tall, apart, inside the screen, and
pass axe (contrast included). Screenshots go to test-artifacts/browser/reminder-email/."""

from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe

from reminders import emails
from tests.reminders.test_emails import unsaved_reminder

from .conftest import ARTIFACTS, AXE_OPTIONS, MIN_TARGET_PX

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
MIN_GAP_PX = 8
# An email is read inside a mail client's own page, which has its landmarks and heading: the
# page-structure best practices are off; every WCAG rule (contrast included) stays on.
EMAIL_AXE_OPTIONS = {
    **AXE_OPTIONS,
    "rules": {
        **AXE_OPTIONS["rules"],
        **{
            rule: {"enabled": False}
            for rule in ("landmark-one-main", "page-has-heading-one", "region")
        },
    },
}
ACTIONS = ["I took it", "Skip tonight", "Remind me again in 30 minutes", "Open my diary"]


def html_of(message) -> str:
    (html, mime), *_ = message.alternatives
    assert mime == "text/html"
    return html


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("liquid", [False, True])
def test_the_email_buttons_are_big_apart_and_readable_on_a_phone(chromium, scheme, liquid):
    reminder = unsaved_reminder(first_name="Zoë", liquid=liquid)
    html = html_of(emails.reminder_email(reminder, Decimal("4.5")))
    context = chromium.new_context(viewport=PHONE, color_scheme=scheme, locale="en-GB")
    page = context.new_page()
    page.set_content(html, wait_until="load")

    boxes = {}
    for label in ACTIONS:
        link = page.get_by_role("link", name=label, exact=True)
        assert link.count() == 1, label
        boxes[label] = link.bounding_box()
    for label in ["Pause reminders", "Reminder settings"]:
        boxes[label] = page.get_by_role("link", name=label, exact=True).bounding_box()

    for label, box in boxes.items():
        assert box["height"] >= MIN_TARGET_PX, (label, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (label, box)
    buttons = [boxes[label] for label in ACTIONS]
    for upper, lower in zip(buttons, buttons[1:], strict=False):
        assert lower["y"] - (upper["y"] + upper["height"]) >= MIN_GAP_PX, (upper, lower)
    for box in buttons:
        assert box["width"] >= PHONE["width"] - 2 * 24  # full width: an easy thumb target
    pause, settings_link = boxes["Pause reminders"], boxes["Reminder settings"]
    assert settings_link["x"] - (pause["x"] + pause["width"]) >= MIN_GAP_PX

    no_horizontal_scroll = page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth"
    )
    assert no_horizontal_scroll
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == ("rgb(18, 20, 23)" if scheme == "dark" else "rgb(255, 255, 255)")

    folder = ARTIFACTS / "reminder-email"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=folder / f"{scheme}-{'liquid' if liquid else 'capsules'}.png", full_page=True
    )
    results = Axe().run(page, options=EMAIL_AXE_OPTIONS)
    assert not results.violations_count, results.generate_report()
    context.close()
