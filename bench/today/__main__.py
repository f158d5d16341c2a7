"""The Today page for a patient 12 weeks in: `.venv/bin/python -m bench.today`.

Against gunicorn with production settings, side by side with the floor page (bench/urls.py):

- server time: median of `--runs` sequential GETs over loopback (one at a time, so it is the
  server's time plus a fraction of a millisecond of loopback);
- queries: the number of SQL queries one GET makes (in this process, same settings, Django's
  test client), against the floor's;
- page weight: the HTML plus every stylesheet and script the page links, as transferred
  (Accept-Encoding: gzip, br; whitenoise serves its precompressed files), and the same total
  as Chromium counted it;
- Largest Contentful Paint: headless Chromium on loopback, a fresh browser context (cold
  cache) for each of `--loads` loads; the median.
"""

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time

from bench import common, seed

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ASSET = re.compile(rb'<(?:link[^>]+rel="stylesheet"[^>]+href|script[^>]+src)="([^"]+)"')
LCP_SCRIPT = """
() => new Promise(resolve => {
  new PerformanceObserver(list => {
    const entries = list.getEntries();
    resolve(entries[entries.length - 1].startTime);
  }).observe({type: "largest-contentful-paint", buffered: true});
  setTimeout(() => resolve(null), 3000);
})
"""


def headers(person):
    return {"Cookie": person.cookie, "Accept-Encoding": "gzip, deflate, br"}


async def server_time(port, person, path, runs):
    times = []
    for n in range(runs + 3):
        started = time.perf_counter()
        r = await common.http_request(port, "GET", path, headers=headers(person))
        if r.status != 200:
            raise RuntimeError(f"GET {path} answered {r.status}")
        if n >= 3:  # the first few warm the worker's caches
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def page_weight(port, person, path):
    """Bytes transferred for the page and the CSS and JS it links: (html, assets, files)."""
    page = await common.http_request(port, "GET", path, headers=headers(person))
    assets = [a.decode() for a in ASSET.findall(page.body)]
    total = 0
    for url in assets:
        r = await common.http_request(port, "GET", url, headers=headers(person))
        if r.status != 200:
            raise RuntimeError(f"GET {url} answered {r.status}")
        total += r.wire_bytes
    return page.wire_bytes, total, assets


def query_count(person, path):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=common.HOST)
    client.cookies["sessionid"] = person.session_key
    client.cookies["csrftoken"] = person.csrf_secret
    client.get(path)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.status_code
    return len(queries)


def browser_loads(base, person, path, loads):
    """Median LCP (ms) and Chromium's own count of bytes received (the last load)."""
    from playwright.sync_api import sync_playwright

    lcps, received = [], 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for _ in range(loads):
                context = browser.new_context(viewport={"width": 375, "height": 812})
                context.add_cookies(
                    [
                        {"name": "sessionid", "value": person.session_key, "url": base},
                        {"name": "csrftoken", "value": person.csrf_secret, "url": base},
                    ]
                )
                page = context.new_page()
                finished = []
                page.on("requestfinished", lambda request, seen=finished: seen.append(request))
                page.goto(base + path, wait_until="load")
                if page.url != base + path:
                    raise RuntimeError(f"the browser landed on {page.url}")
                lcps.append(page.evaluate(LCP_SCRIPT))
                received = 0
                for request in finished:
                    sizes = request.sizes()
                    received += sizes["responseBodySize"] + sizes["responseHeadersSize"]
                context.close()
        finally:
            browser.close()
    lcps = [x for x in lcps if x is not None]
    return (statistics.median(lcps) if lcps else float("nan")), received


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--loads", type=int, default=7)
    args = parser.parse_args(argv)

    env = common.prepare(patients=args.patients)
    person = seed.sessions_create(seed.patients(1))[0]
    floor_queries = query_count(person, "/bench/floor/")
    today_queries = query_count(person, "/today/")
    with (
        tempfile.TemporaryDirectory() as logs,
        common.Server(env, log_dir=logs) as server,
    ):
        port = server.port
        today_ms = asyncio.run(server_time(port, person, "/today/", args.runs))
        floor_ms = asyncio.run(server_time(port, person, "/bench/floor/", args.runs))
        html, assets, files = asyncio.run(page_weight(port, person, "/today/"))
        floor_html, _, _ = asyncio.run(page_weight(port, person, "/bench/floor/"))
        lcp, received = browser_loads(server.base, person, "/today/", args.loads)
        floor_lcp, _ = browser_loads(server.base, person, "/bench/floor/", args.loads)
        logged = server.errors_logged()
    print(f"assets: {', '.join(files)}", file=sys.stderr)
    if logged:
        print(f"server logged {len(logged)} errors, e.g. {logged[:3]}", file=sys.stderr)
    weight_kb = (html + assets) / 1000
    rows = [
        common.Row("today", "server time (median)", today_ms, "ms", floor_ms),
        common.Row("today", "SQL queries", float(today_queries), "", float(floor_queries)),
        common.Row("today", "HTML transferred", html / 1000, "KB", floor_html / 1000),
        common.Row(
            "today",
            "HTML+CSS+JS transferred",
            weight_kb,
            "KB",
            None,
            "< 150 KB",
            weight_kb < 150,
            f"Chromium counted {received / 1000:.1f} KB",
        ),
        common.Row(
            "today", "LCP, headless Chromium", lcp, "ms", floor_lcp, "< 1000 ms", lcp < 1000
        ),
    ]
    common.emit(rows)


if __name__ == "__main__":
    main()
