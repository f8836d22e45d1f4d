"""The processes of a fault run (issue 19 §3, §4), shared by bench/faults.py and bench/soak.py:
three memcached nodes, `tempo dev-kafka`, an origin store (PostgreSQL or RocksDB), `tempo sync`
and `tempo serve` on 127.0.0.1, a CMS publish stream into Kafka through `tempo publish`, the load
of `tempo bench`, and the check that no record was lost (`tempo reconcile` against a reference
store fed the same events without faults).

Every process writes its stderr to a file in the run's directory (a pipe nobody reads would
block a chatty process under a long load); every wait is bounded; Rig.close() stops everything,
whatever failed.
"""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from tiers_e2e_test import Memcached, PgCluster, free_port  # noqa: E402

START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 15
MARKER_TENANT = "FAULTS"  # a tenant of its own, so markers never collide with the stream
MARKER_URL = "/api/v2/tempo/layouts?tenant=FAULTS&channel=web&pageType=homepage"

TEMPO = None  # set by the drivers


def tempo(args, timeout=300, check=True):
    p = subprocess.run([TEMPO] + args, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError(f"tempo {' '.join(args)} exited {p.returncode}: {p.stderr[-2000:]}")
    return p


class Proc:
    """A long-running `tempo` subcommand (or any program), stderr to `log`; the first stdout
    line is read by the caller when it announces something."""

    def __init__(self, args, log, stdin=None):
        self.log_path = log
        self.log = open(log, "a")
        self.args = args
        self.proc = subprocess.Popen(args, stdin=stdin, stdout=subprocess.PIPE, stderr=self.log,
                                     text=True)

    @property
    def pid(self):
        return self.proc.pid

    def first_line(self):
        return self.proc.stdout.readline()  # bounded: the process prints it or exits

    def send(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM):
        """Stops it (SIGKILL after STOP_TIMEOUT_S) and returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a paused process cannot act on sig
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            if f:
                f.close()
        self.log.close()
        return self.proc.returncode

    def err(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()


def admin_port(line):
    m = re.search(r"admin on port (\d+)", line)
    if not m:
        raise RuntimeError(f"no admin port in {line!r}")
    return int(m.group(1))


def http_get(port, target, timeout=5):
    """(status, body) of GET http://127.0.0.1:port/target on a new connection."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", target)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def metrics(port):
    """/metrics of an admin listener as {series: value}."""
    status, body = http_get(port, "/metrics")
    out = {}
    if status == 200:
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                try:
                    out[name] = float(value)
                except ValueError:
                    pass
    return out


def responses_by_code(port):
    return {k[len('tempo_responses_total{code="'):-2]: v for k, v in metrics(port).items()
            if k.startswith('tempo_responses_total{code="')}


def wait_for(predicate, what, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise RuntimeError(f"timed out after {timeout} s waiting for {what}")


def marker_event(version):
    return json.dumps({"schema": 1, "kind": "module", "op": "upsert",
                       "publishedAt": "2026-12-01T00:00:00Z",
                       "record": {"id": "marker", "tenant": MARKER_TENANT,
                                  "pageType": "homepage", "zone": "faults", "channels": ["web"],
                                  "priority": 5, "version": version,
                                  "content": {"marker": f"m{version}"}}})


class Publisher:
    """The CMS: one `tempo publish --brokers B -` fed `rate` events a second from `events`
    (NDJSON lines) by a thread; everything written is kept in `written` (the reference
    store is imported from it)."""

    def __init__(self, brokers, events, rate, log, extra=()):
        self.proc = Proc([TEMPO, "publish", "--brokers", brokers, *extra, "-"], log,
                         stdin=subprocess.PIPE)
        self.events = events
        self.next = 0
        self.rate = rate
        self.written = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.marker_version = 0
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def write(self, lines):
        with self.lock:
            self.proc.proc.stdin.write("".join(line + "\n" for line in lines))
            self.proc.proc.stdin.flush()
            self.written.extend(lines)

    def take(self, n):
        with self.lock:
            lines = self.events[self.next:self.next + n]
            self.next += len(lines)
        return lines

    def loop(self):
        start = time.monotonic()
        sent = 0
        while not self.stopping.is_set():
            due = int((time.monotonic() - start) * self.rate) - sent
            if due > 0:
                lines = self.take(due)
                if not lines:
                    return  # the event file is exhausted: the stream stops
                self.write(lines)
                sent += len(lines)
            self.stopping.wait(0.01)

    def burst(self, n):
        """Writes `n` more events at once (a backlog for sync)."""
        self.write(self.take(n))

    def marker(self):
        """Publishes a new version of the marker module; returns its text."""
        with self.lock:
            self.marker_version += 1
            version = self.marker_version
        self.write([marker_event(version)])
        return f'"m{version}"'

    def stop(self):
        """Stops the stream, closes stdin and returns (exit status, output): 0 once Kafka
        has every event."""
        self.stopping.set()
        self.thread.join(timeout=10)
        p = self.proc.proc
        p.stdin.close()
        try:
            p.wait(timeout=120)  # publish flushes what it has queued, then exits
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        out = p.stdout.read()
        p.stdout.close()
        self.proc.log.close()
        return p.returncode, out.strip()


def bench(port, requests, rate, duration_s, json_path, connections=8):
    """`tempo bench` for duration_s on the request log: {"requests", "errors", "p99_ms", ...}."""
    p = tempo(["bench", "--requests", requests, "--base", f"http://127.0.0.1:{port}",
               "--rate", str(rate), "--duration", f"{duration_s}s", "--warmup", "0s",
               "--connections", str(connections), "--timeout", "2s", "--json", json_path],
              timeout=duration_s + 60)
    with open(json_path) as f:
        r = json.load(f)
    r["p99_ms"] = r["latency_us"]["p99"] / 1000
    r["max_ms"] = r["latency_us"]["max"] / 1000
    return r


class Rig:
    """The whole system. store: "pg" (a database in `pg`, a PgCluster) or a RocksDB directory.
    The store and the reference store start with `initial` (imported); the stream comes after.
    """

    def __init__(self, tmp, store, initial, pg=None, serve_args=(), sync_args=(), publish_args=(),
                 serve_threads=2):
        self.tmp = tmp
        self.procs = []
        self.nodes = []
        self.pg = pg
        self.serve_args = list(serve_args)
        self.sync_args = list(sync_args)
        self.publish_args = list(publish_args)
        self.serve_threads = serve_threads
        self.publisher = None
        try:
            for _ in range(3):
                self.nodes.append(Memcached())
            self.kafka = self.start([TEMPO, "dev-kafka", "--brokers", "1"], "dev-kafka")
            self.brokers = self.kafka.first_line().strip()
            if not re.match(r"^[0-9.:,]+$", self.brokers):
                raise RuntimeError("dev-kafka did not start: " + self.kafka.err())
            if store == "pg":
                self.store = pg.createdb(f"faults{int(time.time() * 1000) % 10**9}")
            else:
                self.store = store
            self.initial = os.path.join(tmp, "initial.ndjson")
            with open(self.initial, "w") as f:
                f.write("".join(line + "\n" for line in initial))
            tempo(["import", "--store", self.store, self.initial])
            self.sync = None
            self.start_sync()
            self.serve, self.serve_admin = None, None
            self.start_serve()
        except BaseException:
            self.close()
            raise

    def start(self, args, name, stdin=None):
        p = Proc(args, os.path.join(self.tmp, name + ".log"), stdin=stdin)
        self.procs.append(p)
        return p

    def l2_args(self):
        return ["--l2", ",".join(n.address for n in self.nodes), "--l2-namespace", "faults"]

    def start_sync(self):
        self.sync = self.start([TEMPO, "sync", "--brokers", self.brokers, "--store", self.store,
                                *self.l2_args(), "--stats-every-ms", "1000",
                                "--admin-listen", "127.0.0.1:0", *self.sync_args], "sync")
        # "tempo sync: ... admin on port N" is its first stderr line
        self.sync_admin = admin_port(wait_for(
            lambda: (lambda e: e if "admin on port" in e or self.sync.proc.poll() is not None
                     else None)(self.sync.err()), "tempo sync to start", START_TIMEOUT_S))

    def start_serve(self):
        self.serve = self.start([TEMPO, "serve", "--store", self.store, "--listen", "127.0.0.1:0",
                                 "--threads", str(self.serve_threads),
                                 "--admin-listen", "127.0.0.1:0", "--drain-ms", "0",
                                 "--brokers", self.brokers, *self.l2_args(), *self.serve_args],
                                "serve")
        line = self.serve.first_line()
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if not m:
            raise RuntimeError(f"serve did not start: {line!r} {self.serve.err()[-2000:]}")
        self.port = int(m.group(1))
        self.admin = admin_port(self.serve.first_line())

    def publish(self, events, rate):
        self.publisher = Publisher(self.brokers, events, rate,
                                   os.path.join(self.tmp, "publish.log"), self.publish_args)
        return self.publisher

    def marker_visible(self, text):
        try:
            status, body = http_get(self.port, MARKER_URL, timeout=2)
        except OSError:
            return False
        return status == 200 and text.encode() in body

    def time_to_visible(self, text, timeout=120):
        """Seconds until the serve answers with `text` (polled every 50 ms); None if never."""
        start = time.monotonic()
        try:
            wait_for(lambda: self.marker_visible(text), "the marker", timeout)
        except RuntimeError:
            return None
        return time.monotonic() - start

    def lost_records(self, settle_s=120):
        """Stops the stream, waits (at most settle_s) for sync to apply everything, then
        reconciles the store against a reference imported from the same events. Returns
        (differences, report total, publish status, seconds waited)."""
        rc, out = self.publisher.stop()
        reference = os.path.join(self.tmp, "reference")
        feed = os.path.join(self.tmp, "published.ndjson")
        with open(feed, "w") as f:
            f.write("".join(line + "\n" for line in self.publisher.written))
        tempo(["import", "--store", reference, self.initial])
        tempo(["import", "--store", reference, feed])
        report = os.path.join(self.tmp, "reconcile.json")
        start = time.monotonic()
        while True:
            p = tempo(["reconcile", "--a", reference, "--b", self.store, "--threshold", "0",
                       "--report", report, "--max-diffs", "20"], check=False)
            if p.returncode not in (0, 3):
                raise RuntimeError("reconcile failed: " + p.stderr[-2000:])
            with open(report) as f:
                total = json.load(f)["total"]
            diffs = total["missing_in_a"] + total["missing_in_b"] + total["differing"]
            if diffs == 0 or time.monotonic() - start > settle_s:
                return diffs, total, (rc, out), time.monotonic() - start
            time.sleep(2)

    def close(self):
        """Stops everything; one failure to stop does not keep the others running."""
        steps = []
        if self.publisher is not None:
            self.publisher.stopping.set()
            steps.append(lambda: self.publisher.proc.stop(signal.SIGKILL))
        steps += [p.stop for p in reversed(self.procs)]
        for n in self.nodes:
            steps += [lambda n=n: n.proc.send_signal(signal.SIGCONT), n.stop]
        for step in steps:
            try:
                step()
            except (OSError, ValueError, subprocess.SubprocessError) as e:
                print(f"fault_rig: while stopping: {e!r}", file=sys.stderr)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        status = f.read()
    return (int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)),
            int(re.search(r"Threads:\s+(\d+)", status).group(1)))


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def load_events(path):
    with open(path) as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def quote(s):
    return urllib.parse.quote(s, safe="")
