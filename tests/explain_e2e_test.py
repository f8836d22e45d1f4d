#!/usr/bin/env python3
"""End-to-end tests of the explain trace and the admin cache routes (issue 18 §1, §2).

usage: explain_e2e_test.py TEMPO_BINARY SHARED_DIR [SUITE...]   (run by ctest)
ExplainTest asks a real `tempo serve`'s GET /admin/explain and `tempo explain`
about golden queries and checks them against the public answers. CacheTest
drops slices through POST /admin/cache/invalidate and `tempo invalidate`
(over the embedded log) and lists them with GET /admin/cache/slices. Servers
listen on 127.0.0.1 port 0 and are stopped at the end of their test; every
wait is a bounded poll.
"""
import http.client
import json
import os
import sys
import time
import unittest

import e2e_test
from e2e_test import run

POLL_S = 30
LAYOUT_PATHS = ("/api/v1/tempo/layouts", "/api/v2/tempo/layouts")
TARGET = ("/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=homepage&pageId=home-b"
          "&t.segment=gold&visitorId=v-42&at=2026-11-22T12%3A00%3A00Z")


def golden_layout_cases():
    with open(os.path.join(e2e_test.SHARED, "golden", "cases.ndjson")) as f:
        cases = [json.loads(line) for line in f if line.strip()]
    return [c for c in cases
            if c["method"] == "GET" and c["target"].split("?", 1)[0] in LAYOUT_PATHS
            and len(c["target"]) <= 8192]


def answer_modules(body):
    """(zone, id, priority) of each module of a v1 or v2 body, in order."""
    if "zones" in body:
        return [(z["zone"], m["id"], m["priority"]) for z in body["zones"] for m in z["modules"]]
    return [(m["zone"], m["id"], m["priority"]) for m in body["modules"]]


def kept_modules(explanation):
    return [(m["zone"], m["id"], m["priority"]) for m in explanation["modules"]
            if m["outcome"] == "kept"]


class Base(e2e_test.Base):
    def serve(self, store, *extra, **kw):
        # Correctness, not latency: on a loaded machine (CI runs two suites at
        # once, one of them under ASan) a slow origin read must not become a 503.
        return super().serve(store, "--deadline-ms", "2000", *extra, **kw)

    def admin_call(self, server, method, target, body=None):
        c = http.client.HTTPConnection("127.0.0.1", server.admin_port,
                                       timeout=e2e_test.REQUEST_TIMEOUT_S)
        c.request(method, target, body=body,
                  headers={"Content-Type": "application/json"} if body is not None else {})
        r = c.getresponse()
        data = r.read()
        c.close()
        self.assertEqual(r.getheader("Content-Type"), "application/json", data[:300])
        return r.status, json.loads(data)

    def explain(self, server, target):
        query = target.split("?", 1)[1] if "?" in target else ""
        return self.admin_call(server, "GET", "/admin/explain?" + query)


class ExplainTest(Base):
    def setUp(self):
        super().setUp()
        self.golden, _ = self.golden_store()

    def test_kept_modules_are_the_answer_for_golden_cases(self):
        s = self.serve(self.golden, "--allow-preview")
        cases = golden_layout_cases()
        self.assertGreater(len(cases), 2000)
        compared = 0
        for case in cases[::5]:  # a fifth over HTTP; every case in tempo_api_explain_test
            status, _, body = s.get(case["target"])
            code, doc = self.explain(s, case["target"])
            if status != 200:
                self.assertEqual(code, status, case["target"])
                self.assertEqual(doc["error"]["code"], json.loads(body)["error"]["code"])
                continue
            self.assertEqual(code, 200, doc)
            self.assertEqual(kept_modules(doc), answer_modules(json.loads(body)), case["target"])
            positions = [m["position"] for m in doc["modules"] if m["outcome"] == "kept"]
            self.assertTrue(all(p == 0 or p == q + 1 for q, p in zip([-1] + positions, positions)))
            for m in doc["modules"]:
                self.assertIn(m["outcome"], ("kept", "channel", "page", "zone", "schedule",
                                             "targeting", "experiment", "limit"))
                if m["outcome"] != "kept":
                    self.assertTrue(m["reason"])
                    self.assertIsNone(m["position"])
            compared += 1
        self.assertGreater(compared, 300)

    def test_document_shape_and_at_without_allow_preview(self):
        s = self.serve(self.golden)  # no --allow-preview: the public listener refuses `at`
        status, _, body = s.get(TARGET)
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["error"]["code"], "preview_disabled")
        code, doc = self.explain(s, TARGET)
        self.assertEqual(code, 200, doc)
        self.assertEqual(doc["request"]["at"], "2026-11-22T12:00:00Z")
        self.assertEqual(doc["request"]["at_from"], "query")
        self.assertEqual(doc["request"]["attributes"], {"segment": "gold"})
        self.assertEqual(doc["request"]["visitorId"], "v-42")
        self.assertEqual([(x["scope"], x["tier"]) for x in doc["slices"]],
                         [("*", "origin"), ("home-b", "origin")])
        self.assertEqual(doc["version"], doc["answer"]["version"])
        outcomes = {m["outcome"] for m in doc["modules"]}
        self.assertTrue({"kept", "page", "targeting", "schedule", "limit"} <= outcomes, outcomes)
        schedule = next(m for m in doc["modules"] if m["outcome"] == "schedule")
        self.assertEqual(schedule["schedule"]["at"], "2026-11-22T12:00:00Z")
        targeting = next(m for m in doc["modules"] if m["outcome"] == "targeting")
        self.assertIsInstance(targeting["condition"], dict)
        self.assertTrue(targeting["failing"])
        limit = next(m for m in doc["modules"] if m["outcome"] == "limit")
        self.assertIsInstance(limit["limit"], int)
        [exp] = doc["experiments"]
        self.assertEqual((exp["assigned"], exp["how"], exp["hash_input"]), (True, "hashed", "v-42"))
        self.assertTrue(exp["ranges"][exp["variants"].index(exp["variant"])][0] <= exp["hash"])
        # The second read of the same slices is an L1 hit.
        self.assertEqual({x["tier"] for x in self.explain(s, TARGET)[1]["slices"]}, {"l1"})

    def test_bad_queries_get_the_public_apis_errors(self):
        s = self.serve(self.golden)
        for query, code, error in (("", 400, "missing_parameter"),
                                   ("tenant=ACME&channel=WEB&pageType=homepage", 400,
                                    "invalid_parameter"),
                                   ("tenant=ACME&channel=web&pageType=homepage&at=soon", 400,
                                    "invalid_parameter"),
                                   ("tenant=%zz", 400, "invalid_parameter"),
                                   ("tenant=NOBODY&channel=web&pageType=homepage", 404,
                                    "unknown_tenant")):
            status, doc = self.admin_call(s, "GET", "/admin/explain?" + query)
            self.assertEqual((status, doc["error"]["code"]), (code, error), query)
        status, doc = self.admin_call(s, "POST", "/admin/explain?tenant=ACME", b"")
        self.assertEqual(status, 405)

    def test_cli_explain_matches_the_admin_route(self):
        s = self.serve(self.golden, "--allow-preview")
        for case in golden_layout_cases()[:40]:
            if case["status"] != 200 or not case["target"].startswith("/api/v2/"):
                continue
            p = run(["explain", "--store", self.golden, case["target"]])
            doc = json.loads(p.stdout)
            self.assertEqual(doc["answer"], case["body"], case["target"])
            self.assertEqual(kept_modules(doc), answer_modules(case["body"]))
            self.assertEqual({x["tier"] for x in doc["slices"]}, {"origin"})
            admin = self.explain(s, case["target"])[1]
            self.assertEqual(doc["modules"], admin["modules"])
            self.assertEqual(doc["experiments"], admin["experiments"])
        bad = run(["explain", "--store", self.golden, "tenant=ACME"], check=False)
        self.assertEqual(bad.returncode, 2)
        self.assertEqual(json.loads(bad.stdout)["error"]["code"], "missing_parameter")


class CacheTest(Base):
    def setUp(self):
        super().setUp()
        self.golden, _ = self.golden_store()
        self.log = self.store("log")

    def warm(self, s):
        for target in (TARGET, TARGET.replace("channel=web", "channel=ios"),
                       "/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=pdp"):
            self.assertEqual(s.get(target)[0], 200, target)

    def slices(self, s, tenant="ACME"):
        status, doc = self.admin_call(s, "GET", "/admin/cache/slices?tenant=" + tenant)
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc["tenant"], tenant)
        return doc["slices"]

    def test_list_and_invalidate_over_the_admin_listener(self):
        s = self.serve(self.golden, "--allow-preview")
        self.warm(s)
        listed = self.slices(s)
        self.assertEqual(sorted((x["channel"], x["pageType"], x["scope"]) for x in listed),
                         [("ios", "homepage", "*"), ("ios", "homepage", "home-b"),
                          ("web", "homepage", "*"), ("web", "homepage", "home-b"),
                          ("web", "pdp", "*")])
        for x in listed:
            self.assertEqual(set(x), {"key", "channel", "pageType", "scope", "version", "bytes",
                                      "age_ms", "hits", "frequency", "fresh", "tier",
                                      "loaded_from"})
            self.assertEqual((x["tier"], x["fresh"]), ("l1", True))
            self.assertGreater(x["bytes"], 0)
        self.warm(s)
        self.assertTrue(all(x["hits"] >= 1 for x in self.slices(s)))
        post = lambda body: self.admin_call(s, "POST", "/admin/cache/invalidate",
                                            json.dumps(body).encode())
        self.assertEqual(post({"tenant": "ACME", "channel": "web", "pageType": "homepage",
                               "scope": "home-b"}), (200, {"l1_removed": 1, "l2_deleted": 0}))
        self.assertEqual(post({"tenant": "ACME", "channel": "ios", "l2": True}),
                         (200, {"l1_removed": 2, "l2_deleted": 0}))
        self.assertEqual(sorted(x["key"] for x in self.slices(s)),
                         ["ACME/web/homepage/*", "ACME/web/pdp/*"])
        self.assertEqual(post({"tenant": "ACME"}), (200, {"l1_removed": 2, "l2_deleted": 0}))
        self.assertEqual(self.slices(s), [])
        self.assertEqual(post({"tenant": "ACME"}), (200, {"l1_removed": 0, "l2_deleted": 0}))
        for body, field in ((b"{", "JSON"), (b'{"channel":"web"}', "tenant"),
                            (b'{"tenant":"ACME","pageTyp":"x"}', "pageTyp"),
                            (b'{"tenant":"ACME","l2":1}', "l2")):
            status, doc = self.admin_call(s, "POST", "/admin/cache/invalidate", body)
            self.assertEqual((status, doc["error"]["code"]), (400, "bad_request"), body)
            self.assertIn(field, doc["error"]["message"])
        status, doc = self.admin_call(s, "POST", "/admin/cache/invalidate", b" " * 5000)
        self.assertEqual((status, doc["error"]["code"]), (413, "body_too_large"))
        self.assertEqual(self.admin_call(s, "GET", "/admin/cache/slices")[0], 400)
        self.assertEqual(self.admin_call(s, "GET", "/admin/cache/invalidate")[0], 405)

    def test_tempo_invalidate_reaches_every_instance(self):
        # The log exists once something was written to it: a drop of no one's slices.
        run(["invalidate", "--log", self.log, "--tenant", "NOBODY"])
        servers = [self.serve(self.golden, "--allow-preview", "--log", self.log) for _ in range(2)]
        # A listener reads the log from its end once it has joined (and then
        # drops L1 once): a drop sent now reaches each when it has.
        run(["invalidate", "--log", self.log, "--tenant", "NOBODY"])
        deadline = time.time() + POLL_S
        for s in servers:
            while (e2e_test.metric(s, "tempo_invalidations_drops_total") < 1
                   and time.time() < deadline):
                time.sleep(0.05)
            self.assertEqual(e2e_test.metric(s, "tempo_invalidations_drops_total"), 1)
            self.warm(s)
            self.assertEqual(len(self.slices(s)), 5)
        p = run(["invalidate", "--log", self.log, "--tenant", "ACME", "--channel", "ios"])
        self.assertIn('"drop"', p.stdout.decode())
        for s in servers:
            while len(self.slices(s)) != 3 and time.time() < deadline:
                time.sleep(0.05)
            self.assertEqual(sorted(x["channel"] for x in self.slices(s)), ["web", "web", "web"])
        run(["invalidate", "--log", self.log, "--tenant", "ACME"])
        for s in servers:
            while self.slices(s) and time.time() < deadline:
                time.sleep(0.05)
            self.assertEqual(self.slices(s), [])
        bad = run(["invalidate", "--log", self.log, "--tenant", "AC ME"], check=False)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--tenant", bad.stderr.decode())


if __name__ == "__main__":
    e2e_test.TEMPO, e2e_test.SHARED = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
