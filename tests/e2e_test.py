#!/usr/bin/env python3
"""End-to-end tests: the real `tempo` binary, real HTTP on 127.0.0.1, real stores.

usage: e2e_test.py TEMPO_BINARY SHARED_DIR   (run by ctest)
Every server is started on port 0 (the kernel picks a free port), read back
from its first stdout line, and stopped with SIGTERM at the end of its test.
"""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

TEMPO = None
SHARED = None
START_TIMEOUT_S = 30
REQUEST_TIMEOUT_S = 10


def run(args, stdin=None, check=True):
    p = subprocess.run([TEMPO] + args, input=stdin, capture_output=True, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"tempo {args} exited {p.returncode}: {p.stderr.decode()[-2000:]}")
    return p


def metric(server, name):
    status, text = server.admin("/metrics")
    assert status == 200, text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no metric {name} in /metrics")


class Server:
    """A `tempo serve` process on a free 127.0.0.1 port."""

    def __init__(self, store, *extra, preexec_fn=None, admin_listen="127.0.0.1:0", threads=2,
                 drain_ms=0):
        # No drain by default: stop() (SIGTERM) then ends the test's server at once.
        self.proc = subprocess.Popen(
            [TEMPO, "serve", "--store", store, "--listen", "127.0.0.1:0", "--threads", str(threads),
             "--admin-listen", admin_listen, "--drain-ms", str(drain_ms), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=preexec_fn)
        line = self.proc.stdout.readline()  # bounded: the process prints it or exits
        m = re.search(r"(https?)://127\.0\.0\.1:(\d+)", line)
        admin = re.search(r"admin on port (\d+)", self.proc.stdout.readline()) if m else None
        if not admin:
            self.proc.kill()
            err = self.proc.stderr.read()[-2000:]
            self.proc.wait()
            self.proc.stdout.close()
            self.proc.stderr.close()
            raise AssertionError(f"server did not start: {line!r} {err}")
        self.scheme = m.group(1)  # "https" with --tls-cert
        self.port = int(m.group(2))
        self.admin_port = int(admin.group(1))
        self.err = None  # stderr, once stopped
        self.url = f"{self.scheme}://127.0.0.1:{self.port}"

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_S)

    def get(self, target, headers=None, method="GET"):
        c = self.conn()
        c.request(method, target, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body

    def admin(self, target):
        """GET on the admin listener: (status, body as text)."""
        c = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=REQUEST_TIMEOUT_S)
        c.request("GET", target)
        r = c.getresponse()
        body = r.read().decode()
        c.close()
        return r.status, body

    def stop(self):
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
                    raise AssertionError("server did not stop within 15 s of SIGTERM")
            return self.proc.returncode
        finally:
            if self.proc.poll() is not None and getattr(self, "err", None) is None:
                self.err = self.proc.stderr.read()  # what it logged, for the tests that check
            self.proc.stdout.close()
            self.proc.stderr.close()


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tempo-e2e-")
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def store(self, name="store"):
        return os.path.join(self.tmp, name)

    def serve(self, store, *extra, preexec_fn=None, threads=2):
        s = Server(store, *extra, preexec_fn=preexec_fn, threads=threads)
        self.servers.append(s)
        return s

    def golden_store(self):
        store = self.store()
        p = run(["import", "--store", store, os.path.join(SHARED, "golden", "data.ndjson")])
        return store, p


class GoldenTest(Base):
    def test_import_reports_counts_and_invalid_lines(self):
        _, p = self.golden_store()
        out = p.stdout.decode()
        m = re.search(r"applied (\d+), stale (\d+), invalid (\d+)", out)
        self.assertIsNotNone(m, out)
        applied, stale, invalid = map(int, m.groups())
        self.assertEqual(invalid, 10)
        self.assertEqual(applied + stale + invalid, 929)
        errors = p.stderr.decode().strip().splitlines()
        self.assertEqual(len(errors), 10)
        for e in errors:
            self.assertRegex(e, r"^line \d+: [A-Za-z_.\[\]0-9]+: .+")

    def test_golden_cases_all_pass(self):
        store, _ = self.golden_store()
        # Three passes: the first and second select every answer, the third
        # finds most in the answer memo (which keeps a query asked twice on
        # one serving thread), which must not change a byte of them.
        s = self.serve(store, "--allow-preview", "--answer-memo", "65536", threads=1)
        for attempt in range(3):
            p = subprocess.run([sys.executable, os.path.join(SHARED, "golden", "check.py"), s.url],
                               capture_output=True, text=True, timeout=600)
            print(p.stdout.strip().splitlines()[-1] if p.stdout.strip() else p.stderr[-500:])
            self.assertEqual(p.returncode, 0, p.stdout[-4000:])
            self.assertIn("2500 passed, 0 failed", p.stdout)
            hits = metric(s, "tempo_layout_memo_hits_total")
            if attempt < 2:
                self.assertEqual(hits, 0)
        print(f"answered from the memo: {hits:.0f}")
        self.assertGreater(hits, 1500)

    def test_eval_matches_growthbook_answers(self):
        with open(os.path.join(SHARED, "golden", "conditions.jsonl"), "rb") as f:
            got = run(["eval"], stdin=f.read()).stdout.decode().splitlines()
        with open(os.path.join(SHARED, "golden", "conditions.expected")) as f:
            want = f.read().splitlines()
        self.assertEqual(len(got), len(want))
        mismatches = [i + 1 for i, (g, w) in enumerate(zip(got, want)) if g != w]
        print(f"eval: {len(want) - len(mismatches)}/{len(want)} match")
        self.assertEqual(mismatches, [])


class StoreTest(Base):
    def test_import_export_round_trip_is_byte_identical(self):
        store, _ = self.golden_store()
        a = os.path.join(self.tmp, "a.ndjson")
        b = os.path.join(self.tmp, "b.ndjson")
        run(["export", "--store", store, "--out", a])
        run(["import", "--store", self.store("second"), a])
        run(["export", "--store", self.store("second"), "--out", b])
        with open(a, "rb") as fa, open(b, "rb") as fb:
            da, db = fa.read(), fb.read()
        self.assertGreater(len(da), 0)
        self.assertEqual(da, db)
        lines = da.decode().splitlines()
        keys = []
        for line in lines:
            env = json.loads(line)
            rec = env["record"]
            rid = rec.get("id") if env["kind"] != "template" else f'{rec["channel"]}:{rec["pageType"]}'
            keys.append((rec["tenant"].encode(), env["kind"].encode(), rid.encode()))
        self.assertEqual(keys, sorted(keys))
        self.assertTrue(any(json.loads(l)["op"] == "delete" for l in lines))

    def test_export_to_stdout_equals_file(self):
        store, _ = self.golden_store()
        a = os.path.join(self.tmp, "a.ndjson")
        run(["export", "--store", store, "--out", a])
        with open(a, "rb") as f:
            self.assertEqual(run(["export", "--store", store]).stdout, f.read())

    def test_restart_keeps_data(self):
        store, _ = self.golden_store()
        target = "/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=homepage"
        s = self.serve(store)
        st1, _, body1 = s.get(target)
        self.assertEqual(st1, 200)
        self.assertEqual(s.stop(), 0, "graceful stop on SIGTERM exits 0")
        s2 = self.serve(store)
        st2, _, body2 = s2.get(target)
        self.assertEqual((st2, body2), (st1, body1))

    def test_import_of_missing_file_fails(self):
        p = run(["import", "--store", self.store(), os.path.join(self.tmp, "nope")], check=False)
        self.assertNotEqual(p.returncode, 0)

    def test_gen_is_deterministic_and_imports(self):
        a = os.path.join(self.tmp, "a.ndjson")
        b = os.path.join(self.tmp, "b.ndjson")
        ra = os.path.join(self.tmp, "ra.txt")
        run(["gen", "--seed", "7", "--tenants", "3", "--modules", "40", "--out", a,
             "--requests", "300", "--requests-out", ra])
        run(["gen", "--seed", "7", "--tenants", "3", "--modules", "40", "--out", b])
        with open(a, "rb") as fa, open(b, "rb") as fb:
            self.assertEqual(fa.read(), fb.read())
        p = run(["import", "--store", self.store(), a])
        self.assertRegex(p.stdout.decode(), r"applied [1-9]\d*")
        s = self.serve(self.store())
        statuses = {}
        c = s.conn()
        with open(ra) as f:
            for target in f.read().splitlines():
                c.request("GET", target)
                r = c.getresponse()
                r.read()
                statuses[r.status] = statuses.get(r.status, 0) + 1
        c.close()
        print(f"gen request log statuses: {statuses}")
        self.assertEqual(sum(statuses.values()), 300)
        self.assertGreater(statuses.get(200, 0), 150)
        self.assertFalse(any(code >= 500 for code in statuses))


class HttpTest(Base):
    TARGET = "/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=homepage&pageId=home-b"

    def setUp(self):
        super().setUp()
        store, _ = self.golden_store()
        self.s = self.serve(store)

    def error_code(self, target, method="GET"):
        status, headers, body = self.s.get(target, method=method)
        self.assertEqual(headers.get("content-type"), "application/json")
        self.assertEqual(headers.get("cache-control"), "no-store")
        err = json.loads(body)["error"]
        self.assertTrue(err["message"])
        return status, err["code"], headers

    def test_200_headers_and_etag(self):
        status, headers, body = self.s.get(self.TARGET)
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(headers["cache-control"], "private, max-age=0")
        self.assertEqual(headers["x-tempo-cache"], "origin")
        self.assertRegex(headers["etag"], r'^"[0-9a-f]{16}"$')
        doc = json.loads(body)
        self.assertEqual(list(doc)[:4], ["tenant", "channel", "pageType", "pageId"])
        status2, headers2, body2 = self.s.get(self.TARGET)
        self.assertEqual((body2, headers2["etag"]), (body, headers["etag"]))
        self.assertEqual(headers2["x-tempo-cache"], "L1")  # the first request filled L1

    def test_304_if_none_match(self):
        _, headers, _ = self.s.get(self.TARGET)
        etag = headers["etag"]
        for inm in (etag, "W/" + etag, '"0000000000000000", ' + etag, "*"):
            status, h, body = self.s.get(self.TARGET, headers={"If-None-Match": inm})
            self.assertEqual(status, 304, inm)
            self.assertEqual(body, b"")
            self.assertEqual(h["etag"], etag)
            self.assertEqual(h["cache-control"], "private, max-age=0")
        status, _, _ = self.s.get(self.TARGET, headers={"If-None-Match": '"0000000000000000"'})
        self.assertEqual(status, 200)

    def test_v1_shape(self):
        status, _, body = self.s.get(self.TARGET.replace("/v2/", "/v1/"))
        self.assertEqual(status, 200)
        doc = json.loads(body)
        self.assertEqual(list(doc), ["modules"])
        for m in doc["modules"]:
            self.assertEqual(sorted(m), ["content", "id", "priority", "type", "version", "zone"])

    def test_every_error_code(self):
        base = "/api/v2/tempo/layouts?"
        ok = "tenant=ACME&channel=web&pageType=homepage"
        cases = [
            ("/nope", "GET", 404, "not_found"),
            ("/api/v2/tempo/layouts/", "GET", 404, "not_found"),
            (base + ok, "POST", 405, "method_not_allowed"),
            (base + ok + "&x=" + "a" * 8200, "GET", 400, "uri_too_long"),
            (base + ok + "&x=%zz", "GET", 400, "invalid_parameter"),
            (base + ok + "&x=%C3%28", "GET", 400, "invalid_parameter"),
            (base + ok + "&tenant=ACME", "GET", 400, "invalid_parameter"),
            (base + ok + "&x=" + "a" * 257, "GET", 400, "value_too_long"),
            (base + ok + "".join(f"&t.a{i}=1" for i in range(65)), "GET", 400, "too_many_attributes"),
            (base + "channel=web&pageType=homepage", "GET", 400, "missing_parameter"),
            (base + "tenant=ACME&channel=WEB&pageType=homepage", "GET", 400, "invalid_parameter"),
            (base + ok + "&at=2026-11-22T12:00:00Z", "GET", 400, "preview_disabled"),
            (base + "tenant=NoSuchTenant&channel=web&pageType=homepage", "GET", 404, "unknown_tenant"),
        ]
        for target, method, want_status, want_code in cases:
            status, code, headers = self.error_code(target, method)
            self.assertEqual((status, code), (want_status, want_code), target[:100])
            if want_status == 405:
                self.assertEqual(headers.get("allow"), "GET")
        status, _, _ = self.s.get(base + ok + "".join(f"&t.a{i}=1" for i in range(64)))
        self.assertEqual(status, 200)

    def test_head_is_405_and_healthz(self):
        c = self.s.conn()
        c.request("HEAD", self.TARGET)
        r = c.getresponse()
        r.read()
        self.assertEqual(r.status, 405)
        self.assertEqual(r.getheader("Allow"), "GET")
        status, _, body = self.s.get("/healthz")
        self.assertEqual((status, body), (200, b"ok"))

    def test_keep_alive_many_requests_one_connection(self):
        c = self.s.conn()
        for _ in range(50):
            c.request("GET", self.TARGET)
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            r.read()
        c.close()

    def test_known_tenant_empty_page(self):
        status, _, body = self.s.get("/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=nothing-here")
        self.assertEqual(status, 200)
        doc = json.loads(body)
        self.assertEqual((doc["version"], doc["zones"], doc["experiments"]), (0, [], []))

    def test_admin_listener_readyz_metrics_cache(self):
        self.assertEqual(self.s.get(self.TARGET)[0], 200)  # origin
        self.assertEqual(self.s.get(self.TARGET)[0], 200)  # L1
        self.assertEqual(self.s.get("/nope")[0], 404)
        self.assertEqual(self.s.admin("/readyz"), (200, "ready\n"))
        self.assertEqual(self.s.admin("/livez"), (200, "ok\n"))
        status, metrics = self.s.admin("/metrics")
        self.assertEqual(status, 200)
        samples = dict(line.rsplit(" ", 1) for line in metrics.splitlines()
                       if line and not line.startswith("#"))
        self.assertEqual(samples['tempo_responses_total{code="200"}'], "2")
        self.assertEqual(samples['tempo_responses_total{code="4xx"}'], "1")
        self.assertEqual(samples['tempo_layouts_total{tier="L1"}'], "1")
        self.assertEqual(samples['tempo_layouts_total{tier="origin"}'], "1")
        self.assertEqual(samples["tempo_origin_reachable"], "1")
        self.assertGreaterEqual(int(samples['tempo_cache_entries{cache="slices"}']), 2)
        status, cache = self.s.admin("/admin/cache")
        self.assertEqual(status, 200)
        doc = json.loads(cache)
        self.assertIsNone(doc["l2"])
        self.assertGreaterEqual(doc["l1"]["hits"], 2)
        # The public listener does not expose the admin routes.
        self.assertEqual(self.s.get("/metrics")[0], 404)


if __name__ == "__main__":
    TEMPO, SHARED = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
