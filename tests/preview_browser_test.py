#!/usr/bin/env python3
"""The preview page (GET /admin/, issue 18 §3) in a real browser: Debian's headless
`chromium`, driven over the W3C WebDriver protocol by `chromedriver` (package
chromium-driver) with plain HTTP from the standard library, against a real `tempo serve`
on 127.0.0.1 over a store imported from the records below.

The test fills the form as a person would (keystrokes and clicks), then checks the cards
of each zone against the public listener's own answer for the same query, the reason of
every module that did not render, the experiment's variant, the cache tiers, the
invalidate button, that CMS content is shown as text (never markup), that nothing is
fetched from anywhere but the admin listener, and that a phone-sized screen (390 px) has
no horizontal scrolling. It saves screenshots (desktop and phone) in
$TEMPO_PREVIEW_SCREENSHOTS (or --screenshots DIR; default: a folder under the system's
temporary directory, printed).

usage: preview_browser_test.py TEMPO_BINARY SHARED_DIR [SUITE] [--screenshots DIR]
Nothing is skipped: without chromium and chromedriver the test fails and says to run
scripts/install-deps.sh. Every wait is bounded.
"""
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import e2e_test
from e2e_test import Base, run

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DRIVER_START_TIMEOUT_S = 30
DRIVER_CALL_TIMEOUT_S = 60   # one WebDriver command (a session start launches the browser)
PAGE_TIMEOUT_S = 20          # the page shows what it was asked for
POLL_S = 0.05
DESKTOP = (1280, 900)
PHONE = (390, 844)           # an iPhone 12-15's CSS viewport
SCREENSHOTS = None           # set in main()
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C element reference key

TENANT, CHANNEL, PAGE_TYPE, PAGE_ID = "ACME", "web", "homepage", "home"
FORCED = "exp-hero:B"
ATTRIBUTES = [("segment", "silver"), ("geo", "US")]
VISITOR = "visitor-42"
# Content a page must show as text: were it parsed as HTML, it would set window.__xss.
HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def record(kind, rec):
    return json.dumps({"schema": 1, "kind": kind, "op": "upsert",
                       "publishedAt": "2026-11-23T10:00:00Z", "record": {"tenant": TENANT, **rec}})


def mod(mid, zone, priority, content, **extra):
    rec = {"id": mid, "channels": [CHANNEL], "pageType": PAGE_TYPE, "pageIds": [], "zone": zone,
           "priority": priority, "type": extra.pop("type", "banner"), "version": 1,
           "content": content}
    rec.update(extra)
    return record("module", rec)


# One page with a module for each outcome the page must explain.
RECORDS = [
    record("template", {"channel": CHANNEL, "pageType": PAGE_TYPE, "version": 1,
                        "zones": [{"zone": "hero", "limit": 2}, {"zone": "main"},
                                  {"zone": "footer"}]}),
    mod("hero-sale", "hero", 100, {"title": "Black Friday", "items": [1, 2, 3],
                                   "cta": {"label": "Shop now", "href": "/sale"}},
        type="carousel"),
    mod("hero-gold", "hero", 95, {"title": "Gold members only"},
        targeting={"segment": {"$in": ["gold", "platinum"]}}),
    mod("hero-later", "hero", 90, {"title": "Next year"},
        schedule={"start": "2031-01-01T00:00:00Z"}),
    mod("hero-b-only", "hero", 80, {"title": "Removed in B"}),
    mod("hero-spring", "hero", 50, {"title": "Spring"}),
    mod("hero-tail", "hero", 10, {"title": "Over the limit"}),
    mod("hero-app", "hero", 99, {"title": "App only"}, channels=["ios"]),  # another slice
    mod("main-typewide", "main", 20, {"title": "Type-wide main"}),
    mod("main-home", "main", 30, {"title": "Home page main", "body": "Welcome"},
        pageIds=[PAGE_ID], type="text"),
    mod("footer-note", "footer", 5, {"title": HOSTILE, "note": "shown as text"}, type="html"),
    record("experiment", {"id": "exp-hero", "channels": [CHANNEL], "pageType": PAGE_TYPE,
                          "version": 1, "hashAttribute": "visitorId", "seed": "exp-hero",
                          "hashVersion": 2, "coverage": 1.0, "weights": [0.5, 0.5],
                          "variants": [{"key": "control"},
                                       {"key": "B", "remove": ["hero-b-only"],
                                        "add": [{"id": "hero-b-app", "zone": "hero",
                                                 "channels": ["ios"], "priority": 70,
                                                 "type": "banner",
                                                 "content": {"title": "B, in the app"}}],
                                        "priority": {"hero-spring": 60}}]}),
]
# What each module that does not render must be listed with. (A module of another channel is
# in another slice, so not a candidate at all; "channel" is an add of a variant.)
EXPECTED_OUTCOMES = {"hero-gold": "targeting", "hero-later": "schedule",
                     "hero-b-only": "experiment", "hero-tail": "limit", "hero-b-app": "channel",
                     "main-typewide": "page"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, what, timeout=PAGE_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(POLL_S)


class WebDriverError(AssertionError):
    pass


class Browser:
    """Headless chromium through chromedriver: the few W3C WebDriver commands we need."""

    def __init__(self, log_path):
        for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
            if not os.access(path, os.X_OK):
                raise AssertionError(f"{path} is missing: install Debian's {package} "
                                     f"(scripts/install-deps.sh does)")
        self.port = free_port()
        self.log = open(log_path, "w")
        self.driver = subprocess.Popen([CHROMEDRIVER, f"--port={self.port}"],
                                       stdout=self.log, stderr=subprocess.STDOUT)
        self.session = None
        try:
            wait_until(self._driver_ready, "chromedriver to listen", DRIVER_START_TIMEOUT_S)
            caps = {"browserName": "chrome", "goog:loggingPrefs": {"browser": "ALL"},
                    "goog:chromeOptions": {
                        "binary": CHROMIUM,
                        "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                                 "--disable-dev-shm-usage", "--no-first-run",
                                 "--disable-extensions", "--disable-background-networking",
                                 "--hide-scrollbars", "--lang=en-US",
                                 f"--window-size={DESKTOP[0]},{DESKTOP[1]}"]}}
            value = self._call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})
            self.session = value["sessionId"]
        except BaseException:
            self.close()
            raise

    def _driver_ready(self):
        if self.driver.poll() is not None:
            raise AssertionError(f"chromedriver exited {self.driver.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/status", timeout=2) as r:
                return json.load(r)["value"].get("ready")
        except (OSError, ValueError):
            return False

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                         method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=DRIVER_CALL_TIMEOUT_S) as r:
                return json.load(r)["value"]
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")
            try:
                value = json.loads(detail)["value"]
                detail = f"{value.get('error')}: {value.get('message', '')[:500]}"
            except (ValueError, KeyError, AttributeError):
                pass
            raise WebDriverError(f"WebDriver {method} {path}: {detail}") from None

    def _s(self, path, body=None, method="POST"):
        return self._call(method, f"/session/{self.session}{path}", body)

    def get(self, url):
        self._s("/url", {"url": url})

    def js(self, script, *args):
        return self._s("/execute/sync", {"script": script, "args": list(args)})

    def painted(self):
        """Returns once the page has painted twice more (after a resize or a scroll)."""
        self._s("/execute/async", {"script": "const done = arguments[arguments.length - 1];"
                                   "requestAnimationFrame(() => requestAnimationFrame(done));",
                                   "args": []})

    def find(self, selector):
        """The element `selector` picks, waiting for it to exist."""
        wait_until(lambda: self.js("return document.querySelector(arguments[0]) !== null",
                                   selector), f"{selector} on the page")
        return self._s("/element", {"using": "css selector", "value": selector})[ELEMENT]

    def type_into(self, selector, text):
        element = self.find(selector)
        self._s(f"/element/{element}/clear", {})
        if text:
            self._s(f"/element/{element}/value", {"text": text})

    def click(self, selector):
        self._s(f"/element/{self.find(selector)}/click", {})

    def text(self, selector):
        return self._s(f"/element/{self.find(selector)}/text", method="GET")

    def texts(self, selector):
        return self.js("return [...document.querySelectorAll(arguments[0])]"
                       ".map(e => e.textContent.trim())", selector)

    def viewport(self, width, height, mobile=False):
        """Emulates a screen of `width` x `height` CSS pixels (Chrome DevTools Protocol)."""
        self._s("/goog/cdp/execute", {"cmd": "Emulation.setDeviceMetricsOverride",
                                      "params": {"width": width, "height": height,
                                                 "deviceScaleFactor": 1, "mobile": mobile}})

    def screenshot(self, path, width, mobile=False):
        """The whole page at `width` CSS pixels, saved as PNG."""
        self.viewport(width, PHONE[1] if mobile else DESKTOP[1], mobile)
        height = self.js("return Math.ceil(document.documentElement.scrollHeight)")
        self.viewport(width, height, mobile)
        self.painted()
        png = base64.b64decode(self._s("/screenshot", method="GET"))
        with open(path, "wb") as f:
            f.write(png)
        return path

    def screenshot_at(self, path, selector, width, height, mobile=False):
        """One screen of `width` x `height` CSS pixels, scrolled to `selector`, saved as PNG."""
        self.viewport(width, height, mobile)
        self.js("document.querySelector(arguments[0]).scrollIntoView({block: 'start'})", selector)
        self.painted()
        png = base64.b64decode(self._s("/screenshot", method="GET"))
        with open(path, "wb") as f:
            f.write(png)
        return path

    def console(self):
        """What the page logged (errors, CSP violations) since the last call."""
        return self._s("/se/log", {"type": "browser"})

    def close(self):
        try:
            if self.session is not None:
                self._call("DELETE", f"/session/{self.session}")
        except (AssertionError, OSError):
            pass
        finally:
            self.session = None
            if self.driver.poll() is None:
                self.driver.terminate()
                try:
                    self.driver.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.driver.kill()
                    self.driver.wait()
            self.log.close()


class PreviewTest(Base):
    def serve(self, store, *extra, **kw):
        # Correctness, not latency: on a loaded machine (CI runs two suites at
        # once, one of them under ASan) a slow origin read must not become a 503.
        return super().serve(store, "--deadline-ms", "2000", *extra, **kw)

    def setUp(self):
        super().setUp()
        data = os.path.join(self.tmp, "records.ndjson")
        with open(data, "w") as f:
            f.write("\n".join(RECORDS) + "\n")
        store = self.store()
        run(["import", "--store", store, data])
        self.server = self.serve(store)
        self.admin = f"http://127.0.0.1:{self.server.admin_port}"
        self.browser = Browser(os.path.join(self.tmp, "chromedriver.log"))

    def tearDown(self):
        try:
            self.browser.close()
        finally:
            super().tearDown()

    def public_layout(self):
        """The public listener's v2 answer for the query the page is given: zone -> ids."""
        query = [("tenant", TENANT), ("channel", CHANNEL), ("pageType", PAGE_TYPE),
                 ("pageId", PAGE_ID), ("visitorId", VISITOR), ("variant", FORCED)]
        query += [(f"t.{k}", v) for k, v in ATTRIBUTES]
        status, _, body = self.server.get("/api/v2/tempo/layouts?" +
                                          urllib.parse.urlencode(query))
        self.assertEqual(status, 200, body)
        answer = json.loads(body)
        return {z["zone"]: [m["id"] for m in z["modules"]] for z in answer["zones"]}, answer

    def fill_form(self):
        b = self.browser
        b.get(f"{self.admin}/admin/")
        wait_until(lambda: b.js("return document.body.dataset.ready === 'true'"),
                   "the page's script to start")
        b.type_into("#f-tenant", TENANT)
        b.type_into("#f-channel", CHANNEL)
        b.type_into("#f-pageType", PAGE_TYPE)
        b.type_into("#f-pageId", PAGE_ID)
        b.type_into("#f-visitorId", VISITOR)
        b.type_into("#f-variant", FORCED)
        for i, (key, value) in enumerate(ATTRIBUTES):
            if i > 0:
                b.click("#attr-add")
            b.type_into(f"#attr-rows .attr-row:nth-child({i + 1}) .attr-key", key)
            b.type_into(f"#attr-rows .attr-row:nth-child({i + 1}) .attr-value", value)
        b.click("#at-now")  # the instant: now, as the public answer below uses
        self.assertRegex(b.js("return document.getElementById('f-at').value"),
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        b.click("#show")
        self.wait_for_layout()

    def wait_for_layout(self):
        b = self.browser

        def settled():
            if not b.js("return document.getElementById('error').hidden"):
                raise AssertionError("the page shows an error: " + b.text("#error"))
            return b.js("return document.getElementById('status').classList.contains('ok')")
        wait_until(settled, "the layout")
        wait_until(lambda: b.js("return document.querySelector('#tiers .tier') !== null"),
                   "the cache tiers")

    def test_preview_explains_the_page(self):
        b = self.browser
        self.fill_form()
        expected, answer = self.public_layout()

        # The cards: zone by zone, in the public answer's order, with type and priority.
        zones = b.js("return [...document.querySelectorAll('#zones .zone')].map(z => "
                     "[z.dataset.zone, [...z.querySelectorAll('.card')].map(c => c.dataset.module)])")
        self.assertEqual([z for z, _ in zones], list(expected), zones)
        self.assertEqual({z: ids for z, ids in zones}, expected)
        self.assertEqual(expected["hero"], ["hero-sale", "hero-spring"])  # the data's intent
        sale = [m for z in answer["zones"] for m in z["modules"] if m["id"] == "hero-sale"][0]
        card = b.text('.card[data-module="hero-sale"]')
        for part in ("carousel", "hero-sale", f"priority {sale['priority']}", "Black Friday",
                     "Shop now"):
            self.assertIn(part, card)

        self.assertIn("priority 60 (was 50)", b.text('.card[data-module="hero-spring"]'))
        self.assertNotIn("hero-app", b.texts("#zones .card .id, #dropped code"))

        # Every module that did not render, with its outcome and the trace's reason.
        rows = b.js("return Object.fromEntries([...document.querySelectorAll('#dropped tbody tr')]"
                    ".map(r => [r.dataset.module, [r.dataset.outcome, "
                    "r.querySelector('.reason').textContent.trim()]]))")
        for mid, outcome in EXPECTED_OUTCOMES.items():
            self.assertIn(mid, rows, f"{mid} is not listed as not rendered: {rows}")
            self.assertEqual(rows[mid][0], outcome, rows[mid])
            self.assertTrue(rows[mid][1], f"{mid} has no reason")
        # The targeting's failing part and the value it saw.
        why = b.text('#dropped tr[data-module="hero-gold"] .why')
        self.assertIn('"segment"', why)
        self.assertIn('"silver"', why)
        self.assertIn("2031-01-01", b.text('#dropped tr[data-module="hero-later"] .why'))
        self.assertIn("targeting", b.text('#dropped tr[data-module="hero-gold"]'))

        # The experiment, with the variant the query forced.
        self.assertEqual(b.text('#experiments tr[data-experiment="exp-hero"] .variant'), "B")
        self.assertEqual(answer["experiments"], [{"id": "exp-hero", "variant": "B"}])

        # CMS content is text: the hostile title is shown as written and ran nothing.
        self.assertIn(HOSTILE, b.text('.card[data-module="footer-note"]'))
        self.assertIsNone(b.js("return window.__xss === undefined ? null : window.__xss"))
        self.assertEqual(b.js("return document.querySelectorAll('#zones img, #zones script')"
                              ".length"), 0)

        # The cache: tiers, and the slices this page read, marked.
        self.assertIn("l1", b.js("return [...document.querySelectorAll('#tiers .tier')]"
                                 ".map(t => t.dataset.tier)"))
        wait_until(lambda: b.js("return document.querySelector('#slices tr.current') !== null"),
                   "the page's slices in the slices table")

        # Nothing came from anywhere but the admin listener, and the policy refused nothing.
        urls = b.js("return [location.href, ...performance.getEntriesByType('resource')"
                    ".map(e => e.name)]")
        for url in urls:
            self.assertTrue(url.startswith(self.admin + "/admin"), url)
        problems = [e for e in b.console()
                    if e.get("level") == "SEVERE" and "favicon.ico" not in e.get("message", "")]
        self.assertEqual(problems, [])

        os.makedirs(SCREENSHOTS, exist_ok=True)
        b.screenshot(os.path.join(SCREENSHOTS, "preview-desktop.png"), DESKTOP[0])

        # A phone: one column, nothing wider than the screen.
        b.viewport(*PHONE, mobile=True)
        self.assertLessEqual(b.js("return document.documentElement.scrollWidth"), PHONE[0])
        b.screenshot_at(os.path.join(SCREENSHOTS, "preview-phone.png"), "#result", *PHONE,
                        mobile=True)
        b.screenshot_at(os.path.join(SCREENSHOTS, "preview-phone-not-rendered.png"),
                        "#dropped-title", *PHONE, mobile=True)
        b.viewport(*DESKTOP)

        # Invalidate: the answer's counts are shown, and the tiers are read again.
        b.click("#invalidate")
        wait_until(lambda: b.js("return document.getElementById('invalidate-result')"
                                ".classList.contains('ok')")
                   or b.js("return document.getElementById('invalidate-result')"
                           ".classList.contains('bad')"), "the invalidation's result")
        result = b.text("#invalidate-result")
        # Both slices of the page ("*" and its pageId) were in L1: explain and the public
        # answer above read them through it.
        self.assertIn("2 removed from L1", result)
        wait_until(lambda: b.js("return document.querySelector('#slices tr.current') === null"),
                   "the slices table to drop the page's slices")
        b.screenshot_at(os.path.join(SCREENSHOTS, "preview-invalidated.png"), "#cache", *DESKTOP)

    def test_a_link_shows_the_same_page(self):
        b = self.browser
        query = urllib.parse.urlencode([("tenant", TENANT), ("channel", CHANNEL),
                                        ("pageType", PAGE_TYPE), ("pageId", PAGE_ID),
                                        ("variant", FORCED), ("t.segment", "gold")])
        b.get(f"{self.admin}/admin/#{query}")
        self.wait_for_layout()
        self.assertEqual(b.js("return document.getElementById('f-pageId').value"), PAGE_ID)
        self.assertEqual(b.js("return document.querySelector('#attr-rows .attr-value').value"),
                         "gold")
        # With segment=gold the gold module renders: the attribute reached the server.
        self.assertIn("hero-gold", b.texts("#zones .card .id"))
        # Another link opened in the same tab (only the fragment changes) is answered too.
        b.get(f"{self.admin}/admin/#tenant={TENANT}&channel=ios&pageType=search")
        wait_until(lambda: b.js("return document.getElementById('f-channel').value") == "ios"
                   and "0 rendered" in b.text("#status"), "the second link's layout")
        self.assertIn("No module is published", b.text("#zones"))

    def test_an_error_is_shown_not_a_blank_page(self):
        b = self.browser
        b.get(f"{self.admin}/admin/#tenant=NOBODY&channel=web&pageType=homepage")
        wait_until(lambda: not b.js("return document.getElementById('error').hidden"),
                   "the error panel")
        self.assertIn("unknown_tenant", b.text("#error"))
        self.assertTrue(b.js("return document.getElementById('result').hidden"))
        self.assertTrue(b.js("return document.getElementById('invalidate').disabled"))


def main():
    global SCREENSHOTS
    args = sys.argv[1:]
    if "--screenshots" in args:
        i = args.index("--screenshots")
        SCREENSHOTS = os.path.abspath(args[i + 1])
        del args[i:i + 2]
    SCREENSHOTS = SCREENSHOTS or os.environ.get("TEMPO_PREVIEW_SCREENSHOTS") or os.path.join(
        tempfile.gettempdir(), "tempo-preview-screenshots")
    print(f"screenshots: {SCREENSHOTS}", file=sys.stderr)
    e2e_test.TEMPO, e2e_test.SHARED = os.path.abspath(args[0]), os.path.abspath(args[1])
    unittest.main(argv=[sys.argv[0], "-v"] + args[2:])


if __name__ == "__main__":
    main()
