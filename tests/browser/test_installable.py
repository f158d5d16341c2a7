"""The installable app in Chromium: manifest and service worker install, the shell and
Today are cached, and logging out leaves nothing of the patient on the device."""

import re

import pytest
from playwright.sync_api import expect

from ops import pwa
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CACHE_KEYS = "caches.keys()"
CACHED_URLS = """async (name) => {
  const cache = await caches.open(name);
  return (await cache.keys()).map((r) => new URL(r.url).pathname);
}"""


def log_in(page, patient):
    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="Email").fill(patient.email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/today/$"))


def service_worker_ready(page):
    """Wait until the worker is active and controls the page (a reload hands it over)."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("!!navigator.serviceWorker.controller"):
        page.reload()
    page.wait_for_function("!!navigator.serviceWorker.controller")


def test_the_manifest_and_service_worker_install_and_cache_the_shell(page, check_page, patient):
    log_in(page, patient)
    manifest_href = page.locator("link[rel=manifest]").get_attribute("href")
    assert manifest_href == "/manifest.webmanifest"
    manifest = page.request.get(manifest_href).json()
    assert manifest["start_url"] == "/today/"

    service_worker_ready(page)
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == page.url.split("/today/")[0] + "/"
    shell = f"ldn-shell-{pwa.shell_version()}"
    assert shell in page.evaluate(CACHE_KEYS)
    assert set(pwa.shell_urls()) <= set(page.evaluate(CACHED_URLS, shell))
    # Today, visited under the worker, is kept for offline use.
    page.reload()
    page.wait_for_function(
        "caches.open('ldn-pages').then((c) => c.match('/today/')).then((r) => !!r)"
    )
    check_page("today-with-service-worker")

    # A repeat visit comes from the worker's cache and is ready quickly.
    page.reload(wait_until="load")
    timing = page.evaluate(
        "(() => { const n = performance.getEntriesByType('navigation')[0];"
        " return [n.domContentLoadedEventEnd, n.loadEventEnd, n.workerStart > 0]; })()"
    )
    paint, _, via_worker = timing
    print(f"\nRepeat visit of Today: DOM ready at {timing[0]:.0f} ms, loaded at {timing[1]:.0f} ms")
    assert via_worker
    assert 0 < paint < 1500  # 500 ms is the target on an idle machine; this is a loud failure


def test_logging_out_clears_every_cache_and_the_queue(page, check_page, patient):
    log_in(page, patient)
    service_worker_ready(page)
    page.reload()
    page.wait_for_function(
        "caches.open('ldn-pages').then((c) => c.match('/today/')).then((r) => !!r)"
    )
    # Something waiting in the offline queue.
    page.evaluate(
        """() => new Promise((resolve) => {
          const open = indexedDB.open("ldn-offline", 1);
          open.onupgradeneeded = () =>
            open.result.createObjectStore("queue", {keyPath: "client_id"});
          open.onsuccess = () => {
            const tx = open.result.transaction("queue", "readwrite");
            tx.objectStore("queue").put({client_id: "x", kind: "dose", key: "", fields: []});
            tx.oncomplete = () => { open.result.close(); resolve(); };
          };
        })"""
    )
    assert page.evaluate(CACHE_KEYS)

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status").filter(has_text="You have logged out.")).to_be_visible()
    check_page("logged-out")

    assert page.evaluate(CACHE_KEYS) == []
    databases = page.evaluate("indexedDB.databases().then((list) => list.map((d) => d.name))")
    assert "ldn-offline" not in databases
