#!/usr/bin/env python3
"""End-to-end tests of `tempo bench` (issue 19) against a real `tempo serve`.

usage: bench_e2e_test.py TEMPO_BINARY SHARED_DIR [SUITE...]   (run by ctest)
BenchTest runs `tempo bench` on one URL and on a generated request log against a server on
127.0.0.1 (port 0), and checks the --json document's shape and counts (never its timings: the
stall that only an open loop sees is src/loadgen/loadgen_test.cc's); usage errors exit 2, an
unreachable server 1. Every process is bounded; servers are stopped at the end of their test.
"""
import json
import os
import subprocess
import sys
import unittest

import e2e_test
from e2e_test import Base, run
from probe_e2e_test import closed_port

HOT = "/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=homepage&pageId=home-b"
BENCH_PROCESS_TIMEOUT_S = 120
LATENCY_KEYS = {"p50", "p90", "p99", "p99.9", "p99.99", "max"}


def bench(*args):
    """Runs `tempo bench ARGS`: (exit code, stdout, stderr)."""
    p = subprocess.run([e2e_test.TEMPO, "bench", *args], capture_output=True, text=True,
                       timeout=BENCH_PROCESS_TIMEOUT_S)
    return p.returncode, p.stdout, p.stderr


class BenchTest(Base):
    def report(self, *args):
        path = os.path.join(self.tmp, "report.json")
        code, out, err = bench(*args, "--json", path)
        self.assertEqual(code, 0, out + err)
        with open(path) as f:
            return json.load(f), out

    def check_latencies(self, latencies, count):
        self.assertEqual(set(latencies), LATENCY_KEYS)
        values = [latencies[k] for k in ("p50", "p90", "p99", "p99.9", "p99.99", "max")]
        self.assertEqual(values, sorted(values))  # percentiles never decrease
        if count > 0:
            self.assertGreater(latencies["max"], 0)

    def test_one_url_at_a_rate(self):
        store, _ = self.golden_store()
        s = self.serve(store)
        report, out = self.report(s.url + HOT, "--rate", "200", "--duration", "2s",
                                  "--warmup", "0s", "--connections", "4", "--uncorrected")
        self.assertEqual(report["requested_rate"], 200)
        # Every intended send of the 2 s window is answered, fails, or is reported unsent.
        errors = report["errors"]
        self.assertEqual(set(errors), {"connect", "timeout", "io", "status_4xx", "status_5xx"})
        failed = errors["connect"] + errors["timeout"] + errors["io"]
        self.assertEqual(report["requests"] + failed + report["unsent"], 400)
        self.assertEqual(errors["status_4xx"] + errors["status_5xx"], 0)
        self.assertAlmostEqual(report["achieved_rate"], report["requests"] / 2, delta=0.05)
        self.check_latencies(report["latency_us"], report["requests"])
        self.check_latencies(report["service_time_us"], report["requests"])
        self.assertIn("requested 200 req/s", out)
        self.assertIn("latency (ms, from the intended send)", out)
        self.assertIn("service time (ms, from the actual send)", out)

    def test_a_request_log_in_a_loop(self):
        events = os.path.join(self.tmp, "events.ndjson")
        log = os.path.join(self.tmp, "requests.txt")
        run(["gen", "--seed", "3", "--tenants", "2", "--modules", "50", "--out", events,
             "--requests", "300", "--requests-out", log])
        store = self.store()
        run(["import", "--store", store, events])
        s = self.serve(store)
        # 600 requests over a log of 300: every line is sent twice, its failing lines too.
        report, out = self.report("--requests", log, "--base", s.url, "--rate", "300",
                                  "--duration", "2s", "--warmup", "0s", "--connections", "2")
        self.assertIn("request log " + log + " (300 requests, in a loop)", out)
        self.assertNotIn("service_time_us", report)
        self.check_latencies(report["latency_us"], report["requests"])
        self.assertGreater(report["requests"], 300)
        self.assertGreater(report["errors"]["status_4xx"], 0)  # the lines built to fail
        self.assertEqual(report["errors"]["status_5xx"], 0)

    def test_usage_errors_exit_2(self):
        for args, why in [
            ([], "--rate is required"),
            (["--rate", "10"], "give either a URL or --requests FILE --base URL"),
            (["http://127.0.0.1:1/", "--rate", "0"], "not in range"),
            (["http://127.0.0.1:1/", "--rate", "10", "--duration", "10"], "missing unit"),
            (["http://127.0.0.1:1/", "--rate", "10", "--duration", "1x"], "unknown unit"),
            (["http://127.0.0.1:1/", "--rate", "10", "--duration", "25h"], "at most 24h"),
            (["http://127.0.0.1:1/", "--rate", "10", "--connections", "2", "--threads", "3"],
             "--threads must be at most --connections"),
            (["https://127.0.0.1:1/", "--rate", "10"], "https is not supported"),
            (["--requests", "/nonexistent", "--rate", "10"], "--requests and --base go together"),
            (["--requests", "/nonexistent", "--base", "http://127.0.0.1:1", "--rate", "10"],
             "cannot read request log"),
        ]:
            code, out, err = bench(*args)
            self.assertEqual(code, 2, f"{args}: {out}{err}")
            self.assertIn(why, err, args)
            self.assertEqual(out, "")

    def test_nothing_listening_exits_1(self):
        code, out, err = bench(f"http://127.0.0.1:{closed_port()}/", "--rate", "10",
                               "--duration", "1s")
        self.assertEqual(code, 1, out + err)
        self.assertIn("cannot connect to 127.0.0.1:", err)
        self.assertEqual(out, "")


if __name__ == "__main__":
    e2e_test.TEMPO, e2e_test.SHARED = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
