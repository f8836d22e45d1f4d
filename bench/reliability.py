#!/usr/bin/env python3
"""Issue 12's figures through the real `tempo serve` (docs/benchmarks.md, "Keep serving when a
dependency hangs"):

  frozen origin  PostgreSQL stopped with SIGSTOP while 20 clients ask for pages no cache
                 holds: wrk on an L1-cached page and on /healthz (latency, req/s), and the
                 time each uncached request took to get its 503
  hung L2        an L2 node that accepts connections and never answers, --l2-timeout-ms
                 1000: wrk on uncached pages (503s must be 0) and on /healthz
  flood          the public listener filled to --max-connections with idle sockets: /livez,
                 /readyz and an open keep-alive client (latency), connections refused
  L1 memory      wrk sending a new random pageId on every request to a serve with
                 --l1-mb 64 for --busting-s seconds: RSS growth against --l1-mb

Everything listens on 127.0.0.1 and is stopped at the end.
usage: bench/reliability.py TEMPO_BINARY SHARED_DIR [--duration S] [--busting-s S]
                            [--only frozen|l2|flood|memory]
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import e2e_test  # noqa: E402
from reliability_e2e_test import HungNode, Load, p99  # noqa: E402
from tiers_e2e_test import HOME_B, PgCluster, metric, url  # noqa: E402


def wrk(port, target, duration, connections=4, script=None, script_args=()):
    args = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    if script:
        args += ["-s", os.path.join(HERE, script)]
    args.append(f"http://127.0.0.1:{port}{target}")
    if script_args:
        args += ["--", *script_args]
    p = subprocess.run(args, capture_output=True, text=True, timeout=duration + 60, check=True)

    def pct(p_):
        m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)\b" % p_, p.stdout)
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", p.stdout)
    return {"rps": float(re.search(r"Requests/sec:\s*([\d.]+)", p.stdout).group(1)),
            "p50": pct(50), "p99": pct(99),
            "requests": int(re.search(r"(\d+) requests in", p.stdout).group(1)),
            "non2xx": int(non2xx.group(1)) if non2xx else 0}


def show(name, r):
    print(f"| {name} | {r['rps']:.0f} | {r['p50']:.3f} | {r['p99']:.3f} | {r['requests']} "
          f"| {r['non2xx']} |")


def header():
    print("| what | req/s | p50 ms | p99 ms | requests | non-2xx |")
    print("| --- | --- | --- | --- | --- | --- |")


def frozen_origin(args, tmp):
    pg = PgCluster()
    try:
        uri = pg.createdb("bench")
        e2e_test.run(["import", "--store", uri,
                      os.path.join(e2e_test.SHARED, "golden", "data.ndjson")])
        s = e2e_test.Server(uri, "--deadline-ms", "50")
        try:
            for _ in range(50):
                if s.get(url(*HOME_B))[0] == 200:
                    break
                time.sleep(0.1)
            print("\n### Frozen origin (PostgreSQL SIGSTOP, 20 clients on uncached pages)\n")
            header()
            show("L1-cached page, origin healthy", wrk(s.port, url(*HOME_B), args.duration))
            pg.pause()
            try:
                load = Load(s, 20)
                time.sleep(0.5)
                show("L1-cached page, origin frozen", wrk(s.port, url(*HOME_B), args.duration))
                show("/healthz, origin frozen", wrk(s.port, "/healthz", args.duration))
                results = load.stop()
            finally:
                pg.resume()
            times = sorted(e for status, e in results if status == 503)
            others = sum(1 for status, _ in results if status != 503)
            print(f"\nuncached requests while frozen: {len(times)} got 503 (deadline 50 ms): "
                  f"min {times[0] * 1000:.1f} ms, p50 {times[len(times) // 2] * 1000:.1f} ms, "
                  f"p99 {p99(times) * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms "
                  f"(Python client, its own overhead included); other statuses: {others}")
        finally:
            s.stop()
    finally:
        pg.destroy()


def hung_l2(args, store):
    node = HungNode()
    s = e2e_test.Server(store, "--l2", node.address, "--l2-timeout-ms", "1000")
    try:
        print("\n### Hung L2 node (accepts, never answers; --l2-timeout-ms 1000, deadline 50 ms)\n")
        header()
        show("uncached pages (a new pageId each)",
             wrk(s.port, "/", args.duration, script="busting.lua",
                 script_args=("ACME", "web", "product")))
        show("/healthz", wrk(s.port, "/healthz", args.duration))
        unavailable = metric(s, 'tempo_responses_total{code="503"}')
        suspensions = metric(s, "tempo_l2_suspensions_total")
        print(f"\n503s: {unavailable:.0f}, L2 suspensions: {suspensions:.0f}")
    finally:
        s.stop()
        node.stop()


def flood(args, store):
    limit = 1000
    s = e2e_test.Server(store, "--max-connections", str(limit))
    sockets = []
    try:
        keep = s.conn()
        keep.request("GET", url(*HOME_B))
        keep.getresponse().read()
        for _ in range(limit + 200):
            sockets.append(socket.create_connection(("127.0.0.1", s.port), timeout=5))
        time.sleep(0.5)

        def timed(fn, n=500):
            samples = []
            for _ in range(n):
                start = time.monotonic()
                fn()
                samples.append((time.monotonic() - start) * 1000)
            samples.sort()
            return samples[len(samples) // 2], p99(samples)

        def admin(path):
            return lambda: s.admin(path)

        def keepalive():
            keep.request("GET", url(*HOME_B))
            keep.getresponse().read()

        print(f"\n### Flood: {limit + 200} idle sockets against --max-connections {limit}\n")
        print("| what | p50 ms | p99 ms |")
        print("| --- | --- | --- |")
        for name, fn in (("/livez (new connection each)", admin("/livez")),
                         ("/readyz (new connection each)", admin("/readyz")),
                         ("open keep-alive client, cached page", keepalive)):
            p50, p99_ = timed(fn)
            print(f"| {name} | {p50:.3f} | {p99_:.3f} |")
        print(f"\nconnections refused: "
              f"{metric(s, 'tempo_http_connections_rejected_total'):.0f}")
        keep.close()
    finally:
        for c in sockets:
            c.close()
        s.stop()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))


def l1_memory(args, store):
    l1_mb = 64
    s = e2e_test.Server(store, "--l1-mb", str(l1_mb))
    try:
        for _ in range(200):
            s.get(url(*HOME_B))
        base = rss_kb(s.proc.pid)
        r = wrk(s.port, "/", args.busting_s, connections=8, script="busting.lua",
                script_args=("ACME", "web", "product"))
        grown = (rss_kb(s.proc.pid) - base) / 1024
        charged = metric(s, 'tempo_cache_bytes{cache="slices"}') / (1 << 20)
        entries = metric(s, 'tempo_cache_entries{cache="slices"}')
        evictions = metric(s, 'tempo_cache_evictions_total{cache="slices"}')
        print(f"\n### L1 memory under cache-busting (--l1-mb {l1_mb}, {r['requests']} requests "
              f"with new pageIds in {args.busting_s} s)\n")
        print(f"RSS at start {base / 1024:.1f} MiB; grown by {grown:.1f} MiB = "
              f"{grown / l1_mb:.2f} x --l1-mb; L1 charged {charged:.1f} MiB in {entries:.0f} "
              f"entries; evictions {evictions:.0f}")
    finally:
        s.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tempo")
    parser.add_argument("shared")
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--busting-s", type=int, default=60)
    parser.add_argument("--only", choices=["frozen", "l2", "flood", "memory"],
                        help="run one scenario (e.g. frozen, against an older binary)")
    args = parser.parse_args()
    e2e_test.TEMPO, e2e_test.SHARED = os.path.abspath(args.tempo), os.path.abspath(args.shared)
    with tempfile.TemporaryDirectory(prefix="tempo-bench-") as tmp:
        store = os.path.join(tmp, "store")
        e2e_test.run(["import", "--store", store,
                      os.path.join(e2e_test.SHARED, "golden", "data.ndjson")])
        scenarios = {"frozen": lambda: frozen_origin(args, tmp), "l2": lambda: hung_l2(args, store),
                     "flood": lambda: flood(args, store), "memory": lambda: l1_memory(args, store)}
        for name, scenario in scenarios.items():
            if args.only in (None, name):
                scenario()


if __name__ == "__main__":
    main()
