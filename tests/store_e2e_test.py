#!/usr/bin/env python3
"""End-to-end tests of damaged and mistyped RocksDB stores (issue 12 §3).

usage: store_e2e_test.py TEMPO_BINARY SHARED_DIR [SUITE...]   (run by ctest)
A damaged store is an error, never "no data": `serve` over a store with a
removed or truncated table file refuses to start or answers 5xx, never the
404 `unknown_tenant` that says the tenant was deleted. `export` opens a store
read-only: it changes nothing in it, needs no writer's lock, and a path that
is not a store is an error that creates nothing. Servers listen on 127.0.0.1
port 0 and are stopped at the end of their test.
"""
import fcntl
import glob
import os
import shutil
import sys
import unittest

import e2e_test
from e2e_test import run

# A page of a tenant the golden data set has, and one the origin must read.
PAGE = "/api/v1/tempo/layouts?tenant=initech&channel=web&pageType=homepage"


def dir_state(path):
    """Every entry of a directory with its size, mtime and bytes, and the directory's mtime."""
    state = {".": os.stat(path).st_mtime_ns}
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        with open(full, "rb") as f:
            state[name] = (os.stat(full).st_mtime_ns, f.read())
    return state


def tree(path):
    """Every path under `path` (files and directories), relative to it."""
    out = []
    for root, dirs, files in os.walk(path):
        out += [os.path.relpath(os.path.join(root, n), path) for n in dirs + files]
    return sorted(out)


class Base(e2e_test.Base):
    def golden_store(self, name="store"):
        """A store of the golden data, its rows in table files (import flushes on exit)."""
        store = os.path.join(self.tmp, name)
        run(["import", "--store", store, os.path.join(e2e_test.SHARED, "golden", "data.ndjson")])
        tables = sorted(glob.glob(os.path.join(store, "*.sst")))
        self.assertGreater(len(tables), 0, os.listdir(store))
        return store, tables

    def try_serve(self, store):
        """A started serve, or None and why it refused to start."""
        try:
            return self.serve(store), None
        except AssertionError as refused:  # e2e_test.Server: it exited, with its stderr
            return None, str(refused)


class DamagedStoreTest(Base):
    def test_healthy_store_serves_the_page(self):
        # The control for the tests below: the same page of the undamaged store is served.
        store, _ = self.golden_store()
        s, refused = self.try_serve(store)
        self.assertIsNotNone(s, refused)
        self.assertEqual(s.get(PAGE)[0], 200)
        self.assertEqual(s.admin("/readyz")[0], 200)

    def expect_error_not_no_data(self, store):
        s, refused = self.try_serve(store)
        if s is None:
            # Refused at start, saying why.
            self.assertRegex(refused, r"(?i)damaged|corrupt", refused)
            return "refused to start: " + refused.strip()
        status, _, body = s.get(PAGE)
        self.assertNotEqual(status, 404, body)  # "unknown_tenant" would say it was deleted
        self.assertNotEqual(status, 200, body)
        self.assertGreaterEqual(status, 500, body)
        ready, _ = s.admin("/readyz")
        self.assertNotEqual(ready, 200)
        return f"started; page {status}, readyz {ready}"

    def test_removed_table_file_is_an_error(self):
        store, tables = self.golden_store()
        for table in tables:
            os.remove(table)
        print("\n  removed .sst:", self.expect_error_not_no_data(store), file=sys.stderr)

    def test_truncated_table_file_is_an_error(self):
        store, tables = self.golden_store()
        os.truncate(tables[0], os.path.getsize(tables[0]) // 2)
        print("\n  truncated .sst:", self.expect_error_not_no_data(store), file=sys.stderr)

    def test_export_of_a_damaged_store_fails(self):
        store, tables = self.golden_store()
        os.truncate(tables[0], os.path.getsize(tables[0]) - 100)
        out = os.path.join(self.tmp, "out.ndjson")
        p = run(["export", "--store", store, "--out", out], check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertRegex(p.stderr.decode(), r"(?i)corrupt|damaged")


class ExportTest(Base):
    def test_path_that_is_not_a_store_is_an_error_and_creates_nothing(self):
        os.mkdir(os.path.join(self.tmp, "empty"))
        with open(os.path.join(self.tmp, "file"), "w") as f:
            f.write("not a store\n")
        before = tree(self.tmp)
        for name in ["typo", "empty", "file", "typo/nested"]:
            path = os.path.join(self.tmp, name)
            for store in [path, "rocksdb://" + path]:
                out = os.path.join(self.tmp, "out.ndjson")
                p = run(["export", "--store", store, "--out", out], check=False)
                self.assertNotEqual(p.returncode, 0, store)
                self.assertIn(path, p.stderr.decode())
                self.assertEqual(p.stdout, b"")
                self.assertEqual(tree(self.tmp), before, store)  # neither a store nor --out
        p = run(["export", "--store", os.path.join(self.tmp, "typo")], check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(p.stdout, b"")

    def test_export_changes_nothing_in_the_store(self):
        store, _ = self.golden_store()
        before = dir_state(store)
        first = run(["export", "--store", store]).stdout
        self.assertGreater(first.count(b"\n"), 0)
        second = run(["export", "--store", store]).stdout
        self.assertEqual(first, second)
        self.assertEqual(dir_state(store), before)

    def test_export_works_while_a_writer_holds_the_lock(self):
        store, _ = self.golden_store()
        expected = run(["export", "--store", store]).stdout
        # The lock a writing `tempo import` or `tempo sync` holds (RocksDB's
        # LOCK file, an fcntl lock), held here by this process.
        with open(os.path.join(store, "LOCK"), "r+b") as lock:
            fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            p = run(["import", "--store", store,
                     os.path.join(e2e_test.SHARED, "golden", "data.ndjson")], check=False)
            self.assertNotEqual(p.returncode, 0, "the lock is not held: the test proves nothing")
            before = dir_state(store)
            self.assertEqual(run(["export", "--store", store]).stdout, expected)
            self.assertEqual(dir_state(store), before)

    def test_export_of_a_copy_equals_export_of_the_store(self):
        # Tests run as root, for whom chmod a-w changes nothing: what matters
        # is that export writes nothing, which the copy's unchanged state shows.
        store, _ = self.golden_store()
        copy = os.path.join(self.tmp, "copy")
        shutil.copytree(store, copy)
        for root, dirs, files in os.walk(copy):
            for n in dirs + files:
                os.chmod(os.path.join(root, n), 0o555 if n in dirs else 0o444)
        os.chmod(copy, 0o555)
        before = dir_state(copy)
        self.assertEqual(run(["export", "--store", copy]).stdout,
                         run(["export", "--store", store]).stdout)
        self.assertEqual(dir_state(copy), before)
        os.chmod(copy, 0o755)  # so that tearDown can remove it as any user


if __name__ == "__main__":
    e2e_test.TEMPO, e2e_test.SHARED = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
