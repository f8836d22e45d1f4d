#!/usr/bin/env python3
"""End-to-end tests of the embedded log's retention (issue 16 §5): a long `tempo publish
--log` stream, in many rounds with small segments, while a `tempo sync --log
--log-retention-bytes` consumes it, keeps the log directory bounded, and every event still
reaches the store; a consumer group that lags holds retention back until its offset file
goes.

usage: log_retention_e2e_test.py TEMPO_BINARY SHARED_DIR [SUITE]   (run by ctest)
"""
import os
import sys
import unittest

import e2e_test
from e2e_test import run
from sync_e2e_test import SyncBase, wait_for

SEGMENT_BYTES = 32 << 10
LIMIT_BYTES = 128 << 10
# After a pass, a topic fits its limit, or is down to its last segment (which may end
# with one record past SEGMENT_BYTES).
TOPIC_BOUND_BYTES = LIMIT_BYTES + SEGMENT_BYTES
# LOCK and the groups' offset files, a few bytes each.
SLACK_BYTES = 16 << 10
CONTENT = "tempo.content.v1"
INVALIDATIONS = "tempo.invalidations.v1"
# Retention runs at most once a second, after a batch; a round's sync takes well under that.
CATCH_UP_TIMEOUT_S = 60


def file_bytes(path):
    try:
        return os.path.getsize(path)
    except FileNotFoundError:  # a segment retention deleted since the listing
        return 0


def dir_bytes(path):
    return sum(file_bytes(os.path.join(root, name))
               for root, _, files in os.walk(path) for name in files)


def segments(log, topic):
    try:
        return sorted(n for n in os.listdir(os.path.join(log, topic)) if n.endswith(".log"))
    except FileNotFoundError:
        return []


def topic_bytes(log, topic):
    return sum(file_bytes(os.path.join(log, topic, n)) for n in segments(log, topic))


class RetentionTest(SyncBase):
    def setUp(self):
        super().setUp()
        self.log, self.store_dir = self.store("log"), self.store("store")
        self.published = 0  # content events sent so far: the next offset
        self.published_bytes = 0
        self.event_files = []
        self.sync = self.start(["sync", "--log", self.log, "--store", self.store_dir,
                                "--stats-every-ms", "0",
                                "--log-segment-bytes", str(SEGMENT_BYTES),
                                "--log-retention-bytes", str(LIMIT_BYTES)])
        line = self.sync.proc.stderr.readline()  # "... log DIR topic ... -> store ...": started
        self.assertIn("log retention 131072 bytes per topic", line)

    def publish_round(self, seed):
        events = os.path.join(self.tmp, f"round{seed}.ndjson")
        run(["gen", "--seed", str(seed), "--tenants", "2", "--modules", "60", "--out", events])
        p = run(["publish", "--log", self.log, "--log-segment-bytes", str(SEGMENT_BYTES), events])
        sent = int(p.stdout.decode().split()[1].rstrip(","))
        self.assertGreater(sent, 0)
        self.published += sent
        self.published_bytes += os.path.getsize(events)
        self.event_files.append(events)

    def committed(self, group="tempo-sync"):
        try:
            with open(os.path.join(self.log, CONTENT, "groups", group + ".offset")) as f:
                return int(f.read())
        except FileNotFoundError:
            return -1

    def wait_consumed(self):
        wait_for(lambda: self.committed() == self.published,
                 f"sync to commit offset {self.published}", timeout=CATCH_UP_TIMEOUT_S)

    def wait_bounded(self, topic):
        wait_for(lambda: topic_bytes(self.log, topic) <= TOPIC_BOUND_BYTES,
                 f"{topic} within {TOPIC_BOUND_BYTES} bytes", timeout=CATCH_UP_TIMEOUT_S)

    def test_long_publish_stream_keeps_the_log_bounded(self):
        rounds = 16
        largest = 0
        for seed in range(1, rounds + 1):
            self.publish_round(seed)
            self.wait_consumed()
            for topic in (CONTENT, INVALIDATIONS):
                self.wait_bounded(topic)
            size = dir_bytes(self.log)
            largest = max(largest, size)
            # The two topics sync reads or writes, each within its bound; no DLQ (publish
            # sends only valid events).
            self.assertLessEqual(size, 2 * TOPIC_BOUND_BYTES + SLACK_BYTES,
                                 f"round {seed}: {sorted(os.listdir(self.log))}")
        print(f"published {self.published} events ({self.published_bytes} bytes of NDJSON) "
              f"in {rounds} rounds; the log directory stayed within {largest} bytes")
        # A stream many times the bound went through: retention, not a small stream, kept it.
        self.assertGreater(self.published_bytes, 5 * (2 * TOPIC_BOUND_BYTES + SLACK_BYTES))
        self.assertNotIn("00000000000000000000.log", segments(self.log, CONTENT))
        self.assertNotIn("00000000000000000000.log", segments(self.log, INVALIDATIONS))

        code, err = self.sync.stop()
        self.assertEqual(code, 0, err[-2000:])
        self.assertIn(f"retention: topic {CONTENT}: deleted", err)
        self.assertIn(f"retention: topic {INVALIDATIONS}: deleted", err)
        # Every event reached the store: the same as importing them all, in order.
        reference = self.store("reference")
        for events in self.event_files:
            run(["import", "--store", reference, events])
        self.assertEqual(run(["export", "--store", self.store_dir]).stdout,
                         run(["export", "--store", reference]).stdout)

    def test_a_lagging_group_holds_its_segments_until_its_offset_file_goes(self):
        self.publish_round(1)
        self.wait_consumed()
        # A second consumer group (an offset file, the layout of log.h) that stops reading
        # here: the segment it is in, the last one so far, is held from now on.
        groups = os.path.join(self.log, CONTENT, "groups")
        with open(os.path.join(groups, "laggard.offset"), "w") as f:
            f.write(f"{self.published}\n")
        held = segments(self.log, CONTENT)[-1]
        for seed in range(2, 7):
            self.publish_round(seed)
            self.wait_consumed()
        # Retention runs (the invalidation topic, which no group holds, is trimmed), but
        # the content topic keeps everything the laggard has not read.
        self.wait_bounded(INVALIDATIONS)
        self.assertIn(held, segments(self.log, CONTENT))
        self.assertGreater(topic_bytes(self.log, CONTENT), 3 * TOPIC_BOUND_BYTES)
        # The group is gone for good: its offset file goes, and so do its segments.
        os.remove(os.path.join(groups, "laggard.offset"))
        self.wait_bounded(CONTENT)
        self.assertNotIn(held, segments(self.log, CONTENT))


if __name__ == "__main__":
    e2e_test.TEMPO, e2e_test.SHARED = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
