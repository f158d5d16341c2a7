"""Browser tests: Playwright's sync API drives Debian's Chromium against pytest-django's
live_server, in a phone-sized window (375 x 812).

Every test checks each screen it reaches with `check_page("step-name")`, which

- runs axe-core (through axe-playwright-python) and fails on any violation, printing them,
- fails on a console error or page error (a Content Security Policy refusal shows up here,
  so an inline script or style attribute sneaking into a template fails the test),
- fails when a control is smaller than our 44 px tap target,
- saves a full-page screenshot to test-artifacts/browser/<test-name>/<NN>-<step>.png.

axe is injected with Playwright's `page.evaluate`, which goes through the DevTools protocol
and is not subject to the page's CSP, so the site's real policy (script-src 'self' plus a
nonce) stays on during the tests: no `bypass_csp`. `test_csp.py` proves both halves.
"""

import os
import re
import shutil
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect, sync_playwright

from tests.clinic.conftest import totp_code
from tests.factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=en-GB",  # date and time fields as a UK patient sees them
]
PHONE_VIEWPORT = {"width": 375, "height": 812}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
MIN_TARGET_PX = 44

# All of axe's default rules (WCAG 2.0-2.2 A/AA and best practices), plus the WCAG 2.2
# target-size rule, which axe ships switched off.
AXE_OPTIONS = {"resultTypes": ["violations"], "rules": {"target-size": {"enabled": True}}}

# Controls someone has to hit with a finger. A radio button or checkbox counts by its row
# (`.form-check`, which holds the label that also toggles it). A link counts when it stands on
# its own ("Back"); links inside running text are exempt, as in WCAG 2.5.8.
SMALL_TARGETS_JS = """
(minSize) => {
  const selector = [
    "button", ".btn", "select", "textarea", "a[href]",
    "input:not([type=hidden]):not([type=radio]):not([type=checkbox])", ".form-check",
  ].join(",");
  const standsAlone = (link) =>
    link.parentElement.textContent.trim() === link.textContent.trim();
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    if (el.closest(".form-check") && !el.matches(".form-check")) continue;
    if (el.matches("a[href]:not(.btn)") && !standsAlone(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;  // not shown
    if (box.height + 0.5 < minSize || box.width + 0.5 < minSize) {
      const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
      small.push(`${el.outerHTML.slice(0, 120)} is ${size}`);
    }
  }
  return small;
}
"""


def _chromium_or_skip():
    if CHROMIUM.exists():
        return
    reason = f"Browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)."
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} CI must run the browser tests, never skip them.")
    pytest.skip(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test so the page fixture can screenshot a failure.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def _sync_orm_under_playwright(monkeypatch):
    # Playwright's sync API keeps an asyncio loop registered on this thread, so Django takes
    # the test's own ORM calls for async code. Allowed for the browser tests only: the
    # variable goes away with the test, so the rest of the suite keeps Django's guard.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def chromium(_sync_orm_under_playwright):
    _chromium_or_skip()
    # One browser per test: the asyncio loop ends with the test, so no later (non-browser)
    # test runs with it in place.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class PageChecks:
    """Console errors seen so far, and the numbered screenshots of one test."""

    def __init__(self, page, folder: Path):
        self.page = page
        self.folder = folder
        self.count = 0
        self.errors = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _on_console(self, message):
        if message.type == "error":
            where = message.location.get("url", "")
            self.errors.append(f"console error: {message.text} ({where})")

    def screenshot(self, step: str) -> Path:
        self.count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        path = self.folder / f"{self.count:02d}-{slug}.png"
        self.page.screenshot(path=path, full_page=True)
        return path

    def __call__(self, step: str):
        page = self.page
        page.wait_for_load_state("load")
        shot = self.screenshot(step)
        problems = []

        results = Axe().run(page, options=AXE_OPTIONS)
        if results.violations_count:
            problems.append(results.generate_report())
        small = page.evaluate(SMALL_TARGETS_JS, MIN_TARGET_PX)
        if small:
            problems.append(
                f"Tap targets smaller than {MIN_TARGET_PX}px:\n"
                + "\n".join(f"  {s}" for s in small)
            )
        if self.errors:
            problems.append("\n".join(self.errors))
            self.errors.clear()
        if problems:
            report = "\n\n".join(problems)
            print(f"\n[{step}] {page.url} (screenshot {shot}):\n{report}")
            pytest.fail(f"Step '{step}' at {page.url} has problems:\n{report}", pytrace=False)


def _artifact_folder(request) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    folder = ARTIFACTS / name
    shutil.rmtree(folder, ignore_errors=True)  # only this run's screenshots
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def browser_time_zone():
    """The device's time zone. Override it in a test module to test a patient elsewhere."""
    return "Europe/London"


@pytest.fixture
def browser_context(chromium, live_server, transactional_db, browser_time_zone, request):
    # A test module may set BROWSER_VIEWPORT (a laptop for clinicians); phones otherwise.
    context = chromium.new_context(
        base_url=live_server.url,
        viewport=getattr(request.module, "BROWSER_VIEWPORT", PHONE_VIEWPORT),
        timezone_id=browser_time_zone,
        locale="en-GB",
        color_scheme="light",
        reduced_motion="reduce",
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def _page_checks(browser_context, request):
    page = browser_context.new_page()
    checks = PageChecks(page, _artifact_folder(request))
    yield checks
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        checks.screenshot("failed")
    elif report is not None and report.passed:
        assert checks.count, "A browser test must call check_page() on every screen it visits."


@pytest.fixture
def page(_page_checks):
    """A phone-sized page on the live server; `page.goto("/path/")` is relative to it."""
    return _page_checks.page


@pytest.fixture
def check_page(_page_checks):
    """`check_page("step")`: axe, console errors and tap targets must be clean; screenshots."""
    return _page_checks


def clinician_log_in(page, clinician):
    """Email, password, then a code from the clinician's authenticator."""
    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="Email").fill(clinician.email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.get_by_role("textbox").first.fill(totp_code(clinician.totp_secret))
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/2fa/"))
