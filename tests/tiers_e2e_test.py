#!/usr/bin/env python3
"""End-to-end fault tests of the cache tiers (issue 6): the real `tempo` binary
with L2 on three real memcached processes and its origin on a throw-away
PostgreSQL cluster, all started here on 127.0.0.1 and stopped at the end.

Cases: two serves sharing L2 (origin, then L2, then L1); `tempo sync` rewriting L2 before
serves reload; a memcached node SIGKILLed under load (no 5xx, its keys remapped); corrupt and
foreign L2 values (misses, counted); PostgreSQL stopped (stale L1 and L2 served, 503 for an
uncached page, /readyz, recovery) and frozen with SIGSTOP (prompt 503, recovery).

usage: tiers_e2e_test.py TEMPO_BINARY SHARED_DIR [SUITE]   (run by ctest)
Every wait is bounded; the margins are wide because the ASan build is slow.
"""
import collections
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

import e2e_test
from e2e_test import Base, metric, run
from sync_e2e_test import Process, module, wait_for

PG_BIN = "/usr/lib/postgresql/15/bin"
MEMCACHED = "/usr/bin/memcached"
START_TIMEOUT_S = 30
# A generous bound on a response that must not wait on a dead or hung origin
# (--deadline-ms 50): a correctness bound, not a benchmark.
PROMPT_S = 2.0
LAYOUT = "/api/v2/tempo/layouts?tenant={tenant}&channel={channel}&pageType={page_type}"
# For the tests whose subject is not the deadline: a cold serve opens its PostgreSQL
# connections on its first reads, which can outlast the default 50 ms (and a 5 ms L2 wait can
# time out) on a loaded 2-core CI box under ASan. OriginDownTest keeps --deadline-ms 50.
RELAXED = ("--deadline-ms", "2000")
L2_TIMEOUT = ("--l2-timeout-ms", "100")
HOME_B = ("ACME", "web", "homepage", "home-b")  # a page with records in the golden data
NEVER = ("Globex", "web", "search", "q:hats")   # one no test requests before a fault


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def url(tenant, channel, page_type, page_id=None):
    target = LAYOUT.format(tenant=tenant, channel=channel, page_type=page_type)
    return target + ("&pageId=" + urllib.parse.quote(page_id, safe="") if page_id else "")


def escape(component):
    """A key component as src/l2/key.cc writes it."""
    out = []
    for byte in component.encode():
        if byte <= 0x20 or byte >= 0x7F or chr(byte) in ":%#":
            out.append("%%%02X" % byte)
        else:
            out.append(chr(byte))
    return "".join(out)


def l2_key(ns, tenant, channel, page_type, scope):
    """The L2 key of one slice (SPEC §8, src/l2/key.h), short keys only."""
    key = ":".join(["tempo", escape(ns), "1"] + [escape(c) for c in (tenant, channel, page_type,
                                                                      scope)])
    assert len(key) <= 250, key
    return key


def page_keys(ns, tenant, channel, page_type, page_id=None):
    keys = [l2_key(ns, tenant, channel, page_type, "*")]
    if page_id:
        keys.append(l2_key(ns, tenant, channel, page_type, page_id))
    return keys


def http_get(port, target):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", target)
    r = conn.getresponse()
    body = r.read().decode()
    conn.close()
    assert r.status == 200, (target, r.status, body)
    return body


class Memcached:
    """One memcached process on a free 127.0.0.1 port; a tiny text-protocol client."""

    def __init__(self):
        for _ in range(3):  # another process may take the port between pick and bind
            self.port = free_port()
            args = [MEMCACHED, "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", "-m", "64",
                    "-t", "2"] + (["-u", "root"] if os.geteuid() == 0 else [])
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            deadline = time.monotonic() + START_TIMEOUT_S
            while self.proc.poll() is None and time.monotonic() < deadline:
                try:
                    if self.command(b"version\r\n").startswith(b"VERSION"):
                        return
                except OSError:
                    time.sleep(0.02)
            self.stop()
        raise AssertionError("memcached did not start")

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def command(self, request, until=b"\r\n"):
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(request)
            reply = b""
            while not reply.endswith(until):
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError(f"memcached {self.port} closed the connection: {reply!r}")
                reply += chunk
            return reply

    def get(self, key):
        """The raw value under `key`, or None."""
        reply = self.command(f"get {key}\r\n".encode(), until=b"END\r\n")
        if reply == b"END\r\n":
            return None
        header, rest = reply.split(b"\r\n", 1)
        length = int(header.split()[3])
        return rest[:length]

    def set(self, key, value):
        reply = self.command(f"set {key} 0 300 {len(value)}\r\n".encode() + value + b"\r\n")
        assert reply == b"STORED\r\n", reply

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stderr.close()


class PgCluster:
    """A throw-away PostgreSQL cluster (initdb into a temp dir, TCP on 127.0.0.1 only), run as
    `nobody` when we are root (as src/testing/pg_server.cc does). Knows how to be stopped,
    restarted on the same port, and frozen (SIGSTOP) with its children."""

    USER = "tempo"

    def __init__(self):
        self.as_user = {}
        base = os.environ.get("TMPDIR") or "/tmp"
        if os.geteuid() == 0:
            # PostgreSQL refuses root; nobody must reach the directory, hence /tmp.
            nobody = pwd.getpwnam("nobody")
            self.as_user = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
            base = "/tmp"
        self.dir = tempfile.mkdtemp(prefix="tempo-tiers-pg-", dir=base)
        if self.as_user:
            os.chown(self.dir, self.as_user["user"], self.as_user["group"])
        self.proc = None
        self.env = self.tool_env()
        try:
            self.tool("initdb", "-D", self.data, "-A", "trust", "-U", self.USER, "--no-sync",
                      "-E", "UTF8", "--locale=C")
            self.configure()
            for _ in range(3):  # another process may take the port between pick and bind
                self.port = free_port()
                if self.start():
                    return
            raise AssertionError("postgres did not start: " + self.log_tail())
        except BaseException:
            self.destroy()
            raise

    # Hooks for a cluster set up otherwise (client_tls_e2e_test.TlsPostgres).
    def tool_env(self):
        """The environment of initdb, pg_isready and createdb (None: ours)."""
        return None

    def configure(self):
        """Runs after initdb, before the first start."""

    def settings(self):
        """More `postgres` arguments."""
        return []

    @property
    def data(self):
        return os.path.join(self.dir, "data")

    def log_tail(self):
        with open(os.path.join(self.dir, "server.log"), errors="replace") as f:
            return f.read()[-2000:]

    def tool(self, name, *args, check=True):
        p = subprocess.run([os.path.join(PG_BIN, name), *args], cwd=self.dir, env=self.env,
                           capture_output=True, text=True, timeout=120, **self.as_user)
        if check and p.returncode != 0:
            raise AssertionError(f"{name} {args} exited {p.returncode}: {p.stderr[-2000:]}")
        return p.returncode

    def start(self):
        """Starts the server on self.port; False if it exited (port taken)."""
        with open(os.path.join(self.dir, "server.log"), "a") as log:
            self.proc = subprocess.Popen(
                [os.path.join(PG_BIN, "postgres"), "-D", self.data, "-p", str(self.port),
                 "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                 "-c", "fsync=off", "-c", "full_page_writes=off", *self.settings()],
                cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log, stderr=log, **self.as_user)
        deadline = time.monotonic() + START_TIMEOUT_S  # includes crash recovery
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if self.tool("pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port),
                         "-U", self.USER, "-d", "postgres", check=False) == 0:
                return True
            time.sleep(0.05)
        raise AssertionError("postgres did not accept connections in time: " + self.log_tail())

    def restart(self):
        if not self.start():
            raise AssertionError("postgres did not restart: " + self.log_tail())

    def createdb(self, name):
        self.tool("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.USER, name)
        return f"postgres://{self.USER}@127.0.0.1:{self.port}/{name}"

    def stop_immediate(self):
        """`pg_ctl stop -m immediate`: SIGQUIT to the postmaster, which ends its children."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.resume()  # a frozen server cannot act on SIGQUIT
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def processes(self):
        """The postmaster and its children."""
        pids = [self.proc.pid]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        stat = f.read()
                except OSError:
                    continue  # exited meanwhile
                if int(stat[stat.rindex(")") + 2:].split()[1]) == self.proc.pid:
                    pids.append(int(entry))
        return pids

    def signal_all(self, pids, sig):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass  # a backend that exited since it was listed: nothing left to signal

    def pause(self):
        # The postmaster first, so that it forks no child we would miss.
        self.signal_all(self.processes(), signal.SIGSTOP)

    def resume(self):
        self.signal_all(reversed(self.processes()), signal.SIGCONT)

    def destroy(self):
        self.stop_immediate()
        shutil.rmtree(self.dir, ignore_errors=True)


class TiersBase(Base):
    """Per test: three memcached nodes and a database imported with the golden data, in a
    PostgreSQL cluster per class (a test that stops it gets its own, see OriginDownTest)."""

    NAMESPACE = "e2e:tiers"  # a ':' in it exercises key escaping

    @classmethod
    def setUpClass(cls):
        cls.pg = PgCluster()
        cls.databases = 0

    @classmethod
    def tearDownClass(cls):
        cls.pg.destroy()

    def setUp(self):
        super().setUp()
        self.nodes = []
        for _ in range(3):
            self.nodes.append(Memcached())
            self.addCleanup(self.nodes[-1].stop)
        type(self).databases += 1
        self.uri = self.pg.createdb(f"tiers{type(self).databases}")
        run(["import", "--store", self.uri, os.path.join(e2e_test.SHARED, "golden", "data.ndjson")])

    def l2_args(self, namespace=NAMESPACE):
        return ["--l2", ",".join(n.address for n in self.nodes), "--l2-namespace", namespace,
                *L2_TIMEOUT]

    def serve_l2(self, *extra):
        return self.serve(self.uri, *self.l2_args(), *RELAXED, *extra)

    def tier(self, server, page):
        status, headers, body = server.get(url(*page))
        self.assertEqual(status, 200, body[:300])
        return headers["x-tempo-cache"]

    def wait_filled(self, keys):
        """Waits until each key is in L2 on exactly one node: a serve fills L2 after it has
        answered (on the origin reader's thread), so the fill may lag the response."""
        wait_for(lambda: all(len(self.holders(key)) == 1 for key in keys), "the L2 fill")

    def holders(self, key, nodes=None):
        """The nodes (of `nodes`, default all) that hold a value under `key`."""
        return [n for n in nodes or self.nodes if n.get(key) is not None]


class SharedL2Test(TiersBase):
    def test_two_serves_share_l2(self):
        a, b = self.serve_l2(), self.serve_l2()
        self.assertEqual(self.tier(a, HOME_B), "origin")
        self.wait_filled(page_keys(self.NAMESPACE, *HOME_B))
        self.assertEqual(self.tier(b, HOME_B), "L2")
        self.assertEqual(self.tier(b, HOME_B), "L1")
        self.assertEqual(metric(b, "tempo_l2_hits_total"), 2)  # the type slice and the page's
        self.assertEqual(a.get(url(*HOME_B))[2], b.get(url(*HOME_B))[2])

    def test_memcached_node_killed_under_load(self):
        s = self.serve_l2("--l1-mb", "0")
        warm = {page: s.get(url(*page))[0] for page in golden_pages()}  # fills L2: one pass
        self.assertEqual(set(warm.values()), {200, 404})  # 404: a tenant whose records are gone
        pages = [page for page, status in warm.items() if status == 200]
        key_pages = collections.defaultdict(list)  # L2 key -> pages that read it
        for page in pages:
            for key in page_keys(self.NAMESPACE, *page):
                key_pages[key].append(page)
        self.wait_filled(key_pages)
        home = {key: self.holders(key) for key in key_pages}
        victim = max(self.nodes, key=lambda n: sum(nodes == [n] for nodes in home.values()))
        moved = [key for key, nodes in home.items() if nodes == [victim]]
        self.assertGreater(len(moved), 10)

        counts = [collections.Counter() for _ in range(4)]  # one per thread
        errors = []
        stop = threading.Event()

        def load(statuses, offset):
            conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
            i = offset
            while not stop.is_set():
                try:
                    conn.request("GET", url(*pages[i % len(pages)]))
                    r = conn.getresponse()
                    r.read()
                    statuses[r.status] += 1
                except (OSError, http.client.HTTPException) as e:
                    errors.append(repr(e))
                    conn.close()
                i += 7
            conn.close()

        threads = [threading.Thread(target=load, args=(c, k * 31)) for k, c in enumerate(counts)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.5)
            victim.kill()
            at_kill = sum(sum(c.values()) for c in counts)
            time.sleep(2.0)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
        statuses = sum(counts, collections.Counter())
        print(f"during the kill: {dict(statuses)}, {at_kill} before it, errors {len(errors)}")
        self.assertEqual(errors, [])
        self.assertGreater(sum(statuses.values()) - at_kill, 20, "requests ran after the kill")
        self.assertEqual([code for code in statuses if code >= 500], [])

        # Once the node is ejected its keys are filled, then served, on the others.
        survivors = [n for n in self.nodes if n is not victim]

        def remapped():
            for key in moved:
                for page in key_pages[key]:
                    self.assertEqual(s.get(url(*page))[0], 200, page)
            return all(len(self.holders(key, survivors)) == 1 for key in moved)

        wait_for(remapped, "the killed node's keys on the surviving nodes")
        # ... and served from there. Not every request: libmemcached puts an ejected node back
        # in the ring every retry interval until it fails again, and its keys then go to the
        # origin for a moment.
        unseen = {key_pages[key][0] for key in moved}

        def served_from_l2():
            unseen.difference_update([page for page in list(unseen) if self.tier(s, page) == "L2"])
            return not unseen

        wait_for(served_from_l2, "the killed node's keys served from L2")

    def test_corrupt_and_foreign_l2_values_are_misses(self):
        page = ("ACME", "web", "homepage")
        foreign = ("Globex", "web", "homepage")
        # A valid value of another namespace, and garbage, under this namespace's exact keys.
        other = self.serve(self.uri, *self.l2_args("other"), *RELAXED, "--l1-mb", "0")
        self.assertEqual(self.tier(other, foreign), "origin")
        other_key = l2_key("other", *foreign, "*")
        self.wait_filled([other_key])
        value = self.holders(other_key)[0].get(other_key)
        for node in self.nodes:
            node.set(l2_key(self.NAMESPACE, *page, "*"), b"\x00garbage, not a tempo value\xff")
            node.set(l2_key(self.NAMESPACE, *foreign, "*"), value)
        s = self.serve_l2("--l1-mb", "0")
        for p in (page, foreign):
            self.assertEqual(self.tier(s, p), "origin", p)
        self.assertGreaterEqual(metric(s, "tempo_l2_corrupt_total"), 2)
        self.assertEqual(metric(s, "tempo_l2_hits_total"), 0)
        # The serve that read the origin repairs what it could not decode (compare-and-swap on
        # what it read), so the next request is an L2 hit rather than a miss until the L2 TTL.
        for p in (page, foreign):
            wait_for(lambda: self.tier(s, p) == "L2", f"the repair of {p} in L2")
        # Counted once the compare-and-swap has answered, which can be just after the value is
        # readable.
        wait_for(lambda: metric(s, "tempo_l2_repairs_total") >= 2, "both repairs counted")
        self.assertEqual(metric(s, 'tempo_responses_total{code="503"}'), 0)
        # The other namespace's value was never touched.
        self.assertEqual(self.holders(other_key)[0].get(other_key), value)
        # What the origin answers is the same as without L2.
        plain = self.serve(self.uri, "--l1-mb", "0", *RELAXED)
        for p in (page, foreign):
            self.assertEqual(s.get(url(*p))[2], plain.get(url(*p))[2])


class SyncL2Test(TiersBase):
    def test_sync_rewrites_l2_before_serves_reload(self):
        log = self.store("log")
        sync = Process(["sync", "--log", log, "--store", self.uri, *self.l2_args(),
                        "--stats-every-ms", "0", "--admin-listen", "127.0.0.1:0"])
        self.addCleanup(sync.stop)
        started = sync.proc.stderr.readline()  # bounded: printed once running, or EOF
        sync_admin = re.search(r"admin on port (\d+)", started)
        self.assertIsNotNone(sync_admin, started)
        a = self.serve_l2("--log", log)
        page = ("ACME", "web", "homepage")
        _, _, before = a.get(url(*page))
        self.assertNotIn(b"tiers-v2", before)
        self.assertEqual(self.tier(a, page), "L1")
        self.wait_filled([l2_key(self.NAMESPACE, *page, "*")])  # the old value is in L2 too
        event = module("ACME", "tiers-probe", 2, {"text": "tiers-v2"})
        with open(self.store("v2.ndjson"), "w") as f:
            f.write(event + "\n")
        run(["publish", "--log", log, self.store("v2.ndjson")])
        wait_for(lambda: b"tiers-v2" in a.get(url(*page))[2], "the new version on the serve")
        # Sync wrote the new rows to L2 (not merely deleted the old), and before it told the
        # serve: the serve reloaded from L2, never from the origin again.
        sync_metrics = http_get(int(sync_admin.group(1)), "/metrics")
        self.assertRegex(sync_metrics, r'tempo_sync_l2_slices_total\{result="rewritten"\} [1-9]')
        self.assertEqual(metric(a, 'tempo_layouts_total{tier="origin"}'), 1)
        self.assertGreaterEqual(metric(a, 'tempo_layouts_total{tier="L2"}'), 1)
        fresh = self.serve_l2()  # empty L1
        status, headers, body = fresh.get(url(*page))
        self.assertEqual((status, headers["x-tempo-cache"]), (200, "L2"))
        self.assertIn(b"tiers-v2", body)
        self.assertEqual(body, a.get(url(*page))[2])
        rc, err = sync.stop()
        self.assertEqual(rc, 0, err)


class OriginDownTest(Base):
    """PostgreSQL stopped or frozen under a serve: a cluster per test, as each breaks it."""

    def setUp(self):
        super().setUp()
        self.pg = PgCluster()
        self.addCleanup(self.pg.destroy)
        self.uri = self.pg.createdb("tiers")
        run(["import", "--store", self.uri, os.path.join(e2e_test.SHARED, "golden", "data.ndjson")])

    def timed_get(self, server, page):
        start = time.monotonic()
        status, headers, body = server.get(url(*page))
        return status, headers, body, time.monotonic() - start

    def assert_unavailable_promptly(self, server, page):
        status, _, body, elapsed = self.timed_get(server, page)
        self.assertEqual(status, 503, body)
        self.assertEqual(json.loads(body)["error"]["code"], "unavailable")
        self.assertLess(elapsed, PROMPT_S)

    def warm(self, server, page):
        """Requests `page` until it is 200 from the origin: a cold serve's first read opens a
        PostgreSQL connection, which can outlast --deadline-ms 50 on a loaded box (the read
        then completes in the background, and the next one finds the connection open)."""
        wait_for(lambda: (lambda r: r[0] == 200 and r[1]["x-tempo-cache"] == "origin")(
            server.get(url(*page))), f"{page} from the origin")

    def test_postgres_stopped_then_restarted(self):
        s = self.serve(self.uri, "--l1-ttl-ms", "100", "--ready-grace-ms", "300",
                       "--deadline-ms", "50")
        node = Memcached()
        self.addCleanup(node.stop)
        l2_only = self.serve(self.uri, "--l1-mb", "0", "--l2", node.address, *L2_TIMEOUT,
                             *RELAXED)
        self.warm(s, HOME_B)
        self.warm(l2_only, HOME_B)
        wait_for(lambda: all(node.get(key) is not None for key in page_keys("default", *HOME_B)),
                 "the L2 fill")
        self.assertEqual(s.admin("/readyz")[0], 200)

        self.pg.stop_immediate()
        time.sleep(0.3)  # past the L1 ttl: what L1 holds is stale now
        status, headers, _ = s.get(url(*HOME_B))
        self.assertEqual((status, headers["x-tempo-cache"]), (200, "L1"))
        self.assertEqual(self.tier_of(l2_only, HOME_B), "L2")
        self.assert_unavailable_promptly(s, NEVER)
        self.assertEqual(l2_only.get(url(*NEVER))[0], 503)
        status, body = wait_for(lambda: (lambda r: r if r[0] == 503 else None)(s.admin("/readyz")),
                                "/readyz 503")
        self.assertEqual(json.loads(body)["error"]["code"], "not_ready")
        self.assertGreaterEqual(metric(s, 'tempo_cache_stale_served_total{cache="slices"}'), 1)
        self.assertEqual(metric(s, "tempo_origin_reachable"), 0)

        self.pg.restart()
        for server in (s, l2_only):
            wait_for(lambda: server.get(url(*NEVER))[0] == 200, "the page after the restart")
        wait_for(lambda: s.admin("/readyz")[0] == 200, "/readyz 200 after the restart")

    def test_serve_starts_while_postgres_is_down_and_turns_ready_with_it(self):
        self.pg.stop_immediate()
        s = self.serve(self.uri, "--deadline-ms", "50")
        status, body = s.admin("/readyz")
        self.assertEqual(status, 503)
        self.assertIn("not reachable yet", json.loads(body)["error"]["message"])
        self.assertEqual(s.get(url(*HOME_B))[0], 503)
        self.assertEqual(s.admin("/livez")[0], 200)
        self.pg.restart()
        wait_for(lambda: s.admin("/readyz")[0] == 200, "/readyz 200 once PostgreSQL is up")
        self.warm(s, HOME_B)
        self.assertEqual(s.stop(), 0)
        self.assertIn("the store is not reachable yet", s.err)
        self.assertIn("the store is reachable", s.err)

    def test_frozen_postgres(self):
        s = self.serve(self.uri, "--deadline-ms", "50", "--ready-grace-ms", "300")
        self.warm(s, HOME_B)
        self.pg.pause()
        try:
            for _ in range(3):
                self.assert_unavailable_promptly(s, NEVER)
            status, headers, _ = s.get(url(*HOME_B))
            self.assertEqual((status, headers["x-tempo-cache"]), (200, "L1"))
            wait_for(lambda: s.admin("/readyz")[0] == 503, "/readyz 503 while frozen")
        finally:
            self.pg.resume()
        wait_for(lambda: s.get(url(*NEVER))[0] == 200, "the page once the server runs again")
        wait_for(lambda: s.admin("/readyz")[0] == 200, "/readyz 200 once the server runs again")

    def tier_of(self, server, page):
        status, headers, body = server.get(url(*page))
        self.assertEqual(status, 200, body[:300])
        return headers["x-tempo-cache"]


def golden_pages():
    """Pages of the golden data over three channels: each type page, and each page with
    pageIds (for ':' and '.' in keys)."""
    page_ids = set()
    types = set()
    with open(os.path.join(e2e_test.SHARED, "golden", "data.ndjson")) as f:
        for line in f:
            try:
                event = json.loads(line)
                record = event["record"]
                if event["kind"] != "module" or not isinstance(record.get("pageType"), str):
                    continue
                types.add((record["tenant"], record["pageType"]))
                for page_id in record.get("pageIds") or []:
                    page_ids.add((record["tenant"], record["pageType"], page_id))
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # the golden data holds invalid lines on purpose
    pages = []
    for channel in ("web", "android", "ios"):
        pages += [(t, channel, p) for t, p in sorted(types)]
        pages += [(t, channel, p, i) for t, p, i in sorted(page_ids)]
    return pages


if __name__ == "__main__":
    e2e_test.TEMPO, e2e_test.SHARED = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
