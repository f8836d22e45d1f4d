#!/usr/bin/env python3
"""Cold and warm start (issue 19 §5), measured on a generated store.

usage: bench/cold_warm.py [--tempo BIN] [--seconds 60] ...   (see --help)

1. `tempo gen --tenants 8 --modules 12500` (100 000 modules) and its request
   log, imported into a RocksDB store.
2. Cold start: instance A is started and asked the log's first request in a
   tight loop; the time from exec to the first 200 is printed.
3. The rotation (wrk with bench/rotate.lua over the request log) runs on A for
   --seconds; A's L1 hit ratio (tempo_cache_hits_total over hits + misses,
   cache="slices") is printed for each --sample-s interval, until steady.
4. Steady state: wrk --latency on A for --seconds (p50, p99).
5. Restart cold: a fresh instance B, the rotation for --seconds from its
   start: p99 over its first minute, and its hit ratio per interval.
6. Restart warm: a fresh instance C with --warm-from A's admin listener; the
   time to /readyz 200, then the same first minute.

wrk is closed-loop: its latencies leave out the time a request would have
waited had it been sent on a schedule (coordinated omission), so p99 under
a slow start is understated, not overstated. Everything listens on 127.0.0.1
and is stopped at the end.
"""
import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def sh(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


class Serve:
    def __init__(self, tempo, store, threads, *extra):
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [tempo, "serve", "--store", store, "--listen", "127.0.0.1:0", "--admin-listen",
             "127.0.0.1:0", "--threads", str(threads), "--drain-ms", "0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        self.port = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))
        self.admin_port = int(re.search(r"admin on port (\d+)", self.proc.stdout.readline()).group(1))
        self.listening_s = time.monotonic() - self.started

    def get(self, port, target, timeout=5):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            c.request("GET", target)
            r = c.getresponse()
            body = r.read()
            return r.status, body
        finally:
            c.close()

    def slice_counters(self):
        _, text = self.get(self.admin_port, "/metrics")
        text = text.decode()
        out = {}
        for name in ("hits", "misses", "stale_served"):
            m = re.search(r'tempo_cache_%s_total\{cache="slices"\} (\d+)' % name, text)
            out[name] = int(m.group(1)) if m else 0
        return out

    def latency_buckets(self):
        """{le: count} of tempo_request_duration_seconds, summed over its series."""
        _, text = self.get(self.admin_port, "/metrics")
        out = {}
        for m in re.finditer(r'^tempo_request_duration_seconds_bucket\{[^}]*le="([^"]+)"\} (\d+)',
                             text.decode(), re.M):
            le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
            out[le] = out.get(le, 0) + int(m.group(2))
        return out

    def stop(self):
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err


def first_200(serve, target, limit_s=30):
    while time.monotonic() - serve.started < limit_s:
        try:
            status, _ = serve.get(serve.port, target, timeout=1)
            if status == 200:
                return time.monotonic() - serve.started
        except OSError:
            pass
        time.sleep(0.005)
    return None


def wait_ready(serve, limit_s=60):
    while time.monotonic() - serve.started < limit_s:
        status, _ = serve.get(serve.admin_port, "/readyz")
        if status == 200:
            return time.monotonic() - serve.started
        time.sleep(0.01)
    return None


def sample_hit_ratio(serve, seconds, every, out):
    """Appends (t, hit ratio of the interval) to out every `every` s."""
    last = serve.slice_counters()
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds - every / 2:
        time.sleep(every)
        now = serve.slice_counters()
        hits = now["hits"] + now["stale_served"] - last["hits"] - last["stale_served"]
        misses = now["misses"] - last["misses"]
        out.append((round(time.monotonic() - t0), hits / max(1, hits + misses)))
        last = now


def bucket_p99(before, after):
    """The p99 bound (ms) of the requests between two latency_buckets() snapshots."""
    delta = {le: after.get(le, 0) - before.get(le, 0) for le in after}
    total = delta.get(float("inf"), 0)
    for le in sorted(delta):
        if total and delta[le] >= 0.99 * total:
            return "<=%gms" % (le * 1000)
    return "n/a"


def wrk(args, serve, seconds, log):
    p = sh(["wrk", "-t%d" % args.wrk_threads, "-c%d" % args.connections, "-d%ds" % seconds,
            "--latency", "-s", os.path.join(HERE, "rotate.lua"),
            "http://127.0.0.1:%d" % serve.port, "--", log])
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", p.stdout, re.M))
    rps = re.search(r"Requests/sec:\s+(\S+)", p.stdout).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", p.stdout)
    return {"p50": lat.get("50"), "p99": lat.get("99"), "rps": rps,
            "non2xx": int(non2xx.group(1)) if non2xx else 0}


def rotation(args, serve, seconds, log, label):
    ratios, snapshots = [], [serve.latency_buckets()]
    sampler = threading.Thread(target=sample_hit_ratio,
                               args=(serve, seconds, args.sample_s, ratios))
    sampler.start()
    first = threading.Timer(args.sample_s, lambda: snapshots.append(serve.latency_buckets()))
    first.start()
    result = wrk(args, serve, seconds, log)
    sampler.join()
    first.join()
    snapshots.append(serve.latency_buckets())
    print("%s: %s requests/s, p50 %s, p99 %s, non-2xx %d (wrk); server-side p99 %s over the "
          "first %d s, %s over the run" %
          (label, result["rps"], result["p50"], result["p99"], result["non2xx"],
           bucket_p99(snapshots[0], snapshots[1]), args.sample_s,
           bucket_p99(snapshots[0], snapshots[2])))
    print("%s: L1 hit ratio by %d s interval: %s" %
          (label, args.sample_s, " ".join("%ds:%.3f" % r for r in ratios)))
    sys.stdout.flush()
    return result, ratios


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tempo", default=os.path.join(HERE, "..", "build/release/src/cli/tempo"))
    ap.add_argument("--tenants", type=int, default=8)
    ap.add_argument("--modules", type=int, default=12500)
    ap.add_argument("--requests", type=int, default=100000)
    ap.add_argument("--seconds", type=int, default=60, help="each rotation phase")
    ap.add_argument("--sample-s", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2, help="serving threads")
    ap.add_argument("--wrk-threads", type=int, default=1)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--warm-slices", type=int, default=10000, help="C's --warm-slices")
    ap.add_argument("--work", help="keep the store here (default: a temporary directory)")
    args = ap.parse_args()
    tempo = os.path.abspath(args.tempo)
    work = args.work or tempfile.mkdtemp(prefix="tempo-cold-warm-")
    store, log = os.path.join(work, "store"), os.path.join(work, "requests.txt")
    servers = []
    try:
        if not os.path.exists(store):
            t = time.monotonic()
            sh([tempo, "gen", "--seed", "1", "--tenants", str(args.tenants), "--modules",
                str(args.modules), "--out", os.path.join(work, "events.ndjson"), "--requests",
                str(args.requests), "--requests-out", log])
            sh([tempo, "import", "--store", store, os.path.join(work, "events.ndjson")])
            print("store: %d tenants x %d modules, %d-request log, made in %.1f s" %
                  (args.tenants, args.modules, args.requests, time.monotonic() - t))
        with open(log) as f:
            target = f.readline().strip()

        a = Serve(tempo, store, args.threads)
        servers.append(a)
        print("cold start A: listening %.3f s, first 200 %.3f s after exec" %
              (a.listening_s, first_200(a, target)))
        rotation(args, a, args.seconds, log, "A rotation from cold")
        steady, _ = rotation(args, a, args.seconds, log, "A steady state")

        b = Serve(tempo, store, args.threads)
        servers.append(b)
        print("restart cold B: listening %.3f s, ready %.3f s" % (b.listening_s, wait_ready(b)))
        cold, _ = rotation(args, b, args.seconds, log, "B first minute, cold")
        b.stop()
        servers.remove(b)

        c = Serve(tempo, store, args.threads, "--warm-from", "http://127.0.0.1:%d" % a.admin_port,
                  "--warm-slices", str(args.warm_slices))
        servers.append(c)
        ready = wait_ready(c)
        warmed, _ = rotation(args, c, args.seconds, log, "C first minute, warm")
        err = c.stop()
        servers.remove(c)
        print("restart warm C: listening %.3f s, ready %.3f s; %s" %
              (c.listening_s, ready,
               " ".join(l for l in err.splitlines() if "warm-from" in l)))
        print("p99: steady %s, cold first minute %s, warm first minute %s" %
              (steady["p99"], cold["p99"], warmed["p99"]))
    finally:
        for s in servers:
            s.stop()
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
