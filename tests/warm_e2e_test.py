#!/usr/bin/env python3
"""End-to-end tests of the warm start (issue 19 §5): GET /admin/cache/hot and
`tempo serve --warm-from`.

usage: warm_e2e_test.py TEMPO_BINARY SHARED_DIR [SUITE...]   (run by ctest)
Instance A serves golden requests; B starts with --warm-from A's admin
listener (or a file saved from it) and holds A's hottest slices in L1 by the
time its /readyz first answers 200. A peer that never answers holds /readyz
back only until --warm-timeout-ms. Servers listen on 127.0.0.1 port 0 and are
stopped at the end of their test; every wait is a bounded poll.
"""
import json
import os
import re
import socket
import sys
import time
import unittest

import e2e_test

POLL_S = 30


def golden_targets(n):
    with open(os.path.join(e2e_test.SHARED, "golden", "cases.ndjson")) as f:
        cases = [json.loads(line) for line in f if line.strip()]
    return [c["target"] for c in cases
            if c["method"] == "GET" and c["target"].startswith("/api/v2/tempo/layouts?")
            and c.get("status", 200) == 200][:n]


def warm_counts(server):
    status, text = server.admin("/metrics")
    assert status == 200, text
    counts = {}
    for line in text.splitlines():
        m = re.match(r'tempo_warm_slices_total\{result="(\w+)"\} (\d+)', line)
        if m:
            counts[m.group(1)] = int(m.group(2))
    return counts


class WarmTest(e2e_test.Base):
    def serve(self, store, *extra, **kw):
        # Correctness, not latency: on a loaded machine (CI runs two suites at
        # once, one of them under ASan) a slow origin read must not become a 503.
        return super().serve(store, "--deadline-ms", "2000", *extra, **kw)

    def setUp(self):
        super().setUp()
        self.golden, _ = self.golden_store()
        self.a = self.serve(self.golden, "--allow-preview")
        answered = 0
        for target in golden_targets(300):
            status, _, _ = self.a.get(target)
            answered += status == 200
        self.assertGreater(answered, 100)
        status, body = self.a.admin("/admin/cache/hot?n=50")
        self.assertEqual(status, 200, body)
        self.hot = json.loads(body)["slices"]
        self.assertGreater(len(self.hot), 5)
        self.assertLessEqual(len(self.hot), 50)
        first = self.hot[0]
        self.assertEqual(sorted(first), ["channel", "frequency", "hits", "key", "pageType",
                                         "scope", "tenant"])
        self.assertEqual(first["key"], "/".join(first[k] for k in ("tenant", "channel",
                                                                   "pageType", "scope")))
        order = [(s["frequency"], s["hits"]) for s in self.hot]
        self.assertEqual(order, sorted(order, reverse=True))

    def wait_ready(self, server):
        deadline = time.time() + POLL_S
        while time.time() < deadline:
            status, body = server.admin("/readyz")
            if status == 200:
                return
            self.assertIn("warming", body)
            time.sleep(0.02)
        self.fail("not ready within %d s" % POLL_S)

    def cached_keys(self, server):
        keys = set()
        for tenant in {s["tenant"] for s in self.hot}:
            status, body = server.admin("/admin/cache/slices?tenant=" + tenant)
            self.assertEqual(status, 200, body)
            keys |= {s["key"] for s in json.loads(body)["slices"]}
        return keys

    def check_warmed(self, b):
        self.wait_ready(b)
        # Nothing asked B for a page: what its L1 holds, the warm-up loaded.
        self.assertEqual(self.cached_keys(b), {s["key"] for s in self.hot})
        self.assertEqual(warm_counts(b), {"l2": 0, "origin": len(self.hot), "skipped": 0,
                                          "failed": 0, "not_tried": 0})
        # A page of a warmed type-wide slice is an L1 hit at once.
        s = next(s for s in self.hot if s["scope"] == "*")
        status, headers, body = b.get("/api/v2/tempo/layouts?tenant=%s&channel=%s&pageType=%s" %
                                      (s["tenant"], s["channel"], s["pageType"]))
        self.assertEqual(status, 200, body)
        self.assertEqual(headers.get("x-tempo-cache"), "L1")

    def test_warm_from_a_peer(self):
        b = self.serve(self.golden, "--warm-from", "http://127.0.0.1:%d" % self.a.admin_port,
                       "--warm-slices", "50")
        self.check_warmed(b)
        b.stop()
        self.assertIn("--warm-from http://127.0.0.1:%d: %d slices listed" %
                      (self.a.admin_port, len(self.hot)), b.err)

    def test_warm_from_a_saved_file(self):
        path = os.path.join(self.tmp, "hot.json")
        with open(path, "w") as f:
            json.dump({"slices": self.hot}, f)
        self.check_warmed(self.serve(self.golden, "--warm-from", path))

    def test_a_bad_file_is_a_warning_and_a_cold_start(self):
        path = os.path.join(self.tmp, "hot.json")
        with open(path, "w") as f:
            f.write('{"slices":[{"tenant":"ACME"')
        b = self.serve(self.golden, "--warm-from", path)
        self.wait_ready(b)
        self.assertEqual(self.cached_keys(b), set())
        b.stop()
        self.assertIn("hot.json: not valid JSON; starting cold", b.err)

    def test_a_hung_peer_holds_readiness_back_only_until_the_timeout(self):
        hung = socket.socket()
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)  # connections complete in the kernel; nothing is ever answered
        self.addCleanup(hung.close)
        started = time.time()
        b = self.serve(self.golden, "--warm-from", "http://127.0.0.1:%d" % hung.getsockname()[1],
                       "--warm-timeout-ms", "1500")
        status, body = b.admin("/readyz")
        self.assertEqual(status, 503)
        self.assertIn("warming: reading the hot list", body)
        self.wait_ready(b)
        took = time.time() - started
        self.assertGreater(took, 1.4)
        self.assertLess(took, 10)
        b.stop()
        self.assertIn("no answer within the time-out; starting cold", b.err)

    def test_bad_n_and_bad_warm_from(self):
        for n in ("0", "x", "100001"):
            status, body = self.a.admin("/admin/cache/hot?n=" + n)
            self.assertEqual(status, 400, n)
            self.assertEqual(json.loads(body)["error"]["code"], "bad_request")
        p = e2e_test.run(["serve", "--store", self.golden, "--warm-from", "https://x:1",
                          "--check-config"], check=False)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(b"--warm-from https://x:1", p.stderr)


if __name__ == "__main__":
    e2e_test.TEMPO, e2e_test.SHARED = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
