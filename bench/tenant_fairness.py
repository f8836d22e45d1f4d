#!/usr/bin/env python3
"""Per-tenant limits under a noisy neighbour, and the limiter's cost.

usage:
  bench/tenant_fairness.py fairness [--tempo BIN] [--seconds S] [--pairs N]
      Tenant A (ACME, limited to --a-limit req/s by tenant_limits) sends 10x
      its limit of requests for pages that miss every cache (a new pageId
      each: an L1 and tenant-cache miss and an origin read each) while
      tenant B (Globex) sends a steady --b-rate req/s of its own request mix
      from `tempo gen`'s request log. B's latency is measured from each
      request's intended send time (fixed-rate schedule, so a stall is not
      hidden by the client waiting). Runs "B alone" and "B with A" in turn,
      --pairs times, and prints B's p50/p99/p99.9 for each and how A's
      requests were answered.
  bench/tenant_fairness.py overhead [--tempo BIN] [--seconds S] [--rounds N]
      wrk on one hot URL against two `tempo serve` processes, one without
      limits and one with --tenant-rate far above the load, in turn
      (interleaved), --rounds times; prints requests/s of each and the ratio.

Everything listens on 127.0.0.1 and is stopped at the end. The load
generators run in processes of their own (the GIL would otherwise make B's
latency A's).
"""
import argparse
import http.client
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Serve:
    prefix = []

    def __init__(self, tempo, store, *flags):
        self.proc = subprocess.Popen(
            Serve.prefix + [tempo, "serve", "--drain-ms", "0", "--store", store, "--listen", "127.0.0.1:0",
             "--admin-listen", "127.0.0.1:0", *flags],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"127\.0\.0\.1:(\d+)", line)
        if not m:
            self.proc.kill()
            raise SystemExit(f"tempo serve did not start: {line!r}")
        self.port = int(m.group(1))
        admin = re.search(r"admin on port (\d+)", self.proc.stdout.readline())
        self.admin_port = int(admin.group(1)) if admin else None

    def get(self, target):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("GET", target)
        r = c.getresponse()
        r.read()
        c.close()
        return r.status

    def metric(self, name):
        c = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=10)
        c.request("GET", "/metrics")
        body = c.getresponse().read().decode()
        c.close()
        for line in body.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        return None

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def read_response(sock, buf):
    """Reads one HTTP/1.1 response with Content-Length; returns (status, rest of buf)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    head, _, buf = buf.partition(b"\r\n\r\n")
    status = int(head[9:12])
    m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    length = int(m.group(1)) if m else 0
    while len(buf) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return status, buf[length:]


def fixed_rate_connection(port, targets, rate, seconds, start, out, lock):
    """One keep-alive connection sending `rate` req/s from `start` for
    `seconds`; appends (latency from intended send, status) to out."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    interval = 1.0 / rate
    n = int(seconds * rate)
    results = []
    for i in range(n):
        intended = start + i * interval
        now = time.monotonic()
        if now < intended:
            time.sleep(intended - now)
        target = targets[i % len(targets)] if isinstance(targets, list) else targets(i)
        try:
            sock.sendall(b"GET " + target.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            status, buf = read_response(sock, buf)
        except (ConnectionError, OSError):
            sock.close()
            sock = socket.create_connection(("127.0.0.1", port))
            buf = b""
            status = 0
        results.append((time.monotonic() - intended, status))
    sock.close()
    with lock:
        out.extend(results)


def load(port, targets, rate, connections, seconds, start, queue, name):
    """A process of `connections` fixed-rate connections; puts its results on queue."""
    out, lock = [], threading.Lock()
    threads = []
    for c in range(connections):
        if callable(targets):
            conn_targets = (lambda c: (lambda i: targets(i * connections + c)))(c)
        else:
            conn_targets = targets[c::connections] or targets
        threads.append(threading.Thread(target=fixed_rate_connection, args=(
            port, conn_targets, rate / connections, seconds,
            start + c * (1.0 / rate), out, lock)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put((name, out))


class MissTargets:
    """A's requests: a new pageId each, so every one misses L1, L2 and the
    tenant cache's page, and reads the origin. Picklable."""

    def __init__(self, run):
        self.run = run

    def __call__(self, i):
        return (f"/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=product"
                f"&pageId=miss-{self.run}-{i}")


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def prepare(tempo, work):
    subprocess.run([tempo, "gen", "--seed", "1", "--tenants", "8", "--modules", "300",
                    "--out", f"{work}/events.ndjson", "--requests", "20000",
                    "--requests-out", f"{work}/requests.txt"], check=True,
                   capture_output=True)
    subprocess.run([tempo, "import", "--store", f"{work}/store", f"{work}/events.ndjson"],
                   check=True, capture_output=True)
    return f"{work}/store"


def fairness(args):
    work = tempfile.mkdtemp(prefix="tempo-fairness-")
    try:
        store = prepare(args.tempo, work)
        config = f"{work}/serve.yaml"
        with open(config, "w") as f:
            f.write(f"tenant_limits:\n  ACME: {{rate: {args.a_limit}}}\n")
        s = Serve(args.tempo, store, "--config", config, "--threads", str(args.threads))
        try:
            with open(f"{work}/requests.txt") as f:
                candidates = [line.strip() for line in f
                              if "tenant=Globex&" in line or line.strip().endswith("tenant=Globex")]
            b_targets = [t for t in candidates[:400] if s.get(t) == 200]
            print(f"B: {len(b_targets)} distinct Globex requests of the log (200s), "
                  f"{args.b_rate} req/s on {args.b_connections} connections; "
                  f"A: ACME limited to {args.a_limit} req/s, sending {10 * args.a_limit} req/s "
                  f"of new pageIds on {args.a_connections} connections; "
                  f"{args.seconds} s a run, server --threads {args.threads}")
            ctx = multiprocessing.get_context("fork")
            rows = {"alone": [], "with A": []}
            for pair in range(args.pairs):
                for mode in ("alone", "with A"):
                    queue = ctx.Queue()
                    start = time.monotonic() + 0.5
                    procs = [ctx.Process(target=load, args=(
                        s.port, b_targets, args.b_rate, args.b_connections, args.seconds, start,
                        queue, "B"))]
                    if mode == "with A":
                        procs.append(ctx.Process(target=load, args=(
                            s.port, MissTargets(pair), 10 * args.a_limit, args.a_connections,
                            args.seconds, start, queue, "A")))
                    for p in procs:
                        p.start()
                    results = dict(queue.get() for _ in procs)
                    for p in procs:
                        p.join()
                    b = [lat for lat, status in results["B"]]
                    b_bad = sum(1 for _, status in results["B"] if status != 200)
                    row = (percentile(b, 0.5) * 1e3, percentile(b, 0.99) * 1e3,
                           percentile(b, 0.999) * 1e3)
                    rows[mode].append(row)
                    a_text = ""
                    if "A" in results:
                        counts = {}
                        for _, status in results["A"]:
                            counts[status] = counts.get(status, 0) + 1
                        a_text = "  A answers: " + ", ".join(
                            f"{k}: {v}" for k, v in sorted(counts.items()))
                    print(f"pair {pair + 1} B {mode:6}: p50 {row[0]:.2f} ms  p99 {row[1]:.2f} ms"
                          f"  p99.9 {row[2]:.2f} ms  ({len(b)} requests, {b_bad} not 200)"
                          f"{a_text}", flush=True)
            alone = statistics.median(r[1] for r in rows["alone"])
            with_a = statistics.median(r[1] for r in rows["with A"])
            print(f"B p99, median of {args.pairs} runs: alone {alone:.2f} ms, with A "
                  f"{with_a:.2f} ms: {100 * (with_a - alone) / alone:+.1f} %")
            print(f"server: tempo_rate_limited_total {s.metric('tempo_rate_limited_total')}, "
                  f"tempo_origin_reads_tenant_shed_total "
                  f"{s.metric('tempo_origin_reads_tenant_shed_total')}")
        finally:
            s.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def overhead(args):
    if shutil.which("wrk") is None:
        raise SystemExit("overhead needs wrk")
    work = tempfile.mkdtemp(prefix="tempo-limiter-overhead-")
    try:
        store = prepare(args.tempo, work)
        common = ["--threads", str(args.threads)]
        off = Serve(args.tempo, store, *common)
        on = Serve(args.tempo, store, *common, "--tenant-rate", "1000000000")
        try:
            target = args.target
            for s in (off, on):
                assert s.get(target) == 200, target
            rps = {"off": [], "on": []}
            ratios = []
            for r in range(args.rounds):
                for name, s in (("off", off), ("on", on)) if r % 2 == 0 else (("on", on),
                                                                              ("off", off)):
                    p = subprocess.run(
                        args.wrk_prefix.split() + ["wrk", "-t", str(args.wrk_threads), "-c", str(args.connections), "-d",
                         f"{int(args.seconds)}s", f"http://127.0.0.1:{s.port}{target}"],
                        capture_output=True, text=True, check=True)
                    m = re.search(r"Requests/sec:\s*([\d.]+)", p.stdout)
                    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", p.stdout)
                    assert non2xx is None, p.stdout  # no 429 far below the limit
                    rps[name].append(float(m.group(1)))
                    print(f"round {r + 1} limiter {name:3}: {float(m.group(1)):10.0f} req/s",
                          flush=True)
                ratios.append(rps["on"][-1] / rps["off"][-1])
            off_m, on_m = statistics.median(rps["off"]), statistics.median(rps["on"])
            print(f"median requests/s: off {off_m:.0f}, on {on_m:.0f}: on/off {on_m / off_m:.3f}; "
                  f"median of the rounds' on/off ratios {statistics.median(ratios):.3f}")
        finally:
            off.stop()
            on.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=["fairness", "overhead"])
    p.add_argument("--tempo", default=os.path.join(ROOT, "build/release/src/cli/tempo"))
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--threads", type=int, default=2, help="tempo serve --threads")
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--a-limit", type=int, default=100)
    p.add_argument("--a-connections", type=int, default=8)
    p.add_argument("--b-rate", type=int, default=400)
    p.add_argument("--b-connections", type=int, default=4)
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--connections", type=int, default=32, help="wrk connections")
    p.add_argument("--wrk-threads", type=int, default=1)
    p.add_argument("--wrk-prefix", default="", help="e.g. 'taskset -c 0' to pin wrk")
    p.add_argument("--serve-prefix", default="", help="e.g. 'taskset -c 1' to pin the servers")
    p.add_argument("--target", default="/api/v2/tempo/layouts?tenant=ACME&channel=web"
                                        "&pageType=homepage&pageId=home-b&t.segment=gold"
                                        "&visitorId=v-42")
    args = p.parse_args()
    args.tempo = os.path.abspath(args.tempo)
    Serve.prefix = args.serve_prefix.split()
    fairness(args) if args.mode == "fairness" else overhead(args)


if __name__ == "__main__":
    main()
