#!/usr/bin/env python3
"""Publish -> visible: how long a published change takes to show in every `tempo serve`.

One `tempo sync` and two `tempo serve` (sharing one store) over librdkafka's mock cluster
(`tempo dev-kafka`) or the embedded log, each serve under wrk load on the page that
changes. N single-module changes are published at a steady rate; after each, this
script polls the page on both serves (keep-alive, no sleep) until the new content
shows, and records the time from handing the change to the publisher to the slower
serve showing it. Prints p50/p90/p99/max. Everything listens on 127.0.0.1 and is
stopped at the end.

Publishers:
  kcat     (Kafka only; the default there) one long-lived `kcat -P`, as a CMS keeps
           its producer connected; the time starts when the line is written to its
           stdin. kcat reads stdin in 1024-byte blocks (fread) and sends a message only
           once the block holding its end is complete, so each line is padded with
           spaces (JSON allows trailing whitespace) to a multiple of 1024 bytes.
  process  one `tempo publish` per change (the default for the log); the time
           includes starting that process, connecting and waiting for delivery.

usage: bench/propagation.py TEMPO_BINARY [CHANGES=1000] [RATE_PER_S=20] [STREAM=kafka|log]
                            [PUBLISHER=kcat|process]
"""
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

TEMPO = os.path.abspath(sys.argv[1])
CHANGES = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
RATE = float(sys.argv[3]) if len(sys.argv) > 3 else 20.0
STREAM = sys.argv[4] if len(sys.argv) > 4 else "kafka"
PUBLISHER = sys.argv[5] if len(sys.argv) > 5 else ("kcat" if STREAM == "kafka" else "process")
if STREAM not in ("kafka", "log") or PUBLISHER not in ("kcat", "process"):
    raise SystemExit(__doc__)
if PUBLISHER == "kcat" and STREAM != "kafka":
    raise SystemExit("the kcat publisher needs STREAM=kafka")
TENANT = "PROBE"
PAGE = f"/api/v2/tempo/layouts?tenant={TENANT}&channel=web&pageType=homepage"
KCAT_BLOCK = 1024  # kcat 1.7's stdin read size

work = tempfile.mkdtemp(prefix="tempo-propagation-")
procs = []


def start(args, stdin=None):
    p = subprocess.Popen(args, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True)
    procs.append(p)
    return p


def probe(version):
    return json.dumps({"schema": 1, "kind": "module", "op": "upsert",
                       "publishedAt": "2026-11-23T10:00:00Z",
                       "record": {"id": "probe", "tenant": TENANT, "pageType": "homepage",
                                  "zone": "probe", "channels": ["web"], "version": version,
                                  "content": {"seq": version}}})


class ProcessPublisher:
    def __init__(self, stream_args):
        self.stream_args = stream_args
        self.path = os.path.join(work, "change.ndjson")

    def publish(self, line):
        """Returns the start time of the publish."""
        with open(self.path, "w") as f:
            f.write(line + "\n")
        t0 = time.monotonic()
        subprocess.run([TEMPO, "publish", *self.stream_args, self.path], check=True,
                       capture_output=True)
        return t0


class KcatPublisher:
    def __init__(self, brokers):
        # Same key and partitioner as `tempo publish`: one record key, one partition.
        self.proc = start(["kcat", "-P", "-b", brokers, "-t", "tempo.content.v1", "-K", "\t",
                           "-X", "partitioner=murmur2_random"], stdin=subprocess.PIPE)

    def publish(self, line):
        line = f"{TENANT}/module/probe\t{line}"
        line += " " * (-(len(line) + 1) % KCAT_BLOCK)
        t0 = time.monotonic()
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return t0


try:
    store = os.path.join(work, "store")
    events = os.path.join(work, "events.ndjson")
    subprocess.run([TEMPO, "gen", "--seed", "1", "--tenants", "8", "--modules", "300",
                    "--out", events], check=True, capture_output=True)
    with open(events, "a") as f:
        f.write(probe(1) + "\n")
    subprocess.run([TEMPO, "import", "--store", store, events], check=True, capture_output=True)
    if STREAM == "kafka":
        kafka = start([TEMPO, "dev-kafka", "--brokers", "3"])
        brokers = kafka.stdout.readline().strip()
        stream_args = ["--brokers", brokers]
    else:
        stream_args = ["--log", os.path.join(work, "log")]
    start([TEMPO, "sync", *stream_args, "--store", store, "--stats-every-ms", "0"])
    ports = []
    for _ in range(2):
        s = start([TEMPO, "serve", "--drain-ms", "0", "--store", store, *stream_args, "--listen", "127.0.0.1:0",
                   "--threads", "1", "--admin-listen", "127.0.0.1:0"])
        listening = re.search(r"http://127\.0\.0\.1:(\d+)", s.stdout.readline())
        if listening is None:
            raise SystemExit(f"tempo serve did not start (exit status {s.wait()})")
        ports.append(int(listening.group(1)))
    for port in ports:  # load on the very page that changes
        start(["wrk", "-t1", "-c4", f"-d{int(CHANGES / RATE) + 30}s",
               f"http://127.0.0.1:{port}{PAGE}"])
    conns = [http.client.HTTPConnection("127.0.0.1", p, timeout=10) for p in ports]
    publisher = KcatPublisher(brokers) if PUBLISHER == "kcat" else ProcessPublisher(stream_args)

    def shows(conn, marker):
        conn.request("GET", PAGE)
        return marker in conn.getresponse().read().decode()

    latencies = []
    next_at = time.monotonic()
    for i in range(-1, CHANGES):  # i = -1: warm-up while consumer groups finish joining
        version = i + 3
        marker = f'"seq":{version}'
        next_at += 1.0 / RATE
        t0 = publisher.publish(probe(version))
        pending = set(range(len(conns)))
        deadline = t0 + (60 if i < 0 else 10)
        while pending and time.monotonic() < deadline:
            pending = {j for j in pending if not shows(conns[j], marker)}
        if pending:
            raise SystemExit(f"change {version} not visible after {deadline - t0:.0f} s")
        if i >= 0:
            latencies.append((time.monotonic() - t0) * 1000)
        else:
            print(f"warm-up change visible after {time.monotonic() - t0:.1f} s")
            next_at = time.monotonic()
        time.sleep(max(0.0, next_at - time.monotonic()))
    latencies.sort()
    pct = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    print(f"stream {STREAM}, publisher {PUBLISHER}: {CHANGES} changes at {RATE:g}/s, visible on "
          f"both serves: p50 {pct(0.50):.1f} ms, p90 {pct(0.90):.1f} ms, p99 {pct(0.99):.1f} ms, "
          f"max {latencies[-1]:.1f} ms (1-minute load average at the end: "
          f"{os.getloadavg()[0]:.1f})")
finally:
    for p in reversed(procs):
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(work, ignore_errors=True)
