#!/usr/bin/env python3
"""End-to-end tests of `tempo reconcile` (issue 14 §3): the real binary over the golden data
imported into RocksDB stores, a throw-away PostgreSQL cluster (started here on 127.0.0.1 and
stopped at the end) and export files.

Cases: the same data in RocksDB and PostgreSQL (exit 0, equal checksums in stdout, --report and
--metrics-out); one record changed, deleted or added on one side (exit 3, the record named in
stdout and in the report); an export file as a side; sides that cannot be read (exit 1, the side
named on stderr, an earlier metrics file left as it was); the threshold boundary (drift exactly at
--threshold passes, just above fails).

usage: reconcile_e2e_test.py TEMPO_BINARY SHARED_DIR [SUITE]   (run by ctest)
"""
import json
import os
import re
import socket
import sys
import unittest

import e2e_test
from e2e_test import run
from tiers_e2e_test import PgCluster

EXIT_OK, EXIT_ERROR, EXIT_OVER = 0, 1, 3
TOTAL = re.compile(r"^TOTAL\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\S+%\s+([0-9a-f]{16})\s+"
                   r"([0-9a-f]{16})\s+(=|!=)$", re.M)


def golden():
    return os.path.join(e2e_test.SHARED, "golden", "data.ndjson")


def reconcile(a, b, *extra):
    return run(["reconcile", "--a", a, "--b", b, *extra], check=False)


def total_line(p):
    """The TOTAL line of the stdout table: records A/B, missing in A/B, differing, checksums."""
    out = p.stdout.decode()
    m = TOTAL.search(out)
    if m is None:
        raise AssertionError("no TOTAL line in:\n" + out)
    counts = list(map(int, m.groups()[:5]))
    return counts, m.group(6), m.group(7), m.group(8)


def envelope(kind, op, record):
    return json.dumps({"schema": 1, "kind": kind, "op": op,
                       "publishedAt": "2026-12-01T00:00:00Z", "record": record},
                      separators=(",", ":"))


class ReconcileTest(e2e_test.Base):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgCluster()
        cls.databases = 0

    @classmethod
    def tearDownClass(cls):
        cls.pg.destroy()

    def postgres_store(self):
        """A fresh database of the cluster with the golden data imported."""
        ReconcileTest.databases += 1
        uri = self.pg.createdb(f"reconcile{ReconcileTest.databases}")
        run(["import", "--store", uri, golden()])
        return uri

    def rocks_store(self, name):
        store = self.store(name)
        run(["import", "--store", store, golden()])
        return store

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def export_lines(self, store):
        return run(["export", "--store", store]).stdout.decode().splitlines()

    def live_module(self, store):
        """The export line and record of a live module of `store`."""
        for line in self.export_lines(store):
            e = json.loads(line)
            if e["kind"] == "module" and e["op"] == "upsert" and e["record"]["channels"]:
                return line, e["record"]
        raise AssertionError("no live module in the golden data")

    def import_events(self, store, *lines):
        p = run(["import", "--store", store, self.write("events.ndjson", "\n".join(lines) + "\n")])
        self.assertIn("applied %d," % len(lines), p.stdout.decode())

    def expect_named(self, p, report_path, difference, tenant, kind, rid, a, b):
        """The record is named in stdout and in the report, with both sides' states."""
        out = p.stdout.decode()
        self.assertRegex(out, r"(?m)^%s\s+%s  A: %s  B: %s$" % (
            difference, re.escape(f"{tenant}/{kind}/{rid}"), re.escape(a), re.escape(b)), out)
        with open(report_path) as f:
            report = json.load(f)
        self.assertEqual(len(report["diffs"]), 1, report["diffs"])
        diff = report["diffs"][0]
        self.assertEqual((diff["tenant"], diff["kind"], diff["id"], diff["difference"]),
                         (tenant, kind, rid, difference))
        self.assertFalse(report["within_threshold"])
        self.assertEqual(report["total"][difference], 1)
        return diff

    # ---- same data ----------------------------------------------------------------

    def test_same_data_in_rocksdb_and_postgres(self):
        a = self.rocks_store("a")
        b = self.rocks_store("b")
        pg = self.postgres_store()
        p = reconcile(a, b)
        self.assertEqual(p.returncode, EXIT_OK, p.stderr.decode())
        counts, checksum_a, checksum_b, mark = total_line(p)
        self.assertGreater(counts[0], 0)
        self.assertEqual(counts[0], counts[1])
        self.assertEqual(counts[2:], [0, 0, 0])
        self.assertEqual((checksum_a, mark), (checksum_b, "="))
        self.assertEqual(p.stderr, b"")  # no progress line: stderr is not a terminal

        report_path = os.path.join(self.tmp, "report.json")
        metrics_path = os.path.join(self.tmp, "reconcile.prom")
        p = reconcile("rocksdb://" + a, pg, "--report", report_path, "--metrics-out", metrics_path)
        self.assertEqual(p.returncode, EXIT_OK, p.stderr.decode())
        self.assertEqual(total_line(p)[:3], (counts, checksum_a, checksum_a))
        with open(report_path) as f:
            report = json.load(f)
        self.assertEqual(report["total"]["checksum_a"], checksum_a)
        self.assertEqual(report["total"]["checksum_b"], checksum_a)
        self.assertEqual(report["total"]["records_b"], counts[1])
        self.assertEqual((report["drift"], report["diffs"], report["diffs_omitted"]), (0, [], 0))
        self.assertTrue(report["within_threshold"])
        tenants = {t["tenant"]: t for t in report["tenants"]}
        self.assertIn("ACME", tenants)
        self.assertEqual(sum(t["records_a"] for t in tenants.values()), counts[0])
        for t in tenants.values():
            self.assertEqual(t["checksum_a"], t["checksum_b"])
            for part in t["partitions"]:
                self.assertEqual(part["records_a"], part["records_b"])
                self.assertEqual(part["checksum_a"], part["checksum_b"])
        self.assertTrue(any(part["channel"] == "web" and part["page_type"] == "homepage"
                            for part in tenants["ACME"]["partitions"]))

        with open(metrics_path) as f:
            metrics = f.read()
        self.assertIn("# TYPE tempo_reconcile_drift_ratio gauge\n", metrics)
        self.assertIn('tempo_reconcile_drift_ratio{tenant="ACME"} 0\n', metrics)
        self.assertIn("tempo_reconcile_overall_drift_ratio 0\n", metrics)
        self.assertIn('tempo_reconcile_records{side="a",tenant="ACME"} %d\n'
                      % tenants["ACME"]["records_a"], metrics)
        self.assertIn('tempo_reconcile_records{side="b",tenant="ACME"} %d\n'
                      % tenants["ACME"]["records_b"], metrics)
        self.assertIn("tempo_reconcile_over_threshold 0\n", metrics)
        stamp = re.search(r"^tempo_reconcile_last_run_timestamp_seconds (\d+)$", metrics, re.M)
        self.assertIsNotNone(stamp, metrics)
        self.assertLess(abs(int(stamp.group(1)) - os.path.getmtime(metrics_path)), 60)
        for line in metrics.splitlines():  # every sample line is NAME{LABELS} NUMBER
            if not line.startswith("#"):
                self.assertRegex(line, r'^tempo_reconcile_[a-z_]+(\{[a-z_]+="[^"]*"'
                                       r'(,[a-z_]+="[^"]*")*\})? -?[0-9.e+-]+$')
        self.assertEqual(sorted(os.listdir(self.tmp)),
                         sorted(["a", "b", "report.json", "reconcile.prom"]))  # no temp file

    def test_an_export_file_is_a_side(self):
        a = self.rocks_store("a")
        pg = self.postgres_store()
        exported = os.path.join(self.tmp, "pg.ndjson")
        run(["export", "--store", pg, "--out", exported])
        p = reconcile(a, exported)
        self.assertEqual(p.returncode, EXIT_OK, p.stderr.decode())
        counts, checksum_a, checksum_b, _ = total_line(p)
        self.assertEqual(checksum_a, checksum_b)
        self.assertEqual(total_line(reconcile(exported, pg))[1:3], (checksum_a, checksum_a))
        # A pipe (a legacy system's dump streamed in, never stored): here stdin.
        with open(exported, "rb") as f:
            p = run(["reconcile", "--a", a, "--b", "/dev/stdin"], stdin=f.read(), check=False)
        self.assertEqual(p.returncode, EXIT_OK, p.stderr.decode())
        self.assertEqual(total_line(p)[1:3], (checksum_a, checksum_a))

    # ---- one record changed, deleted or added -------------------------------------

    def test_one_changed_content_byte_is_named(self):
        a = self.rocks_store("a")
        line, record = self.live_module(a)
        # The store's export with one byte of one record's content changed: same version.
        lines = self.export_lines(a)
        i = lines.index(line)
        changed = json.loads(line)
        changed["record"]["zone"] = changed["record"]["zone"][:-1] + (
            "X" if changed["record"]["zone"][-1] != "X" else "Y")
        lines[i] = json.dumps(changed, separators=(",", ":"))
        exported = self.write("changed.ndjson", "\n".join(lines) + "\n")
        report_path = os.path.join(self.tmp, "report.json")
        p = reconcile(a, exported, "--threshold", "0", "--report", report_path)
        self.assertEqual(p.returncode, EXIT_OVER, p.stdout.decode() + p.stderr.decode())
        v = record["version"]
        diff = self.expect_named(p, report_path, "differing", record["tenant"], "module",
                                 record["id"], f"v{v}", f"v{v}")
        self.assertEqual(diff["a"], {"version": v, "tombstone": False})
        self.assertEqual(diff["b"], {"version": v, "tombstone": False})
        counts, checksum_a, checksum_b, mark = total_line(p)
        self.assertEqual(counts[0], counts[1])
        self.assertNotEqual(checksum_a, checksum_b)

    def test_one_record_updated_in_postgres_is_named(self):
        a = self.rocks_store("a")
        pg = self.postgres_store()
        _, record = self.live_module(a)
        record = dict(record, version=record["version"] + 1, priority=12345)
        self.import_events(pg, envelope("module", "upsert", record))
        report_path = os.path.join(self.tmp, "report.json")
        p = reconcile(a, pg, "--report", report_path)
        # One difference in fewer than 1000 records is over the default 0.1 %.
        counts, _, _, _ = total_line(p)
        self.assertLess(counts[0], 1000)
        self.assertEqual(p.returncode, EXIT_OVER, p.stderr.decode())
        v = record["version"]
        diff = self.expect_named(p, report_path, "differing", record["tenant"], "module",
                                 record["id"], f"v{v - 1}", f"v{v}")
        self.assertEqual((diff["a"]["version"], diff["b"]["version"]), (v - 1, v))
        self.assertIn("OVER THRESHOLD", p.stdout.decode())

    def test_one_deleted_record_is_named(self):
        a = self.rocks_store("a")
        b = self.rocks_store("b")
        _, record = self.live_module(a)
        v = record["version"] + 1
        self.import_events(b, envelope("module", "delete", {
            "tenant": record["tenant"], "id": record["id"], "version": v}))
        report_path = os.path.join(self.tmp, "report.json")
        p = reconcile(a, b, "--report", report_path)
        self.assertEqual(p.returncode, EXIT_OVER, p.stderr.decode())
        diff = self.expect_named(p, report_path, "missing_in_b", record["tenant"], "module",
                                 record["id"], f"v{v - 1}", f"tombstone v{v}")
        self.assertEqual(diff["b"], {"version": v, "tombstone": True})
        counts, _, _, _ = total_line(p)
        self.assertEqual(counts[0] - 1, counts[1])

    def test_one_added_record_is_named(self):
        a = self.postgres_store()
        b = self.rocks_store("b")
        self.import_events(b, envelope("module", "upsert", {
            "id": "zz-added", "tenant": "ACME", "channels": ["web"], "pageType": "homepage",
            "zone": "main", "version": 1, "content": {"title": "new"}}))
        report_path = os.path.join(self.tmp, "report.json")
        p = reconcile(a, b, "--report", report_path)
        self.assertEqual(p.returncode, EXIT_OVER, p.stderr.decode())
        diff = self.expect_named(p, report_path, "missing_in_a", "ACME", "module", "zz-added",
                                 "absent", "v1")
        self.assertIsNone(diff["a"])
        with open(report_path) as f:
            acme = [t for t in json.load(f)["tenants"] if t["tenant"] == "ACME"][0]
        self.assertEqual(acme["missing_in_a"], 1)
        web = [part for part in acme["partitions"]
               if (part["channel"], part["page_type"]) == ("web", "homepage")][0]
        self.assertEqual(web["missing_in_a"], 1)
        self.assertEqual(web["records_b"], web["records_a"] + 1)

    # ---- the threshold ---------------------------------------------------------------

    def test_drift_exactly_at_the_threshold_passes_and_above_fails(self):
        a = self.rocks_store("a")
        b = self.rocks_store("b")
        _, record = self.live_module(a)
        self.import_events(b, envelope("module", "upsert",
                                       dict(record, version=record["version"] + 1)))
        counts, _, _, _ = total_line(reconcile(a, b))
        drift = 1 / max(counts[0], counts[1])
        metrics_path = os.path.join(self.tmp, "m.prom")
        p = reconcile(a, b, "--threshold", repr(drift), "--metrics-out", metrics_path)
        self.assertEqual(p.returncode, EXIT_OK, p.stdout.decode())
        with open(metrics_path) as f:
            metrics = f.read()
        self.assertIn("tempo_reconcile_overall_drift_ratio %r\n" % drift, metrics)
        self.assertIn("tempo_reconcile_over_threshold 0\n", metrics)
        p = reconcile(a, b, "--threshold", repr(drift * 0.999), "--metrics-out", metrics_path)
        self.assertEqual(p.returncode, EXIT_OVER, p.stdout.decode())
        with open(metrics_path) as f:
            self.assertIn("tempo_reconcile_over_threshold 1\n", f.read())
        self.assertEqual(reconcile(a, b, "--threshold", "1").returncode, EXIT_OK)

    def test_max_diffs_caps_the_list(self):
        a = self.rocks_store("a")
        b = self.store("empty")
        run(["import", "--store", b, self.write("none.ndjson", "")])
        report_path = os.path.join(self.tmp, "report.json")
        p = reconcile(a, b, "--max-diffs", "3", "--report", report_path)
        self.assertEqual(p.returncode, EXIT_OVER)
        with open(report_path) as f:
            report = json.load(f)
        self.assertEqual(len(report["diffs"]), 3)
        self.assertEqual(report["diffs_omitted"], report["total"]["missing_in_b"] - 3)
        self.assertEqual(report["drift"], 1)
        self.assertIn("more differences", p.stdout.decode())

    def test_a_report_that_cannot_be_written_keeps_the_alert(self):
        a = self.rocks_store("a")
        b = self.store("empty")
        run(["import", "--store", b, self.write("none.ndjson", "")])
        nowhere = os.path.join(self.tmp, "no-such-dir", "report.json")
        # Over the threshold: 3 stays (the alert), the failed write is named.
        p = reconcile(a, b, "--report", nowhere)
        self.assertEqual(p.returncode, EXIT_OVER, p.stderr.decode())
        self.assertIn("no-such-dir", p.stderr.decode())
        # Within it: 1, so the job still fails visibly.
        p = reconcile(a, self.rocks_store("a2"), "--metrics-out", nowhere)
        self.assertEqual(p.returncode, EXIT_ERROR, p.stderr.decode())
        self.assertIn("no-such-dir", p.stderr.decode())

    # ---- sides that cannot be read ----------------------------------------------------

    def expect_unreadable(self, a, b, side, why):
        metrics_path = os.path.join(self.tmp, "kept.prom")
        with open(metrics_path, "w") as f:
            f.write("# the last good run\n")
        p = reconcile(a, b, "--metrics-out", metrics_path)
        err = p.stderr.decode()
        self.assertEqual(p.returncode, EXIT_ERROR, err)
        self.assertRegex(err, r"^tempo reconcile: side %s \(" % side)
        self.assertRegex(err, why)
        with open(metrics_path) as f:
            self.assertEqual(f.read(), "# the last good run\n")  # left for a staleness alert

    def test_sides_that_cannot_be_read(self):
        a = self.rocks_store("a")
        self.expect_unreadable(a, os.path.join(self.tmp, "nowhere"), "B", "no such directory")
        os.mkdir(os.path.join(self.tmp, "not-a-store"))
        self.expect_unreadable(os.path.join(self.tmp, "not-a-store"), a, "A", "not a store")
        with socket.socket() as s:  # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.expect_unreadable(a, f"postgres://tempo:secret@127.0.0.1:{port}/x", "B", ".")
        p = reconcile(a, f"postgres://tempo:secret@127.0.0.1:{port}/x")
        self.assertNotIn("secret", p.stderr.decode())
        self.expect_unreadable(a, self.write("bad.ndjson", "{\n"), "B", r"line 1: ")

    def test_an_export_file_out_of_order_names_the_line(self):
        a = self.rocks_store("a")
        lines = self.export_lines(a)
        lines[5], lines[6] = lines[6], lines[5]
        path = self.write("unsorted.ndjson", "\n".join(lines) + "\n")
        self.expect_unreadable(a, path, "B", r"line 7: record .* is not after .*record-key order")
        # Unsorted input such as the golden event file (several versions of a key, any order).
        self.expect_unreadable(golden(), a, "A", r"line \d+: ")


if __name__ == "__main__":
    e2e_test.TEMPO, e2e_test.SHARED = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
