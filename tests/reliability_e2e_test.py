#!/usr/bin/env python3
"""End-to-end reliability tests (issue 12): the real `tempo` binary when a dependency hangs,
when clients flood it or speak HTTP at its edges, and when no invalidation arrives.

- FrozenOriginTest: PostgreSQL frozen with SIGSTOP while 20 clients ask for pages no cache
  holds: the L1-cached page and /healthz stay fast, each uncached request gets its 503 at its
  deadline, and the origin's failure and recovery are logged.
- HungL2Test: an L2 "node" that accepts connections and never answers, with
  --l2-timeout-ms 1000: no 503, /healthz stays fast, the timeout is lowered (logged), the node
  is suspended (logged).
- FloodTest: the public listener filled to --max-connections: more are closed at once, the
  admin listener and open keep-alive clients still answer.
- HttpEdgeTest: RFC 9112 cases over raw sockets (smuggling, Expect, method before body,
  absolute form, Host, a leading empty line, uri_too_long), and the listener's own answers
  counted in tempo_responses_total.
- FreshnessTest: with no invalidation stream, a change is served within TTL + stale grace +
  the catch-up second, even to the first request after expiry.
- LargeSliceTest: a slice too large for L1 is served from the origin every time, logged once.

usage: reliability_e2e_test.py TEMPO_BINARY SHARED_DIR [SUITE]   (run by ctest)
Every wait is bounded. Latency bounds here are correctness bounds, wide enough for the ASan
build on a loaded 2-core box; the figures themselves are measured in bench/ (docs/benchmarks.md).
"""
import json
import os
import re
import resource
import signal
import socket
import sys
import threading
import time
import unittest

import e2e_test
from e2e_test import Base, run
from sync_e2e_test import wait_for
from tiers_e2e_test import PgCluster, url, HOME_B, metric

DEADLINE_MS = 50
# What "fast" must beat here: before issue 12 a cached page took 0.45-0.9 s in the frozen-origin
# scenario; the benchmark shows p99 under 5 ms (docs/benchmarks.md).
FAST_S = 0.25
UNCACHED_CLIENTS = 20


def p99(samples):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def raw_exchange(port, data, timeout=5.0):
    """Sends `data` on a new connection and returns everything received until the server
    closes it or `timeout` passes without a byte."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        received = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                received += chunk
        except socket.timeout:
            pass
        return received


def statuses(raw):
    return [int(m.group(1)) for m in re.finditer(rb"HTTP/1\.1 (\d{3}) ", raw)]


class Load:
    """`clients` threads requesting distinct uncached pages until stopped; records each
    response's status and time."""

    def __init__(self, server, clients):
        self.server = server
        self.results = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.client, args=(i,)) for i in range(clients)]
        for t in self.threads:
            t.start()

    def client(self, index):
        n = 0
        conn = self.server.conn()
        while not self.stopping.is_set() and n < 10000:
            n += 1
            target = url("ACME", "web", "product", f"busting-{index}-{n}")
            start = time.monotonic()
            try:
                conn.request("GET", target)
                r = conn.getresponse()
                r.read()
                status = r.status
            except OSError:
                conn.close()
                conn = self.server.conn()
                status = 0
            with self.lock:
                self.results.append((status, time.monotonic() - start))
        conn.close()

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=30)
        return self.results


def timed(fn, count):
    samples = []
    for _ in range(count):
        start = time.monotonic()
        fn()
        samples.append(time.monotonic() - start)
    return samples


def healthz_times(test, server, count):
    """The times of `count` GET /healthz on one keep-alive connection."""
    conn = server.conn()

    def get():
        conn.request("GET", "/healthz")
        test.assertEqual(conn.getresponse().read(), b"ok")

    samples = timed(get, count)
    conn.close()
    return samples


class FrozenOriginTest(Base):
    def setUp(self):
        super().setUp()
        self.pg = PgCluster()
        self.addCleanup(self.pg.destroy)
        self.uri = self.pg.createdb("reliability")
        run(["import", "--store", self.uri, os.path.join(e2e_test.SHARED, "golden", "data.ndjson")])

    def test_cached_pages_and_healthz_stay_fast_while_uncached_requests_wait(self):
        # Two serving threads (Server's default): before the fix every cached request queued
        # behind the waits of the uncached ones on its thread.
        s = self.serve(self.uri, "--deadline-ms", str(DEADLINE_MS),
                       "--ready-grace-ms", "300")
        wait_for(lambda: s.get(url(*HOME_B))[0] == 200, "the cached page")
        self.pg.pause()
        try:
            load = Load(s, UNCACHED_CLIENTS)
            time.sleep(0.3)  # the clients are all waiting now
            cached = s.conn()

            def get_cached():
                cached.request("GET", url(*HOME_B))
                r = cached.getresponse()
                r.read()
                self.assertEqual(r.status, 200)
                self.assertEqual(r.getheader("X-Tempo-Cache"), "L1")

            cached_times = timed(get_cached, 200)
            health_times = healthz_times(self, s, 200)
            results = load.stop()
            cached.close()
        finally:
            self.pg.resume()
        self.assertLess(p99(cached_times), FAST_S)
        self.assertLess(p99(health_times), FAST_S)
        uncached = [elapsed for status, elapsed in results if status == 503]
        self.assertGreater(len(uncached), UNCACHED_CLIENTS)
        self.assertEqual([r for r in results if r[0] not in (200, 503)], [])
        # Each gets its 503 by its deadline (earlier when the load it joined failed first).
        print(f"uncached 503s: {len(uncached)}, p50 {sorted(uncached)[len(uncached) // 2]:.4f} s, "
              f"p99 {p99(uncached):.4f} s; cached p99 {p99(cached_times):.4f} s, "
              f"/healthz p99 {p99(health_times):.4f} s", file=sys.stderr)
        self.assertLess(p99(uncached), DEADLINE_MS / 1000 + FAST_S)
        wait_for(lambda: s.get(url("Globex", "web", "search", "q:hats"))[0] == 200,
                 "uncached pages once PostgreSQL runs again")
        self.assertEqual(s.stop(), 0)
        self.assertIn("tempo[origin]: unreachable or too slow", s.err)
        self.assertIn("tempo[origin]: answering again after", s.err)
        self.assertEqual(s.err.count("tempo[origin]: unreachable"), 1, s.err)


class HungNode:
    """A TCP listener on 127.0.0.1 that accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.accepted = []
        self.stopping = False
        self.thread = threading.Thread(target=self.accept, daemon=True)
        self.thread.start()

    def accept(self):
        self.sock.settimeout(0.1)
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
                self.accepted.append(conn)
            except socket.timeout:
                continue
            except OSError:
                return

    def stop(self):
        self.stopping = True
        self.thread.join(timeout=5)
        for c in self.accepted:
            c.close()
        self.sock.close()


class HungL2Test(Base):
    def test_a_node_that_never_answers_costs_no_request(self):
        store, _ = self.golden_store()
        node = HungNode()
        self.addCleanup(node.stop)
        # A deadline with room for the origin read after the first wave's L2 waits (half the
        # deadline each) even on a busy 2-core CI machine: 50 ms left 25 ms, and CI once
        # answered two of those requests 503.
        deadline_ms = 200
        s = self.serve(store, "--l2", node.address, "--l2-timeout-ms", "1000",
                       "--deadline-ms", str(deadline_ms))
        load = Load(s, UNCACHED_CLIENTS)
        time.sleep(0.5)
        health_times = healthz_times(self, s, 200)
        results = load.stop()
        self.assertGreater(len(results), 200)
        self.assertEqual([r for r in results if r[0] != 200], [])
        self.assertLess(p99(health_times), FAST_S)
        self.assertGreaterEqual(metric(s, "tempo_l2_suspensions_total"), 1)
        self.assertEqual(s.stop(), 0)
        self.assertIn(f"--l2-timeout-ms 1000 lowered to {deadline_ms // 2}", s.err)
        self.assertIn(f"node {node.address} suspended", s.err)


class FloodTest(Base):
    def test_flooded_listener_keeps_admin_and_open_clients(self):
        store, _ = self.golden_store()
        s = self.serve(store, "--max-connections", "50")
        keep = s.conn()
        keep.request("GET", "/healthz")
        keep.getresponse().read()
        flood = []
        for _ in range(60):
            c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
            flood.append(c)
        self.addCleanup(lambda: [c.close() for c in flood])
        # 49 of them fit beside `keep`; the others are closed at once.
        closed = 0
        for c in flood:
            c.settimeout(0.1)
            try:
                if c.recv(1) == b"":
                    closed += 1
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed += 1
        self.assertEqual(closed, 11)
        self.assertEqual(s.admin("/livez")[0], 200)
        self.assertEqual(s.admin("/readyz")[0], 200)
        keep.request("GET", url(*HOME_B))
        r = keep.getresponse()
        r.read()
        self.assertEqual(r.status, 200)
        keep.close()
        self.assertEqual(metric(s, "tempo_http_connections_rejected_total"), 11)


    def test_running_out_of_descriptors_is_logged_and_survived(self):
        store, _ = self.golden_store()
        limit = 64

        def few_descriptors():
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

        s = self.serve(store, preexec_fn=few_descriptors)
        # The public listener is held below the limit, half the descriptors in reserve...
        wait_for(lambda: s.get(url(*HOME_B))[0] == 200, "a first answer")
        # ...but the admin listener's own 64 exceed what is left: it runs out.
        flood = []
        for _ in range(limit):
            try:
                flood.append(socket.create_connection(("127.0.0.1", s.admin_port), timeout=5))
            except OSError:
                break
        time.sleep(0.5)
        for c in flood:
            c.close()
        # Once descriptors are free again, both listeners answer.
        wait_for(lambda: s.admin("/livez")[0] == 200, "/livez after the flood")
        self.assertEqual(s.get(url(*HOME_B))[0], 200)
        self.assertEqual(s.stop(), 0)
        self.assertIn(f"--max-connections 10000 lowered to {limit // 2}", s.err)
        self.assertIn("tempo[http]: out of file descriptors", s.err)
        self.assertIn("tempo[http]: accepting connections again", s.err)


class HttpEdgeTest(Base):
    def setUp(self):
        super().setUp()
        store, _ = self.golden_store()
        self.s = self.serve(store)

    def send(self, data):
        return raw_exchange(self.s.port, data)

    def test_transfer_encoding_not_ending_in_chunked_is_400_and_smuggles_nothing(self):
        hidden = b"GET /api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=homepage " \
                 b"HTTP/1.1\r\nHost: x\r\n\r\n"
        for coding in (b"xchunked", b"gzip", b"chunked, identity"):
            raw = self.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding +
                            b"\r\nContent-Length: %d\r\n\r\n" % len(hidden) + hidden)
            self.assertEqual(statuses(raw), [400], raw)
            self.assertIn(b"Connection: close", raw)
        self.assertEqual(metric(self.s, 'tempo_layouts_total{tier="origin"}'), 0)

    def test_expect_continue_is_answered_at_once(self):
        start = time.monotonic()
        raw = self.send(b"POST /api/v2/tempo/layouts HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Length: 100\r\nExpect: 100-continue\r\n\r\n")
        self.assertLess(time.monotonic() - start, 4.0)
        self.assertEqual(statuses(raw), [405], raw)
        raw = self.send(b"PUT /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
                        b"Expect: 100-continue\r\n\r\n")
        self.assertEqual(statuses(raw), [404], raw)

    def test_method_is_checked_before_the_body(self):
        body = b"x" * 100_000
        raw = self.send(b"POST /api/v2/tempo/layouts HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.assertEqual(statuses(raw), [405], raw)
        self.assertIn(b'"method_not_allowed"', raw)

    def test_absolute_form_host_and_a_leading_empty_line(self):
        target = b"http://tempo.example:8080" + url(*HOME_B).encode()
        raw = self.send(b"GET " + target + b" HTTP/1.1\r\nHost: tempo.example\r\n"
                        b"Connection: close\r\n\r\n")
        self.assertEqual(statuses(raw), [200], raw)
        raw = self.send(b"\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(statuses(raw), [200], raw)
        for head in (b"GET /healthz HTTP/1.1\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"):
            self.assertEqual(statuses(self.send(head)), [400], head)

    def test_uri_too_long_has_one_message_and_own_answers_are_counted(self):
        before = metric(self.s, 'tempo_responses_total{code="4xx"}')
        query = "tenant=ACME&channel=web&pageType=homepage&pad="
        bodies = []
        for length in (9000, 70_000):  # the service's check, then the listener's
            target = "/api/v2/tempo/layouts?" + query + "a" * (length - len(query) - 22)
            raw = self.send(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            self.assertEqual(statuses(raw), [400], raw[:200])
            bodies.append(json.loads(raw[raw.index(b"\r\n\r\n") + 4:]))
        self.assertEqual(bodies[0], bodies[1])
        self.assertEqual(bodies[0]["error"]["code"], "uri_too_long")
        self.send(b"GARBAGE\r\n\r\n")
        self.assertEqual(metric(self.s, 'tempo_responses_total{code="4xx"}'), before + 3)


class FreshnessTest(Base):
    def test_without_invalidations_a_change_shows_within_ttl_and_grace(self):
        store, _ = self.golden_store()
        ttl_ms = 300
        s = self.serve(store, "--l1-ttl-ms", str(ttl_ms))
        page = ("ACME", "web", "homepage")
        status, _, body = s.get(url(*page))
        self.assertEqual(status, 200)
        version = json.loads(body)["version"]
        change = {"schema": 1, "op": "upsert", "kind": "module", "publishedAt": "2026-01-01T00:00:00Z",
                  "record": {"id": "fresh-check", "tenant": "ACME", "version": version + 1000,
                             "type": "banner", "channels": ["web"], "pageType": "homepage", "pageIds": [],
                             "zone": "hero", "priority": 1, "content": {}}}
        path = os.path.join(self.tmp, "change.ndjson")
        with open(path, "w") as f:
            f.write(json.dumps(change) + "\n")
        s.get(url(*page))  # keeps the slice "recently used", as traffic would
        run(["import", "--store", store, path])
        # TTL + the 1 s stale grace + the 1 s catch-up of the store view, and a margin. The
        # first request after that must see the change: no stale copy while a refresh runs.
        time.sleep(ttl_ms / 1000 + 1.0 + 1.0 + 0.5)
        status, _, body = s.get(url(*page))
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["version"], version + 1000, body[:300])


class LargeSliceTest(Base):
    def test_a_slice_too_large_for_l1_is_served_from_the_origin(self):
        store, _ = self.golden_store()
        # Two modules of 600 000 bytes in one slice (each record line stays under
        # the import's limit).
        path = os.path.join(self.tmp, "big.ndjson")
        with open(path, "w") as f:
            for module_id in ("big1", "big2"):
                big = {"schema": 1, "op": "upsert", "kind": "module",
                       "publishedAt": "2026-01-01T00:00:00Z",
                       "record": {"id": module_id, "tenant": "ACME", "version": 1,
                                  "type": "banner", "channels": ["web"], "pageType": "bigpage",
                                  "pageIds": [], "zone": "hero", "priority": 1,
                                  "content": {"text": "x" * 600_000}}}
                f.write(json.dumps(big) + "\n")
        run(["import", "--store", store, path])
        # 1 MiB of L1 (one shard at that size: small caches use fewer shards), less
        # than the slice.
        s = self.serve(store, "--l1-mb", "1", "--deadline-ms", "2000")
        for _ in range(3):
            status, headers, body = s.get(url("ACME", "web", "bigpage"))
            self.assertEqual(status, 200)
            self.assertEqual(headers["x-tempo-cache"], "origin")
            self.assertGreater(len(body), 1_200_000)
        self.assertEqual(s.stop(), 0)
        self.assertEqual(s.err.count("too large for L1"), 1, s.err)


if __name__ == "__main__":
    e2e_test.TEMPO, e2e_test.SHARED = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
