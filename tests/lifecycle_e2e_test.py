#!/usr/bin/env python3
"""End-to-end tests of `tempo serve`'s lifecycle: the drain on SIGTERM.

usage: lifecycle_e2e_test.py TEMPO_BINARY SHARED_DIR [unittest args]
"""
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import unittest

import e2e_test
from e2e_test import Base, Server

PAGE = "/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=homepage&pageId=home-b"


class DrainTest(Base):
    def start(self, drain_ms):
        store, _ = self.golden_store()
        s = Server(store, drain_ms=drain_ms)
        self.servers.append(s)
        return s

    def test_a_client_looping_through_a_drain_sees_no_failure(self):
        drain_ms = 2000
        s = self.start(drain_ms)
        failures, answered = [], [0]
        stop_sending = threading.Event()

        def client():
            # As a client behind a load balancer: keeps sending until the
            # balancer (the watcher below) has taken the instance out.
            conn = s.conn()
            while not stop_sending.is_set():
                try:
                    conn.request("GET", PAGE)
                    r = conn.getresponse()
                    r.read()
                    if r.status != 200:
                        failures.append(r.status)
                    answered[0] += 1
                except (OSError, http.client.HTTPException) as e:
                    failures.append(repr(e))
                    conn.close()
                    conn = s.conn()
            conn.close()

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        self.assertEqual(s.admin("/readyz")[0], 200)
        sent_at = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        # /readyz turns at once (bounded poll), the public listener keeps serving.
        status, body = 200, ""
        for _ in range(100):
            status, body = s.admin("/readyz")
            if status == 503:
                break
            time.sleep(0.02)
        flipped_after = time.monotonic() - sent_at
        self.assertEqual(status, 503)
        self.assertIn("draining", body)
        self.assertLess(flipped_after, 1.0)
        # The balancer needs a moment to act; requests meanwhile still succeed.
        time.sleep(0.5)
        stop_sending.set()
        for t in threads:
            t.join(timeout=30)
        self.assertEqual(failures, [])
        self.assertGreater(answered[0], 100)
        self.assertIsNone(s.proc.poll(), "still serving during the drain")
        self.assertEqual(s.stop(), 0)  # SIGTERM again: at once
        self.assertIn("draining", s.err)

    def test_the_drain_ends_by_itself_and_the_process_exits_0(self):
        drain_ms = 800
        s = self.start(drain_ms)
        self.assertEqual(s.get(PAGE)[0], 200)
        sent_at = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        code = s.proc.wait(timeout=30)
        elapsed = time.monotonic() - sent_at
        self.assertEqual(code, 0)
        self.assertGreaterEqual(elapsed, drain_ms / 1000)
        self.assertLess(elapsed, drain_ms / 1000 + 10)

    def test_a_second_sigterm_stops_at_once(self):
        s = self.start(600_000)
        self.assertEqual(s.get(PAGE)[0], 200)
        s.proc.send_signal(signal.SIGTERM)
        for _ in range(100):
            if s.admin("/readyz")[0] == 503:
                break
            time.sleep(0.02)
        sent_at = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        self.assertEqual(s.proc.wait(timeout=30), 0)
        self.assertLess(time.monotonic() - sent_at, 10)


class ReloadTest(Base):
    def test_sighup_applies_limits_live_and_names_what_needs_a_restart(self):
        store, _ = self.golden_store()
        config = os.path.join(self.tmp, "serve.yaml")
        with open(config, "w") as f:
            f.write("l1-mb: 128\n")
        s = Server(store, "--config", config)
        self.servers.append(s)
        for _ in range(20):
            self.assertEqual(s.get(PAGE)[0], 200)
        with open(config, "w") as f:
            f.write("l1-mb: 64\ntenant-rate: 1\ntenant-burst: 2\n"
                    "tenant_limits: {Globex: {rate: 1000}}\n")
        s.proc.send_signal(signal.SIGHUP)
        statuses = []
        for _ in range(200):
            statuses.append(s.get(PAGE)[0])
            if 429 in statuses:
                break
            time.sleep(0.01)
        self.assertIn(429, statuses)
        # A file that no longer parses changes nothing.
        with open(config, "w") as f:
            f.write("l1-mb: lots\n")
        s.proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        self.assertEqual(s.stop(), 0)
        self.assertIn("reload: changed: l1-mb, tenant-rate, tenant-burst, tenant_limits", s.err)
        self.assertIn("applied: tenant limits", s.err)
        self.assertIn("need a restart to take effect: l1-mb", s.err)
        self.assertIn("reload: the configuration is not valid, nothing changed", s.err)


class LogsTest(Base):
    def test_json_logs_access_log_request_ids_and_rotation(self):
        store, _ = self.golden_store()
        access = os.path.join(self.tmp, "access.log")
        s = Server(store, "--log-format", "json", "--access-log", access)
        self.servers.append(s)
        trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        status, headers, _ = s.get(PAGE, {"X-Request-Id": "req-1", "traceparent": trace})
        self.assertEqual((status, headers["x-request-id"], headers["traceparent"]),
                         (200, "req-1", trace))
        status, headers, _ = s.get("/nope")
        self.assertEqual(status, 404)
        made = headers["x-request-id"]
        self.assertRegex(made, r"^[0-9a-f]{16}$")
        # Rotation: rename, SIGHUP, and the next lines go to a new file.
        os.rename(access, access + ".1")
        s.proc.send_signal(signal.SIGHUP)
        for _ in range(200):
            if os.path.exists(access):
                break
            time.sleep(0.01)
        self.assertEqual(s.get(PAGE)[0], 200)
        self.assertEqual(s.stop(), 0)  # flushes the access log
        with open(access + ".1") as f:
            first = [json.loads(line) for line in f]
        with open(access) as f:
            second = [json.loads(line) for line in f]
        self.assertEqual([(r["request_id"], r["status"]) for r in first],
                         [("req-1", 200), (made, 404)])
        self.assertEqual(first[0]["traceparent"], trace)
        self.assertEqual(first[0]["target"], PAGE)
        self.assertIn(first[0]["tier"], ("L1", "origin"))
        self.assertEqual(first[0]["method"], "GET")
        self.assertTrue(first[0]["client"].startswith("127.0.0.1:"))
        self.assertEqual(len(second), 1)
        # The process log is JSON too, one object per line.
        lines = [json.loads(line) for line in s.err.splitlines() if line.startswith("{")]
        self.assertTrue(any(l["component"] == "serve" and "reload" in l["message"]
                            for l in lines), s.err)
        self.assertTrue(all({"time", "level", "component", "message"} <= l.keys()
                            for l in lines))

    def test_check_config_prints_what_is_in_effect_without_secrets(self):
        config = os.path.join(self.tmp, "serve.yaml")
        with open(config, "w") as f:
            f.write("l1-mb: 64\ndeadline-ms: 70\n")
        env = dict(os.environ, TEMPO_L1_MB="32",
                   TEMPO_STORE="postgres://tempo:S3cret@127.0.0.1:1/db")
        p = subprocess.run([e2e_test.TEMPO, "serve", "--config", config, "--check-config",
                            "--deadline-ms", "80"], capture_output=True, text=True,
                           timeout=60, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("l1-mb: 32\n", p.stdout)  # the environment over the file
        self.assertIn("deadline-ms: 80\n", p.stdout)  # the flag over the file
        self.assertIn("store: postgres://tempo:***@127.0.0.1:1/db\n", p.stdout)
        self.assertNotIn("S3cret", p.stdout + p.stderr)
        bad = subprocess.run([e2e_test.TEMPO, "serve", "--store", "x", "--listen", "nowhere",
                              "--check-config"], capture_output=True, text=True, timeout=60)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--listen", bad.stderr)


class SyncConfigTest(Base):
    def test_sync_check_config_and_reload(self):
        log, store = os.path.join(self.tmp, "log"), os.path.join(self.tmp, "store")
        p = subprocess.run([e2e_test.TEMPO, "sync", "--log", log, "--store", store,
                            "--check-config", "--log-retention-bytes", "1000000"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("log-retention-bytes: 1000000\n", p.stdout)
        self.assertFalse(os.path.exists(log), "--check-config opens nothing")
        p = subprocess.run([e2e_test.TEMPO, "sync", "--log", log, "--store", store,
                            "--check-config", "--admin-listen", "0.0.0.0:0"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("not loopback", p.stderr)
        # SIGHUP: the log level applies live, the rest is named.
        config = os.path.join(self.tmp, "sync.yaml")
        with open(config, "w") as f:
            f.write("log-level: info\n")
        sync = subprocess.Popen([e2e_test.TEMPO, "sync", "--log", log, "--store", store,
                                 "--config", config, "--stats-every-ms", "50"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(0.5)
            with open(config, "w") as f:
                f.write("log-level: warn\nbatch: 50\n")
            sync.send_signal(signal.SIGHUP)
            time.sleep(0.5)
        finally:
            sync.send_signal(signal.SIGTERM)
            _, err = sync.communicate(timeout=30)
        self.assertEqual(sync.returncode, 0, err)
        self.assertIn("reload: changed: batch, log-level; applied: the log level and format; "
                      "need a restart to take effect: batch", err)
        after = err[err.index("reload: changed"):]
        self.assertNotIn("INFO", after.split("\n", 1)[1], "info lines stop at level warn")


if __name__ == "__main__":
    e2e_test.TEMPO, e2e_test.SHARED = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
