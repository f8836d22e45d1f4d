#!/usr/bin/env python3
"""End-to-end tests of shadow compare (issue 14 §1, §2, §4).

usage: shadow_e2e_test.py TEMPO_BINARY SHARED_DIR [SUITE...]   (run by ctest)
ReceiverTest replays a recorded log (the golden cases: the exact answers of
an independent implementation, the "legacy service" here) into a real
`tempo serve`'s POST /internal/shadow, and checks every count, mismatch and
bad input. SenderTest runs two real `tempo serve` processes, one sending a
sample of its traffic to the other with --shadow-to. Servers listen on
127.0.0.1 port 0 and are stopped at the end of their test; every wait is a
bounded poll.
"""
import http.client
import json
import os
import re
import socket
import sys
import time
import unittest
import urllib.parse

import e2e_test
from e2e_test import run

POLL_S = 30  # the longest any wait for the comparisons to finish


LAYOUT_PATHS = ("/api/v1/tempo/layouts", "/api/v2/tempo/layouts")


def all_cases():
    with open(os.path.join(e2e_test.SHARED, "golden", "cases.ndjson")) as f:
        return [json.loads(line) for line in f if line.strip()]


def is_layout_get(case):
    return case["method"] == "GET" and case["target"].split("?", 1)[0] in LAYOUT_PATHS


def golden_cases():
    """The layout GETs whose exact answer body the golden file holds."""
    return [c for c in all_cases() if is_layout_get(c) and "body" in c]


def item(case, **changes):
    """A shadow item for a golden case: the legacy answer as a JSON string body."""
    out = {"target": case["target"], "status": case["status"],
           "body": json.dumps(case["body"], ensure_ascii=False)}
    out.update(changes)
    return out


def ndjson(items):
    return "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items).encode()


class Base(e2e_test.Base):
    def admin_request(self, server, method, target, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", server.admin_port,
                                       timeout=e2e_test.REQUEST_TIMEOUT_S)
        c.request(method, target, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def post(self, server, items_or_bytes, content_type="application/x-ndjson"):
        body = items_or_bytes if isinstance(items_or_bytes, bytes) else ndjson(items_or_bytes)
        status, headers, data = self.admin_request(server, "POST", "/internal/shadow", body,
                                                   {"Content-Type": content_type})
        self.assertEqual(status, 202, data[:500])
        self.assertEqual(headers["content-type"], "application/json")
        return json.loads(data)

    def shadow_status(self, server):
        status, _, data = self.admin_request(server, "GET", "/admin/shadow")
        self.assertEqual(status, 200, data[:500])
        return json.loads(data)

    def wait_counted(self, server, total):
        """Polls /admin/shadow until `total` items are counted; returns its document."""
        deadline = time.monotonic() + POLL_S
        while True:
            doc = self.shadow_status(server)
            if sum(doc["counts"].values()) >= total or time.monotonic() > deadline:
                self.assertEqual(sum(doc["counts"].values()), total, doc["counts"])
                return doc
            time.sleep(0.05)

    def metrics(self, server):
        status, body = server.admin("/metrics")
        self.assertEqual(status, 200)
        return body

    def assert_serving(self, server):
        status, _, body = server.get(
            "/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=homepage")
        self.assertEqual(status, 200, body[:300])
        self.assertEqual(server.admin("/readyz")[0], 200)


class ReceiverTest(Base):
    def setUp(self):
        super().setUp()
        self.golden, _ = self.golden_store()

    def test_recorded_log_replayed_matches_every_item(self):
        s = self.serve(self.golden)  # no --allow-preview: items carry their instant anyway
        cases = golden_cases()
        answer = self.post(s, [item(c) for c in cases])
        self.assertEqual(answer["accepted"], len(cases))
        self.assertEqual(answer["rejected"], 0)
        doc = self.wait_counted(s, len(cases))
        self.assertEqual(doc["counts"], {"match": len(cases), "mismatch": 0, "error": 0,
                                         "dropped": 0}, doc["mismatches"][:3])
        self.assertEqual(doc["mismatches"], [])
        self.assertIn("ACME", doc["tenants"])
        self.assertEqual(sum(t["match"] for t in doc["tenants"].values()),
                         sum(1 for c in cases if "tenant=" in c["target"]))
        m = self.metrics(s)
        self.assertIn(f'tempo_shadow_items_total{{result="match"}} {len(cases)}', m)
        self.assertIn('tempo_shadow_items_total{result="mismatch"} 0', m)
        self.assert_serving(s)

    def test_differences_are_named_by_json_pointer(self):
        s = self.serve(self.golden, "--shadow-threads", "1")  # compared in arrival order
        cases = [c for c in golden_cases() if c["status"] == 200
                 and any(z["modules"] for z in c["body"].get("zones", []))]
        changed = json.loads(json.dumps(cases[0]["body"]))
        changed["zones"][0]["modules"][0]["priority"] += 1
        reordered = dict(reversed(list(cases[1]["body"].items())))  # member order is no difference
        as_float = json.loads(json.dumps(cases[2]["body"]))
        as_float["version"] = float(as_float["version"])  # 20 == 20.0
        items = [
            item(cases[0], body=json.dumps(changed)),
            item(cases[1], body=json.dumps(reordered)),
            item(cases[2], body=json.dumps(as_float)),
            item(cases[3], status=500),
            item(cases[4], target="/healthz"),  # not a layouts request: error
            item(cases[5], body="<html>not json</html>"),  # error
        ]
        answer = self.post(s, items)
        self.assertEqual(answer["accepted"], 6)
        doc = self.wait_counted(s, 6)
        self.assertEqual(doc["counts"], {"match": 2, "mismatch": 2, "error": 2, "dropped": 0})
        by_target = {m["target"]: m for m in doc["mismatches"]}
        priority = by_target[cases[0]["target"]]
        self.assertEqual(priority["path"], "/zones/0/modules/0/priority")
        self.assertEqual(priority["expected"], changed["zones"][0]["modules"][0]["priority"])
        self.assertEqual(priority["actual"], cases[0]["body"]["zones"][0]["modules"][0]["priority"])
        status = by_target[cases[3]["target"]]
        self.assertEqual(status["path"], "")
        self.assertEqual((status["expected"], status["actual"]), (500, 200))
        # Newest first.
        self.assertEqual(doc["mismatches"][0]["target"], cases[3]["target"])
        self.assertIn('tempo_shadow_mismatches_total{tenant="', self.metrics(s))

        # Reset zeroes the view.
        status_code, _, data = self.admin_request(s, "POST", "/admin/shadow/reset")
        self.assertEqual(status_code, 200, data)
        doc = self.shadow_status(s)
        self.assertEqual(sum(doc["counts"].values()), 0)
        self.assertEqual(doc["mismatches"], [])

    def test_ignored_pointers_leave_fields_out(self):
        s = self.serve(self.golden, "--shadow-ignore", "/zones/*/modules/*/priority",
                       "--shadow-ignore", "/version")
        cases = [c for c in golden_cases() if c["status"] == 200
                 and any(z["modules"] for z in c["body"].get("zones", []))][:2]
        changed = json.loads(json.dumps(cases[0]["body"]))
        for z in changed["zones"]:
            for m in z["modules"]:
                m["priority"] = -1
        changed["version"] = 123456
        other = json.loads(json.dumps(cases[1]["body"]))
        other["tenant"] = "SOMEONE-ELSE"  # not ignored
        self.post(s, [item(cases[0], body=json.dumps(changed)),
                      item(cases[1], body=json.dumps(other))])
        doc = self.wait_counted(s, 2)
        self.assertEqual(doc["counts"]["match"], 1, doc)
        self.assertEqual(doc["counts"]["mismatch"], 1, doc)
        self.assertEqual(doc["mismatches"][0]["path"], "/tenant")

    def test_the_item_instant_decides_schedules(self):
        s = self.serve(self.golden)
        cases = [c for c in golden_cases() if c["status"] == 200 and "at=" in c["target"]]
        # The same target without its `at`, answered "now" by the legacy side
        # at the case's instant: the candidate must use the item's `at`.
        one = cases[0]
        parts = [p for p in one["target"].split("?", 1)[1].split("&") if not p.startswith("at=")]
        target = one["target"].split("?", 1)[0] + "?" + "&".join(parts)
        at = urllib.parse.unquote(
            [p for p in one["target"].split("?", 1)[1].split("&") if p.startswith("at=")][0][3:])
        self.post(s, [{"target": target, "status": 200, "body": json.dumps(one["body"]),
                       "at": at}])
        doc = self.wait_counted(s, 1)
        self.assertEqual(doc["counts"]["match"], 1, doc)

    def test_bad_posts_are_answered_clearly_and_serving_goes_on(self):
        s = self.serve(self.golden, "--shadow-max-post-bytes", str(1 << 20))
        cases = golden_cases()
        # A malformed line is rejected with its line number; the rest go on.
        lines = ndjson([item(c) for c in cases[:3]]).decode().splitlines()
        lines.insert(1, '{"target":"/api/v2/tempo/layouts","status":"two hundred","body":"{}"}')
        lines.append('{"target":"/api/v2/tempo/layouts?tenant=ACME","status":200,"bo')  # truncated
        answer = self.post(s, ("\n".join(lines)).encode())
        self.assertEqual(answer["accepted"], 3)
        self.assertEqual(answer["rejected"], 2)
        self.assertEqual([e["line"] for e in answer["errors"]], [2, 5])
        self.assertIn("status", answer["errors"][0]["message"])
        # One JSON object, not NDJSON.
        self.assertEqual(self.post(s, json.dumps(item(cases[0])).encode(),
                                   "application/json")["accepted"], 1)
        # Not JSON at all.
        self.assertEqual(self.post(s, b"\x00\xff garbage")["rejected"], 1)
        # Too large: 413 before the body is read, by Content-Length...
        with socket.create_connection(("127.0.0.1", s.admin_port), timeout=10) as sock:
            sock.sendall(b"POST /internal/shadow HTTP/1.1\r\nHost: t\r\n"
                         b"Content-Length: 104857600\r\n\r\n")
            head = sock.recv(4096).decode(errors="replace")
            self.assertTrue(head.startswith("HTTP/1.1 413"), head)
            self.assertIn("payload_too_large", head)
        # ... and when a chunked body passes the limit.
        with socket.create_connection(("127.0.0.1", s.admin_port), timeout=10) as sock:
            sock.sendall(b"POST /internal/shadow HTTP/1.1\r\nHost: t\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
            try:
                for _ in range(100):  # 6.4 MB, far past the 1 MiB limit
                    sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered and closed: the answer is still readable
            head = sock.recv(4096).decode(errors="replace")
            self.assertTrue(head.startswith("HTTP/1.1 413"), head)
        # GET on the post route: 405 naming POST.
        status, headers, _ = self.admin_request(s, "GET", "/internal/shadow")
        self.assertEqual((status, headers.get("allow")), (405, "POST"))
        self.wait_counted(s, 4)
        self.assert_serving(s)

    def test_a_flood_is_dropped_and_counted_never_slowing_the_sender(self):
        s = self.serve(self.golden, "--shadow-queue", "10", "--shadow-threads", "1")
        items = [item(c) for c in golden_cases()]
        accepted = dropped = 0
        for _ in range(4):
            start = time.monotonic()
            answer = self.post(s, items)
            self.assertLess(time.monotonic() - start, e2e_test.REQUEST_TIMEOUT_S)
            accepted += answer["accepted"]
            dropped += answer["dropped"]
        self.assertEqual(accepted, 4 * len(items))
        self.assertGreater(dropped, 0)
        doc = self.wait_counted(s, accepted)
        self.assertEqual(doc["counts"]["dropped"], dropped)
        self.assertEqual(doc["counts"]["mismatch"] + doc["counts"]["error"], 0, doc)
        self.assertIn(f'tempo_shadow_items_total{{result="dropped"}} {dropped}', self.metrics(s))
        self.assert_serving(s)


class SenderTest(Base):
    def setUp(self):
        super().setUp()
        self.golden, _ = self.golden_store()

    def test_every_request_goes_to_the_other_instance_at_sample_1(self):
        receiver = self.serve(self.golden)
        sender = self.serve(self.golden, "--allow-preview", "--shadow-to",
                            f"http://127.0.0.1:{receiver.admin_port}", "--shadow-sample", "1")
        cases = all_cases()
        c = sender.conn()
        for case in cases:
            c.request(case["method"], case["target"])
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, case["status"])
        c.close()
        # Every layout GET is sent, 4xx answers too (only 503s never are);
        # other paths and methods are not layout answers.
        sent = sum(1 for case in cases if is_layout_get(case))
        doc = self.wait_counted(receiver, sent)
        self.assertEqual(doc["counts"]["match"], sent, doc["mismatches"][:3])
        self.assertIn('tempo_shadow_sent_total{result="sent"} ' + str(sent),
                      self.metrics(sender))

    def test_sample_0_sends_only_forced_requests_of_the_chosen_tenants(self):
        receiver = self.serve(self.golden)
        sender = self.serve(self.golden, "--allow-preview", "--shadow-to",
                            f"http://127.0.0.1:{receiver.admin_port}", "--shadow-sample", "0")
        target = golden_cases()[0]["target"]
        for _ in range(20):
            self.assertEqual(sender.get(target)[0], 200)
        status, _, _ = sender.get(target, headers={"X-Tempo-Shadow": "1"})
        self.assertEqual(status, 200)
        doc = self.wait_counted(receiver, 1)
        self.assertEqual(doc["counts"]["match"], 1)
        time.sleep(0.3)  # nothing else arrives
        self.assertEqual(sum(self.shadow_status(receiver)["counts"].values()), 1)

        # --shadow-tenants: only those tenants' requests are sampled.
        filtered = self.serve(self.golden, "--allow-preview", "--shadow-to",
                              f"http://127.0.0.1:{receiver.admin_port}", "--shadow-sample", "1",
                              "--shadow-tenants", "initech")
        self.admin_request(receiver, "POST", "/admin/shadow/reset")
        sent = 0
        for case in golden_cases()[:200]:
            filtered.get(case["target"])
            query = urllib.parse.parse_qs(case["target"].split("?", 1)[1])
            sent += query.get("tenant", [""])[0] == "initech"
        self.assertGreater(sent, 0)
        doc = self.wait_counted(receiver, sent)
        self.assertEqual(set(doc["tenants"]), {"initech"})

    def test_a_different_store_shows_as_mismatches(self):
        # The candidate's store lacks one module: requests showing it differ.
        with open(os.path.join(e2e_test.SHARED, "golden", "data.ndjson")) as f:
            lines = f.readlines()
        module = next(json.loads(line) for line in lines
                      if '"kind":"module"' in line and '"op":"upsert"' in line)
        other = os.path.join(self.tmp, "other.ndjson")
        with open(other, "w") as f:
            f.writelines(lines)
            record = module["record"]
            f.write(json.dumps({"schema": 1, "kind": "module", "op": "delete",
                                "record": {"id": record["id"], "tenant": record["tenant"],
                                           "version": 1 << 40}}) + "\n")
        candidate_store = os.path.join(self.tmp, "candidate")
        run(["import", "--store", candidate_store, other])
        receiver = self.serve(candidate_store)
        sender = self.serve(self.golden, "--allow-preview", "--shadow-to",
                            f"http://127.0.0.1:{receiver.admin_port}", "--shadow-sample", "1")
        cases = golden_cases()
        for case in cases:
            sender.get(case["target"])
        doc = self.wait_counted(receiver, len(cases))
        self.assertGreater(doc["counts"]["mismatch"], 0)
        self.assertTrue(all(m["path"].startswith("/") or m["path"] == ""
                            for m in doc["mismatches"]))
        self.assertIn(record["tenant"], doc["tenants"])

    def test_a_receiver_that_is_down_costs_the_sender_nothing(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            dead_port = probe.getsockname()[1]  # closed again: nothing listens there
        sender = self.serve(self.golden, "--allow-preview", "--shadow-to",
                            f"http://127.0.0.1:{dead_port}", "--shadow-sample", "1",
                            "--shadow-timeout-ms", "100")
        for case in golden_cases()[:300]:
            self.assertEqual(sender.get(case["target"])[0], case["status"])
        deadline = time.monotonic() + POLL_S
        while True:
            failed = re.search(r'tempo_shadow_sent_total\{result="failed"\} (\d+)',
                               self.metrics(sender))
            self.assertIsNotNone(failed)
            if int(failed.group(1)) > 0:
                break
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        self.assert_serving(sender)

    def test_bad_shadow_flags_refuse_to_start(self):
        for flags in (["--shadow-to", "ftp://x:1"], ["--shadow-to", "http://127.0.0.1:1",
                                                      "--shadow-sample", "1.5"],
                      ["--shadow-ignore", "zones/0"]):
            with self.assertRaises(AssertionError, msg=flags):
                self.serve(self.golden, *flags)


if __name__ == "__main__":
    e2e_test.TEMPO, e2e_test.SHARED = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
