"""The browser tests run under the site's real Content Security Policy, and axe still runs."""

import re

import pytest

pytestmark = pytest.mark.browser

INJECT_INLINE_SCRIPT_JS = """
() => {
  const script = document.createElement("script");
  script.textContent = "window.inlineScriptRan = true;";
  document.body.append(script);
  return window.inlineScriptRan === true;
}
"""


def test_axe_runs_while_the_policy_blocks_inline_scripts(page, check_page):
    response = page.goto("/accounts/login/")
    policy = response.headers["content-security-policy"]
    assert re.search(r"script-src 'self' 'nonce-[^']+'", policy), policy

    check_page("login")  # axe was injected and ran under this policy
    assert page.evaluate("() => typeof window.axe.run") == "function"

    # The same policy still refuses what a template must never contain, and check_page
    # would have reported the refusal.
    assert page.evaluate(INJECT_INLINE_SCRIPT_JS) is False
    page.wait_for_timeout(200)  # the console message arrives asynchronously
    assert any("Content Security Policy" in error for error in check_page.errors)
    check_page.errors.clear()
