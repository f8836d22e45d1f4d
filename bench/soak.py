#!/usr/bin/env python3
"""The soak of issue 19 §4 (docs/reliability.md, "Soak"): `tempo serve` under `tempo bench` on the
request-log rotation (a `tempo gen` request log replayed in a loop) at --load of its saturation,
with a publish stream of --events-per-s events a second through `tempo publish`, Kafka
(`tempo dev-kafka`) and `tempo sync`, L2 on three memcached nodes, for --minutes.

Saturation is measured first, on the same system with the stream running (tempo bench at a rate
it cannot reach; the achieved rate). The soak is then one `tempo bench` a minute, back to back;
after each minute it records serve's and sync's RSS, open file descriptors and threads, the
requests and errors of that minute, its p99 and the serve's 5xx. At the end: the records lost
(`tempo reconcile` against a reference store fed the same events), and the verdict:

  - RSS after the first 5 minutes (or the first third of a shorter run) grows < 5 %
  - open file descriptors and threads flat (within 2 over the whole run)
  - zero errors (tempo bench's connect, timeout, I/O and 5xx; no 429 from the serve; the
    request log's deliberately invalid requests are its 4xx)
  - p99 flat: no minute after the first above 2 x the median minute's p99
  - zero records lost

The stream (--stream): `updates` (the default) imports a generated store first and then
publishes new versions of its templates, modules and experiments in a loop, so the store keeps
its size and RSS can be judged; `new` publishes the rest of a larger generated event file
(the store grows all run long, as a catalogue being built would).

usage: bench/soak.py TEMPO_BINARY SHARED_DIR [--minutes 30] [--load 0.7] [--events-per-s 100]
                     [--stream updates|new] [--store rocksdb|pg] [--json FILE]
Exit status 0 when every check passes, 1 otherwise. Everything is stopped at the end.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fault_rig  # noqa: E402
from fault_rig import (Rig, bench, load_events, open_fds, responses_by_code, rss_kb,  # noqa: E402
                       tempo)
from tiers_e2e_test import PgCluster  # noqa: E402

TENANTS = 8
# What `tempo gen` writes per module, about (with templates, experiments, deletes): 1.72 in
# the 30-minute run (about 182 600 events for 106 064 modules); below it, so the file lasts.
EVENTS_PER_MODULE = 1.6
INITIAL_SHARE = 0.1      # of the events, imported before the run
# The store of the `updates` stream: modules per tenant (about 29 000 records in all).
UPDATES_MODULES = 2000
SATURATION_RATE = 200000  # a rate no 2-core box reaches: tempo bench's achieved rate is the cap
SATURATION_S = 10
# How far open file descriptors and threads may move and still be "flat": a connection being
# opened or closed when the sample is taken.
FLAT_SLACK = 2


def updates(events, count):
    """`count` events that publish new versions of the upserts in `events`, round after round:
    round r adds r * 10^6 to each record's version (higher version wins, SPEC section 11), so
    every event replaces a record the store already holds and the store keeps its size."""
    upserts = []
    for line in events:
        try:
            event = json.loads(line)
        except ValueError:
            continue  # `tempo gen` writes some invalid events on purpose (its DLQ cases)
        record = event.get("record") if isinstance(event, dict) else None
        if event.get("op") != "upsert" or not isinstance(record, dict):
            continue
        version = record.get("version")
        at = line.find('"record":')
        cut = line.find(f'"version":{version}', at) if type(version) is int else -1
        if at < 0 or cut < 0:  # a version written otherwise (1e2, "3"): invalid, left out
            continue
        upserts.append((line[:cut] + '"version":', version,
                        line[cut + len(f'"version":{version}'):]))
    out = []
    round_ = 1
    while len(out) < count:
        for head, version, tail in upserts:
            out.append(f"{head}{version + round_ * 1000000}{tail}")
            if len(out) == count:
                break
        round_ += 1
    return out


def l1_sample(admin):
    """L1's slices cache: bytes charged and entries (what RSS should follow)."""
    m = fault_rig.metrics(admin)
    return {"bytes": m.get('tempo_cache_bytes{cache="slices"}', 0),
            "entries": m.get('tempo_cache_entries{cache="slices"}', 0)}


def sample(pid):
    rss, threads = rss_kb(pid)
    return {"rss_kb": rss, "threads": threads, "fds": open_fds(pid)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tempo")
    parser.add_argument("shared")
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--load", type=float, default=0.7, help="share of the saturation rate")
    parser.add_argument("--rate", type=int, help="requests/s (skips the saturation run)")
    parser.add_argument("--events-per-s", type=int, default=100)
    parser.add_argument("--stream", choices=["updates", "new"], default="updates")
    parser.add_argument("--store", choices=["rocksdb", "pg"], default="rocksdb")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    fault_rig.TEMPO = os.path.abspath(args.tempo)
    result = {"minutes": []}
    with tempfile.TemporaryDirectory(prefix="tempo-soak-") as tmp:
        needed = args.events_per_s * (args.minutes * 60 + 300)
        if args.stream == "new":
            needed /= 1 - INITIAL_SHARE
            modules = int(needed / TENANTS / EVENTS_PER_MODULE) + 1
        else:
            modules = UPDATES_MODULES
        events_file, requests = os.path.join(tmp, "events.ndjson"), os.path.join(tmp, "req.log")
        tempo(["gen", "--seed", "4", "--tenants", str(TENANTS), "--modules", str(modules),
               "--out", events_file, "--requests", "20000", "--requests-out", requests],
              timeout=600)
        events = load_events(events_file)
        if args.stream == "new":
            initial = int(len(events) * INITIAL_SHARE)
        else:
            initial = len(events)
            events += updates(events, int(needed))
        result["stream"] = args.stream
        pg = PgCluster() if args.store == "pg" else None
        rig = None
        try:
            rig = Rig(tmp, "pg" if pg else os.path.join(tmp, "store"), events[:initial], pg=pg)
            rig.publish(events[initial:], args.events_per_s)
            out = os.path.join(tmp, "bench.json")
            if args.rate:
                rate = args.rate
            else:
                sat = bench(rig.port, requests, SATURATION_RATE, SATURATION_S, out,
                            connections=args.connections)
                result["saturation_rps"] = sat["achieved_rate"]
                rate = int(sat["achieved_rate"] * args.load)
            result["rate"] = rate
            print(f"soak: {rate} req/s ({result.get('saturation_rps', 'given')} saturation), "
                  f"{args.events_per_s} events/s, {args.minutes} min", file=sys.stderr, flush=True)
            codes = responses_by_code(rig.admin)
            limited = fault_rig.metrics(rig.admin).get("tempo_rate_limited_total", 0)
            start = time.monotonic()
            for minute in range(1, args.minutes + 1):
                r = bench(rig.port, requests, rate, 60, out, connections=args.connections)
                now = responses_by_code(rig.admin)
                now_limited = fault_rig.metrics(rig.admin).get("tempo_rate_limited_total", 0)
                m = {"minute": minute, "t_s": round(time.monotonic() - start),
                     "requests": r["requests"], "achieved_rate": r["achieved_rate"],
                     "errors": r["errors"], "p99_ms": r["p99_ms"], "p50_ms":
                     r["latency_us"]["p50"] / 1000, "max_ms": r["max_ms"],
                     "serve_5xx": sum(v - codes.get(c, 0) for c, v in now.items()
                                      if c.startswith("5")),
                     "rate_limited": now_limited - limited,
                     "serve": sample(rig.serve.pid), "sync": sample(rig.sync.pid),
                     "l1": l1_sample(rig.admin),
                     "events_published": len(rig.publisher.written)}
                codes, limited = now, now_limited
                result["minutes"].append(m)
                print(json.dumps(m), file=sys.stderr, flush=True)
            lost, total, publish, waited = rig.lost_records()
            result.update({"lost": lost, "reconcile_total": total, "publish": publish,
                           "settle_s": waited})
        finally:
            if rig:
                rig.close()
            if pg:
                pg.destroy()
    ok = verdict(result, args)
    print(table(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    sys.exit(0 if ok else 1)


def bench_errors(m):
    e = m["errors"]
    return e["connect"] + e["timeout"] + e.get("io", 0) + e["status_5xx"]


def verdict(result, args):
    minutes = result["minutes"]
    settled = minutes[min(len(minutes), 5 if len(minutes) >= 10 else max(1, len(minutes) // 3)) - 1]
    last = minutes[-1]
    checks = {}
    for proc in ("serve", "sync"):
        growth = (last[proc]["rss_kb"] - settled[proc]["rss_kb"]) / settled[proc]["rss_kb"]
        checks[f"{proc} RSS growth after minute {settled['minute']} < 5 %"] = (
            growth < 0.05, f"{growth * 100:+.1f} %")
        for what in ("fds", "threads"):
            seen = [m[proc][what] for m in minutes]
            checks[f"{proc} {what} flat (within {FLAT_SLACK})"] = (
                max(seen) - min(seen) <= FLAT_SLACK,
                f"{seen[0]} -> {seen[-1]} (min {min(seen)}, max {max(seen)})")
    errors = sum(bench_errors(m) for m in minutes)
    checks["zero errors (connect, timeout, I/O, 5xx, 429)"] = (
        errors == 0 and sum(m["rate_limited"] for m in minutes) == 0,
        f"{errors} bench errors, {sum(m['serve_5xx'] for m in minutes):.0f} serve 5xx, "
        f"{sum(m['rate_limited'] for m in minutes):.0f} rate-limited")
    p99s = [m["p99_ms"] for m in minutes]
    median = statistics.median(p99s)
    checks["p99 flat (every minute <= 2 x the median minute)"] = (
        max(p99s[1:] or p99s) <= 2 * median, f"median {median:.2f} ms, max {max(p99s):.2f} ms")
    checks["zero records lost"] = (result["lost"] == 0, f"{result['lost']} differences")
    result["checks"] = {k: {"ok": ok, "figure": fig} for k, (ok, fig) in checks.items()}
    return all(ok for ok, _ in checks.values())


def table(result):
    lines = [f"rate {result['rate']} req/s (saturation {result.get('saturation_rps', '-')})",
             "", "| minute | requests | 4xx (the log's own) | errors | 429 | p50 ms | p99 ms "
             "| max ms | serve RSS MiB | serve fds | serve threads | sync RSS MiB | sync fds "
             "| sync threads | events published |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
             "| --- |"]
    for m in result["minutes"]:
        e = m["errors"]
        lines.append(
            f"| {m['minute']} | {m['requests']} | {e['status_4xx']} | {bench_errors(m)} "
            f"| {m['rate_limited']:.0f} | {m['p50_ms']:.2f} "
            f"| {m['p99_ms']:.2f} | {m['max_ms']:.1f} | {m['serve']['rss_kb'] / 1024:.1f} "
            f"| {m['serve']['fds']} | {m['serve']['threads']} | {m['sync']['rss_kb'] / 1024:.1f} "
            f"| {m['sync']['fds']} | {m['sync']['threads']} | {m['events_published']} |")
    lines.append("")
    for name, c in result.get("checks", {}).items():
        lines.append(f"- {'PASS' if c['ok'] else 'FAIL'} {name}: {c['figure']}")
    lines.append(f"- records: {result.get('reconcile_total')}; publish {result.get('publish')}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
