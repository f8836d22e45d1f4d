#!/usr/bin/env python3
"""End-to-end tests of event-driven sync (SPEC §6): `tempo publish`, `tempo sync`,
`tempo serve` with invalidations, over the embedded log and over Kafka (librdkafka's
mock cluster, started by `tempo dev-kafka`), with kcat as an independent client.

usage: sync_e2e_test.py TEMPO_BINARY SHARED_DIR [SUITE]   (run by ctest)
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

import e2e_test
from e2e_test import Base, Server, run

VISIBLE_TIMEOUT_S = 15
BROKERS_BACK_TIMEOUT_S = 45
LAYOUT = "/api/v2/tempo/layouts?tenant={tenant}&channel=web&pageType=homepage"


def module(tenant, mid, version, content, channels=("web",)):
    return json.dumps({"schema": 1, "kind": "module", "op": "upsert",
                       "publishedAt": "2026-11-23T10:00:00Z",
                       "record": {"id": mid, "tenant": tenant, "pageType": "homepage",
                                  "zone": "e2e", "channels": list(channels), "priority": 5,
                                  "version": version, "content": content}})


def wait_for(predicate, what, timeout=VISIBLE_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Process:
    """A long-running `tempo` subcommand, stopped with SIGTERM (or killed) at the end."""

    def __init__(self, args):
        self.proc = subprocess.Popen([e2e_test.TEMPO] + args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.result = None

    def first_line(self):
        return self.proc.stdout.readline()

    def stop(self, sig=signal.SIGTERM):
        if self.result is not None:
            return self.result
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"{self.proc.args[1]} did not stop within 15 s")
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        self.result = (self.proc.returncode, err)
        return self.result


class SyncBase(Base):
    def setUp(self):
        super().setUp()
        self.procs = []

    def tearDown(self):
        for p in reversed(self.procs):
            p.stop()
        super().tearDown()

    def start(self, args):
        p = Process(args)
        self.procs.append(p)
        return p

    def write(self, name, lines):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def layout(self, server, tenant):
        status, headers, body = server.get(LAYOUT.format(tenant=tenant))
        return status, headers, body.decode()

    def assert_visible(self, servers, tenant, marker):
        for s in servers:
            wait_for(lambda: (lambda r: r[0] == 200 and marker in r[2])(self.layout(s, tenant)),
                     f"{marker} on {s.url}")

    def check_publish_and_evict(self, servers, publish):
        """A new tenant appears, then a new version of its module replaces the cached one."""
        tenant = "E2E_NEW"
        for s in servers:
            self.assertEqual(self.layout(s, tenant)[0], 404)
        p = publish(self.write("v1.ndjson", [module(tenant, "m1", 1, {"text": "first"}),
                                             "{not json", ""]))
        self.assertIn("sent 1, invalid 1", p.stdout.decode())
        self.assertRegex(p.stderr.decode(), r"line 2: ")
        self.assert_visible(servers, tenant, '"first"')
        for s in servers:  # cached now (an invalidation still in flight may evict it once more)
            wait_for(lambda: self.layout(s, tenant)[1].get("x-tempo-cache") == "L1", "an L1 hit")
        publish(self.write("v2.ndjson", [module(tenant, "m1", 2, {"text": "second"})]))
        self.assert_visible(servers, tenant, '"second"')
        publish(self.write("v0.ndjson", [module(tenant, "m1", 1, {"text": "stale"})]))
        time.sleep(0.3)  # a stale version must change nothing
        for s in servers:
            self.assertIn('"second"', self.layout(s, tenant)[2])


class EmbeddedTest(SyncBase):
    def test_embedded_serve_publish_is_live(self):
        data = os.path.join(self.tmp, "data")
        s = Server.__new__(Server)
        s.proc = subprocess.Popen(
            [e2e_test.TEMPO, "serve", "--embedded", "--data-dir", data, "--listen", "127.0.0.1:0",
             "--threads", "2", "--admin-listen", "127.0.0.1:0", "--drain-ms", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        m = re.search(r"http://127\.0\.0\.1:(\d+)", s.proc.stdout.readline())
        self.assertIsNotNone(m)
        s.port = int(m.group(1))
        s.url = f"http://127.0.0.1:{s.port}"
        self.servers.append(s)
        self.assertEqual(self.layout(s, "ACME")[0], 200)  # demo data applied before listening
        self.check_publish_and_evict(
            [s], lambda path: run(["publish", "--embedded", data, path]))


class LogSyncTest(SyncBase):
    """One `tempo sync` and two `tempo serve` sharing one store and one log on a host."""

    def test_shared_store_two_serves(self):
        log, store = self.store("log"), self.store("store")
        run(["import", "--store", store, os.path.join(e2e_test.SHARED, "golden", "data.ndjson")])
        sync = self.start(["sync", "--log", log, "--store", store, "--stats-every-ms", "0"])
        sync.proc.stderr.readline()  # "tempo sync: log ... -> store ...": the log directory exists
        servers = [self.serve(store, "--log", log) for _ in range(2)]
        self.assertEqual(self.layout(servers[0], "ACME")[0], 200)
        self.check_publish_and_evict(servers, lambda path: run(["publish", "--log", log, path]))

    def test_sigkill_mid_batch_then_restart_loses_nothing(self):
        log, store, reference = self.store("log"), self.store("store"), self.store("reference")
        events = os.path.join(self.tmp, "events.ndjson")
        run(["gen", "--seed", "7", "--tenants", "8", "--modules", "2000", "--out", events])
        run(["publish", "--log", log, events])
        run(["publish", "--log", log, events])  # every event twice: duplicates are harmless
        with open(events) as f:
            total = 2 * sum(1 for line in f if line.strip())
        sync = self.start(["sync", "--log", log, "--store", store, "--batch", "100",
                           "--stats-every-ms", "1"])
        done = 0
        deadline = time.monotonic() + 60
        while done == 0 and time.monotonic() < deadline:  # until the first batches are in
            m = re.search(r"events (\d+)", sync.proc.stderr.readline())
            done = int(m.group(1)) if m else 0
        sync.proc.send_signal(signal.SIGKILL)
        self.assertGreater(done, 0)
        self.assertLess(done, total, "killed only after the whole backlog: not mid-stream")
        sync.stop()
        run(["sync", "--log", log, "--store", store, "--drain", "--stats-every-ms", "0"])
        run(["import", "--store", reference, events])
        self.assertEqual(run(["export", "--store", store]).stdout,
                         run(["export", "--store", reference]).stdout)


class DiskFullTest(SyncBase):
    """The store's disk fills up under `tempo sync` (the disk-full row of bench/faults.py):
    sync reports the failed writes and keeps running (RocksDB's own LOG writer used to abort
    it), and once the disk has room again and sync is restarted nothing is lost."""

    def test_full_disk_fails_writes_without_crashing_and_loses_nothing(self):
        if os.geteuid() != 0:
            # Mounting the tmpfs needs root: run this test again in a user and mount
            # namespace of its own, where this user is root (never skipped).
            p = subprocess.run(["unshare", "-r", "-m", sys.executable, os.path.abspath(__file__),
                                e2e_test.TEMPO, e2e_test.SHARED,
                                "DiskFullTest.test_full_disk_fails_writes_without_crashing_and_"
                                "loses_nothing"], capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr[-3000:])
            return
        disk = os.path.join(self.tmp, "disk")
        os.makedirs(disk)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", disk], check=True,
                       timeout=30)
        self.addCleanup(subprocess.run, ["umount", "-l", disk], timeout=30)
        log, store, reference = self.store("log"), os.path.join(disk, "store"), self.store("ref")
        events = os.path.join(self.tmp, "events.ndjson")
        run(["gen", "--seed", "3", "--tenants", "2", "--modules", "200", "--out", events])
        sync = self.start(["sync", "--log", log, "--store", store, "--stats-every-ms", "0"])
        sync.proc.stderr.readline()  # "tempo sync: log ... -> store ...": the store is open
        filler = os.path.join(disk, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass  # ENOSPC: the disk is full
        run(["publish", "--log", log, events])
        wait_for(lambda: "No space left" in sync.proc.stderr.readline(), "a failed write")
        time.sleep(1)  # more retries, each of which used to be able to abort it
        self.assertIsNone(sync.proc.poll(), "tempo sync exited on a full disk")
        os.unlink(filler)
        # A clean stop even though the store's WAL writer saw a failed write (RocksDB,
        # built with assertions, aborts when that writer is synced or flushed again).
        code, err = sync.stop()
        self.assertEqual(code, 0, "tempo sync did not stop cleanly after the full disk: "
                         + err[-3000:])
        run(["sync", "--log", log, "--store", store, "--drain", "--stats-every-ms", "0"])
        run(["import", "--store", reference, events])
        self.assertEqual(run(["export", "--store", store]).stdout,
                         run(["export", "--store", reference]).stdout)


class KafkaSyncTest(SyncBase):
    """The production shape on librdkafka's mock cluster: dev-kafka, sync, two serves, kcat."""

    def setUp(self):
        super().setUp()
        kafka = self.start(["dev-kafka", "--brokers", "3"])
        self.kafka = kafka
        self.brokers = kafka.first_line().strip()
        self.assertRegex(self.brokers, r"^[0-9.:,]+$")
        self.store_dir = self.store()
        run(["import", "--store", self.store_dir,
             os.path.join(e2e_test.SHARED, "golden", "data.ndjson")])
        self.start(["sync", "--brokers", self.brokers, "--store", self.store_dir,
                    "--stats-every-ms", "0"])

    def kcat(self, args, stdin=None):
        p = subprocess.run(["timeout", "30", "kcat", "-b", self.brokers] + args, input=stdin,
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return p.stdout.decode()

    def test_publish_sync_two_serves(self):
        servers = [self.serve(self.store_dir, "--brokers", self.brokers) for _ in range(2)]
        self.check_publish_and_evict(
            servers, lambda path: run(["publish", "--brokers", self.brokers, path]))

    def test_brokers_down_then_up(self):
        """dev-kafka's SIGUSR1 takes the brokers down, SIGUSR2 brings them back (the fault
        matrix's Kafka row, bench/faults.py): what is published meanwhile arrives after."""
        s = self.serve(self.store_dir, "--brokers", self.brokers)
        self.kafka.proc.send_signal(signal.SIGUSR1)
        publish = subprocess.Popen(
            [e2e_test.TEMPO, "publish", "--brokers", self.brokers,
             self.write("down.ndjson", [module("E2E_DOWN", "d1", 1, {"text": "outage"})])],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            time.sleep(1)
            self.assertIsNone(publish.poll(), "publish finished while every broker was down")
            self.assertEqual(self.layout(s, "E2E_DOWN")[0], 404)
            self.kafka.proc.send_signal(signal.SIGUSR2)
            out, err = publish.communicate(timeout=60)
        finally:
            if publish.poll() is None:
                publish.kill()
                publish.communicate()
        self.assertEqual(publish.returncode, 0, err)
        self.assertIn(b"sent 1", out)
        # sync and serve reconnect after librdkafka's reconnect backoff, which grows to 10 s
        # (reconnect.backoff.max.ms) while the brokers are down; then sync's group rejoins.
        wait_for(lambda: '"outage"' in self.layout(s, "E2E_DOWN")[2], "the event after the outage",
                 timeout=BROKERS_BACK_TIMEOUT_S)

    def test_kcat_producer_and_poison_events_go_to_dlq(self):
        s = self.serve(self.store_dir, "--brokers", self.brokers)
        good = module("E2E_KCAT", "k1", 1, {"via": "kcat"})
        lines = ["E2E_KCAT/module/k1\t" + good,
                 "E2E_KCAT/module/bad\t{\"schema\":2}",
                 "E2E_KCAT/module/junk\tnot json at all"]
        self.kcat(["-P", "-t", "tempo.content.v1", "-K", "\t"], stdin="\n".join(lines).encode())
        self.assert_visible([s], "E2E_KCAT", '"kcat"')
        dlq = wait_for(lambda: (lambda out: out if out.count("reason=") >= 2 else None)(
            self.kcat(["-C", "-t", "tempo.content.v1.dlq", "-o", "beginning", "-e",
                       "-f", "%k|%h|%s\n"])), "two DLQ messages")
        self.assertIn("E2E_KCAT/module/bad|", dlq)
        self.assertIn("reason=schema", dlq)
        self.assertIn("|not json at all", dlq)
        self.assertIn("topic=tempo.content.v1", dlq)
        invalidations = self.kcat(["-C", "-t", "tempo.invalidations.v1", "-o", "beginning", "-e"])
        self.assertIn('"tenant":"E2E_KCAT"', invalidations)

    def test_long_lived_kcat_producer(self):
        """Each change written to a `kcat -P` that stays open shows while kcat still runs.

        kcat 1.7 reads stdin in 1024-byte blocks (fread) and sends a message only once the
        block holding its end is complete, so a short line waits for more input or EOF.
        Padding each line with spaces to a multiple of 1024 bytes sends it at once; Tempo
        takes the spaces after an envelope as the JSON whitespace they are.
        """
        s = self.serve(self.store_dir, "--brokers", self.brokers)
        kcat = subprocess.Popen(["kcat", "-b", self.brokers, "-P", "-t", "tempo.content.v1",
                                 "-K", "\t"], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            for version in (1, 2):
                line = "E2E_LIVE/module/m1\t" + module("E2E_LIVE", "m1", version,
                                                        {"text": f"live{version}"})
                line += " " * (-(len(line) + 1) % 1024)
                kcat.stdin.write((line + "\n").encode())
                kcat.stdin.flush()
                self.assert_visible([s], "E2E_LIVE", f'"live{version}"')
            self.assertIsNone(kcat.poll(), "kcat exited before its stdin was closed")
        finally:
            kcat.stdin.close()
            try:
                kcat.wait(timeout=30)
            except subprocess.TimeoutExpired:
                kcat.kill()
                kcat.wait()
            kcat.stderr.close()
        self.assertEqual(kcat.returncode, 0)


if __name__ == "__main__":
    e2e_test.TEMPO, e2e_test.SHARED = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
