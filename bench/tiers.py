#!/usr/bin/env python3
"""Tier latency: wrk over a generated request log against `tempo serve --l1-mb 0`, so every
request is answered by the tier under test (issue 6 "Benchmarks"):

  L2 hit          --l2 over 3 local memcached, L2 warmed by one pass over the log
  origin RocksDB  no L2, RocksDB store
  origin Postgres no L2, PostgreSQL store (a throw-away cluster)
  L2 node killed  as "L2 hit", one memcached node SIGKILLed 3 s into the run

Data: `tempo gen --seed 1 --tenants 8 --modules 300` and its request log, replayed by
bench/rotate.lua. Prints a markdown table for each wrk concurrency (-c16: throughput, where
latency is mostly queueing; -c1: one request's latency): req/s, p50/p99 (wrk --latency),
503s, how many layouts each tier served (the serve's /metrics), and the serve's CPU time
per request (unlike the latency tail, independent of what else the machine runs). For the
failure run it also prints the origin's layouts per second: the dead node's keys go to the
origin until it is ejected and they are refilled on the other nodes. Goals: L2 hit p99 < 1
ms, origin hit p99 < 3 ms on loopback. Everything listens on 127.0.0.1 and is stopped at
the end.

usage: bench/tiers.py TEMPO_BINARY [--duration S] [--connections N,N...] [--runs N]
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import e2e_test  # noqa: E402  (the serve wrapper, and the memcached/PostgreSQL fixtures)
from tiers_e2e_test import Memcached, PgCluster, metric  # noqa: E402

KILL_AT_S = 3


def tempo(*args):
    subprocess.run([e2e_test.TEMPO, *args], check=True, capture_output=True, timeout=600)


def tier_counts(server):
    return {tier: metric(server, f'tempo_layouts_total{{tier="{tier}"}}')
            for tier in ("L1", "L2", "origin")} | {
        "503": metric(server, 'tempo_responses_total{code="503"}')}


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def warm(server, requests, threads=8):
    """One pass over the distinct requests of the log, shared by a few connections."""
    distinct = list(dict.fromkeys(requests))

    def part(k):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        for target in distinct[k::threads]:
            conn.request("GET", target)
            conn.getresponse().read()
        conn.close()

    workers = [threading.Thread(target=part, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def wrk(server, args, connections, requests_path, kill=None):
    """One wrk run over the log: its figures, the tier counts of the run and, when `kill` is
    called KILL_AT_S into it, the layouts the origin served in each second (the failover)."""
    before = tier_counts(server)
    cpu_before = cpu_seconds(server.proc.pid)
    origin_per_s = []
    done = threading.Event()

    def watch():  # samples the origin counter each second, and kills at KILL_AT_S
        last = before["origin"]
        for second in range(1, args.duration + 1):
            if done.wait(1.0):
                return
            now = tier_counts(server)["origin"]
            origin_per_s.append(int(now - last))
            last = now
            if second == KILL_AT_S:
                kill()

    watcher = threading.Thread(target=watch) if kill else None
    if watcher:
        watcher.start()
    try:
        p = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{args.duration}s", "--latency",
             "-s", os.path.join(HERE, "rotate.lua"), f"http://127.0.0.1:{server.port}/", "--",
             requests_path], capture_output=True, text=True, timeout=args.duration + 60)
    finally:
        done.set()
        if watcher:
            watcher.join()
    if p.returncode != 0:
        raise SystemExit(f"wrk failed: {p.stderr}")
    after = tier_counts(server)
    cpu = cpu_seconds(server.proc.pid) - cpu_before

    def pct(p_):
        m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)\b" % p_, p.stdout)
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]

    requests = int(re.search(r"(\d+) requests in", p.stdout).group(1))
    return {"connections": connections,
            "rps": float(re.search(r"Requests/sec:\s*([\d.]+)", p.stdout).group(1)),
            "cpu_us": cpu * 1e6 / max(requests, 1),
            "p50": pct(50), "p99": pct(99), "origin_per_s": origin_per_s,
            **{k: int(after[k] - before[k]) for k in after}}


def one_run(args, requests, requests_path, rocks, pg_uri):
    rows = []

    def start(store, extra):
        # A PostgreSQL serve bounds its startup connect by the request timeout (250 ms at the
        # default deadline), which a loaded box can miss: try again, and say so.
        for attempt in range(3):
            try:
                return e2e_test.Server(store, "--l1-mb", "0", *extra)  # --threads 2
            except AssertionError as e:
                print(f"(serve did not start, attempt {attempt + 1}: {e})", file=sys.stderr)
        raise SystemExit("serve did not start")

    def scenario(name, store, extra=(), kill=None):
        s = start(store, extra)
        try:
            warm(s, requests)  # fills L2 (--l2), warms the origin's caches otherwise
            # A node is killed once, under the first concurrency.
            for connections in args.connections[:1] if kill else args.connections:
                rows.append((name, wrk(s, args, connections, requests_path, kill)))
        finally:
            s.stop()

    for name, store in (("origin RocksDB", rocks), ("origin PostgreSQL", pg_uri)):
        scenario(name, store)
    for name, kill in (("L2 hit", False), (f"L2, node killed at {KILL_AT_S} s", True)):
        nodes = [Memcached() for _ in range(3)]
        try:
            l2 = ["--l2", ",".join(n.address for n in nodes)]
            scenario(name, rocks, l2, kill=nodes[0].kill if kill else None)
        finally:
            for n in nodes:
                n.stop()
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tempo")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", default="16,1",
                        help="wrk connections; a comma list runs each (the queueing-free "
                             "latency of one request is the -c1 figure)")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    args.connections = [int(c) for c in args.connections.split(",")]
    e2e_test.TEMPO = os.path.abspath(args.tempo)
    work = tempfile.mkdtemp(prefix="tempo-tiers-bench-")
    pg = None
    try:
        events = os.path.join(work, "events.ndjson")
        requests_path = os.path.join(work, "requests.txt")
        tempo("gen", "--seed", "1", "--tenants", "8", "--modules", "300", "--out", events,
              "--requests", "20000", "--requests-out", requests_path)
        with open(requests_path) as f:
            requests = [line for line in f.read().splitlines() if line]
        rocks = os.path.join(work, "store")
        tempo("import", "--store", rocks, events)
        pg = PgCluster()
        pg_uri = pg.createdb("bench")
        tempo("import", "--store", pg_uri, events)

        print(f"{len(requests)} requests ({len(set(requests))} distinct); wrk -t1 "
              f"-d{args.duration}s --latency -s bench/rotate.lua; serve --l1-mb 0 --threads 2; "
              f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
        print("\n| run | tier | wrk -c | req/s | p50 ms | p99 ms | 503 | served by L2 / origin "
              "| serve CPU µs/req |")
        print("|---|---|---:|---:|---:|---:|---:|---|---:|")
        failovers = []
        for run_index in range(1, args.runs + 1):
            for name, r in one_run(args, requests, requests_path, rocks, pg_uri):
                if r["origin_per_s"]:
                    failovers.append(f"run {run_index}: {r['origin_per_s']}")
                print(f"| {run_index} | {name} | {r['connections']} | {r['rps']:.0f} | "
                      f"{r['p50']:.3f} | {r['p99']:.3f} | {r['503']} | "
                      f"{r['L2']} / {r['origin']} | {r['cpu_us']:.0f} |", flush=True)
        print(f"\nlayouts served by the origin in each second of the node-failure run "
              f"(killed after second {KILL_AT_S}):")
        for line in failovers:
            print("  " + line)
    finally:
        if pg:
            pg.destroy()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
