#!/usr/bin/env python3
"""The fault matrix of issue 19 §3 against real processes (docs/reliability.md, "Fault matrix").

Each row starts a fresh system (bench/fault_rig.py: three memcached nodes, `tempo dev-kafka`, the
origin store, `tempo sync`, `tempo serve`), a publish stream of --events-per-s events a second
through `tempo publish`, and `tempo bench` on a request log at --rate; then, in three back-to-back
`tempo bench` runs: --before-s of normal running, --fault-s with the fault, --after-s after it
ends. It reports per row the requests that failed (tempo bench's errors, and the serve's own
count of 5xx by status), p99 before and during the fault, the time to recover (from the end of
the fault until a marker event published at that moment is served by `tempo serve`: the whole
write and read path works again), and the records lost (`tempo reconcile` of the store against
a reference store imported from exactly the events published, after sync has caught up).

  l2-kill       one memcached node SIGKILLed; restarted (empty) on its port at the fault's end
  l2-pause      one memcached node SIGSTOPped; SIGCONT at the end
  pg-stop       PostgreSQL stopped (immediate); restarted at the end
  pg-pause      PostgreSQL and its backends SIGSTOPped; SIGCONT at the end
  kafka-down    every mock broker down (dev-kafka SIGUSR1); back up (SIGUSR2) at the end
  sync-kill     a backlog burst, then `tempo sync` SIGKILLed mid-batch; restarted at the end
  disk-full     the RocksDB store on a small tmpfs, filled up; the filler removed at the end
  corrupt-l2    every L2 value of the hot pages overwritten with garbage, on every node

usage: bench/faults.py TEMPO_BINARY SHARED_DIR [--only ROW,...] [--rate R] [--json FILE]
Everything listens on 127.0.0.1 and is stopped at the end, even on failure. disk-full mounts a
tmpfs: as root directly, otherwise inside `unshare -r -m` (a user namespace) if the kernel lets
unprivileged users have one; the row says so when neither works.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fault_rig  # noqa: E402
from fault_rig import Rig, bench, tempo, load_events, responses_by_code  # noqa: E402
from tiers_e2e_test import MEMCACHED, PgCluster, l2_key  # noqa: E402

ROWS = ["l2-kill", "l2-pause", "pg-stop", "pg-pause", "kafka-down", "sync-kill", "disk-full",
        "corrupt-l2"]
# Non-default serve settings, the same in every row: a short L1 TTL so that L2 and the origin
# are read all the time (with the default 30 s, a 6 s fault would meet only L1).
SERVE_ARGS = ["--l1-ttl-ms", "1000"]
# On a loaded 2-core box the defaults (--deadline-ms 50, --l2-timeout-ms 5) give 503s and L2
# suspensions with no fault at all (7 of 1200 requests in one run); rows are measured with
# these unless --default-timeouts, so that what a row shows is its fault's.
RELAXED_TIMEOUTS = ["--deadline-ms", "500", "--l2-timeout-ms", "50"]
INITIAL_EVENTS = 3000     # imported before the run (store and reference)
SYNC_KILL_BURST = 3000    # the backlog sync is killed in the middle of
DISK_TMPFS_MB = 48
REQUESTS = 5000           # lines of the request log
DISK_FULL_WAIT_S = 20     # how long disk-full waits for sync to resume on its own


def restart_memcached(node):
    args = [MEMCACHED, "-l", "127.0.0.1", "-p", str(node.port), "-U", "0", "-m", "64", "-t", "2"]
    if os.geteuid() == 0:
        args += ["-u", "root"]
    node.proc.stderr.close()
    node.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    fault_rig.wait_for(lambda: _alive(node), "memcached restart", 10)


def _alive(node):
    try:
        return node.command(b"version\r\n").startswith(b"VERSION")
    except OSError:
        return False


def hot_keys(requests_file):
    """The L2 keys of the type slices the request log reads (SPEC §8), deduplicated."""
    keys = set()
    with open(requests_file) as f:
        for line in f:
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(line.strip()).query)
            if all(k in q for k in ("tenant", "channel", "pageType")):
                try:
                    keys.add(l2_key("faults", q["tenant"][0], q["channel"][0], q["pageType"][0],
                                    "*"))
                except AssertionError:
                    pass
    return sorted(keys)


GARBAGE = b"\x00garbage, not a tempo value\xff"


def corrupt(nodes, keys):
    done = 0
    for node in nodes:
        for key in keys:
            node.set(key, GARBAGE)
            done += 1
    return done


def corrupt_left(nodes, keys):
    return sum(1 for n in nodes for k in keys if n.get(k) == GARBAGE)


class Fault:
    """What one row does to the system: start() at the fault, end() at its end."""

    def __init__(self, name, rig, args):
        self.name, self.rig, self.args = name, rig, args
        self.note = ""

    def start(self):
        r, name = self.rig, self.name
        if name == "l2-kill":
            r.nodes[0].proc.send_signal(signal.SIGKILL)
            r.nodes[0].proc.wait(timeout=10)
        elif name == "l2-pause":
            r.nodes[0].proc.send_signal(signal.SIGSTOP)
        elif name == "pg-stop":
            r.pg.stop_immediate()
        elif name == "pg-pause":
            r.pg.pause()
        elif name == "kafka-down":
            r.kafka.send(signal.SIGUSR1)
        elif name == "sync-kill":
            r.publisher.burst(SYNC_KILL_BURST)
            before = fault_rig.metrics(r.sync_admin)
            time.sleep(0.3)
            after = fault_rig.metrics(r.sync_admin)
            r.sync.proc.send_signal(signal.SIGKILL)
            r.sync.proc.wait(timeout=10)
            applied = {k: v for k, v in after.items() if k.startswith("tempo_sync_events")}
            self.note = f"killed during the {SYNC_KILL_BURST}-event burst ({applied or before})"
        elif name == "disk-full":
            self.filler = os.path.join(self.args.disk_dir, "filler")
            fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                while True:  # up to the last block
                    os.write(fd, b"\0" * 65536)
            except OSError:
                pass  # ENOSPC: full
            finally:
                os.close(fd)
            st = os.statvfs(self.args.disk_dir)
            self.note = f"tmpfs {DISK_TMPFS_MB} MiB, {st.f_bavail * st.f_frsize} bytes left"
        elif name == "corrupt-l2":
            self.keys = hot_keys(self.args.requests)
            self.corrupted = corrupt(r.nodes, self.keys)

    def end(self):
        r, name = self.rig, self.name
        if name == "l2-kill":
            restart_memcached(r.nodes[0])
        elif name == "l2-pause":
            r.nodes[0].proc.send_signal(signal.SIGCONT)
        elif name == "pg-stop":
            r.pg.restart()
        elif name == "pg-pause":
            r.pg.resume()
        elif name == "kafka-down":
            r.kafka.send(signal.SIGUSR2)
        elif name == "sync-kill":
            r.procs.remove(r.sync)
            r.sync.stop()
            r.start_sync()
        elif name == "disk-full":
            os.unlink(self.filler)
        elif name == "corrupt-l2":
            left = corrupt_left(r.nodes, self.keys)
            self.note = (f"{self.corrupted} values corrupted ({len(self.keys)} keys x 3 nodes); "
                         f"{left} still garbage at the fault's end")


def run_row(name, args, pg, events, tmp):
    row = {"row": name}
    store = "pg"
    if name == "disk-full":
        store = os.path.join(args.disk_dir, "store")
    timeouts = [] if args.default_timeouts else RELAXED_TIMEOUTS
    extra = ["--access-log", os.path.join(tmp, "access.log")] if args.access_log else []
    kafka = [a for p in args.kafka_property for a in ("--kafka-property", p)]
    rig = Rig(tmp, store, events[:INITIAL_EVENTS], pg=pg,
              serve_args=SERVE_ARGS + timeouts + extra + kafka,
              sync_args=timeouts[2:] + kafka, publish_args=kafka)
    try:
        fault = Fault(name, rig, args)
        out = lambda phase: os.path.join(tmp, f"bench-{phase}.json")  # noqa: E731
        # One pass over the request log fills L1 and L2.
        bench(rig.port, args.requests, 1000, REQUESTS // 1000 + 1, out("warm"),
              args.connections)
        rig.publish(events[INITIAL_EVENTS:], args.events_per_s)
        normal = MarkerProbe(rig, time.monotonic(), 30)
        row["propagation_s"] = normal.result()  # a marker's way through, without a fault
        codes0 = responses_by_code(rig.admin)
        before = bench(rig.port, args.requests, args.rate, args.before_s, out("before"),
                       args.connections)
        fault.start()
        during = bench(rig.port, args.requests, args.rate, args.fault_s, out("during"),
                       args.connections)
        fault.end()
        ended = time.monotonic()
        wait_s = DISK_FULL_WAIT_S if name == "disk-full" else args.recover_timeout_s
        probe = MarkerProbe(rig, ended, wait_s)
        after = bench(rig.port, args.requests, args.rate, args.after_s, out("after"),
                      args.connections)
        row["recover_s"] = probe.result()
        if row["recover_s"] is None and name == "disk-full":
            # What an operator does: restart sync (it resumes from its committed offsets).
            fault.note += f"; sync had not resumed {DISK_FULL_WAIT_S} s after, restarted"
            rig.procs.remove(rig.sync)
            row["sync_exit_on_restart"] = rig.sync.stop()
            rig.start_sync()
            row["recover_s"] = MarkerProbe(rig, ended, args.recover_timeout_s).result()
        codes1 = responses_by_code(rig.admin)
        lost, total, (publish_rc, publish_out), waited = rig.lost_records()
        phases = {"before": before, "during": during, "after": after}
        row.update({
            "phases": {k: {"requests": v["requests"], "errors": v["errors"],
                           "p99_ms": v["p99_ms"], "max_ms": v["max_ms"],
                           "achieved_rate": v["achieved_rate"]} for k, v in phases.items()},
            "serve_codes": {c: codes1.get(c, 0) - codes0.get(c, 0) for c in codes1
                            if codes1.get(c, 0) != codes0.get(c, 0)},
            "lost": lost, "reconcile_total": total, "publish": [publish_rc, publish_out],
            "settle_s": waited, "note": fault.note, "events_published":
            len(rig.publisher.written),
        })
        if name == "corrupt-l2":
            row["corrupt_left_after"] = corrupt_left(rig.nodes, fault.keys)
    finally:
        rig.close()
    for p in rig.procs:
        row.setdefault("logs", {})[os.path.basename(p.log_path)] = p.err()[-1500:]
    return row


class MarkerProbe:
    """Publishes a marker now and polls the serve for it on a thread: result() is the time from
    `since` until it showed, None if it did not within `timeout` seconds."""

    def __init__(self, rig, since, timeout):
        self.rig, self.since, self.timeout = rig, since, timeout
        self.seen = None
        self.text = rig.publisher.marker()
        self.thread = threading.Thread(target=self.poll, daemon=True)
        self.thread.start()

    def poll(self):
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.rig.marker_visible(self.text):
                self.seen = time.monotonic() - self.since
                return
            time.sleep(0.05)

    def result(self):
        self.thread.join(timeout=self.timeout + 5)
        return self.seen


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tempo")
    parser.add_argument("shared")
    parser.add_argument("--only", default=",".join(ROWS))
    parser.add_argument("--rate", type=int, default=400, help="tempo bench requests/s")
    parser.add_argument("--events-per-s", type=int, default=100)
    parser.add_argument("--before-s", type=int, default=3)
    parser.add_argument("--fault-s", type=int, default=6)
    parser.add_argument("--after-s", type=int, default=6)
    parser.add_argument("--recover-timeout-s", type=int, default=90)
    parser.add_argument("--json", help="write the rows here")
    parser.add_argument("--default-timeouts", action="store_true",
                        help="serve and sync with their default deadline and L2 timeout")
    parser.add_argument("--connections", type=int, default=64,
                        help="tempo bench's connections (each has one request in flight)")
    parser.add_argument("--access-log", action="store_true",
                        help="serve writes an access log (kept with --keep)")
    parser.add_argument("--kafka-property", action="append", default=[],
                        help="KEY=VALUE for the Kafka clients of sync, serve and publish")
    parser.add_argument("--keep", help="copy each row's directory (logs, JSON) here")
    args = parser.parse_args()
    fault_rig.TEMPO = os.path.abspath(args.tempo)
    rows = [r for r in args.only.split(",") if r]
    results = []
    with tempfile.TemporaryDirectory(prefix="tempo-faults-") as tmp:
        events_file = os.path.join(tmp, "events.ndjson")
        args.requests = os.path.join(tmp, "requests.log")
        tempo(["gen", "--seed", "19", "--tenants", "4", "--modules", "4000", "--out",
               events_file, "--requests", str(REQUESTS), "--requests-out", args.requests])
        events = load_events(events_file)
        pg = PgCluster() if any(r != "disk-full" for r in rows) else None
        try:
            for name in rows:
                row_tmp = os.path.join(tmp, name)
                os.makedirs(row_tmp)
                started = time.monotonic()
                print(f"== {name}", file=sys.stderr, flush=True)
                try:
                    if name == "disk-full":
                        row = disk_full_row(args, pg, events, row_tmp)
                    else:
                        row = run_row(name, args, pg, events, row_tmp)
                except Exception as e:  # the row failed: say how, go on with the next
                    row = {"row": name, "failed": f"{e!r}", "trace": traceback.format_exc()}
                row["wall_s"] = time.monotonic() - started
                if args.keep:
                    shutil.copytree(row_tmp, os.path.join(args.keep, name), dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns("disk", "reference", "store"))
                results.append(row)
                print(summary(row), flush=True)
        finally:
            if pg:
                pg.destroy()
    print(table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


def disk_full_row(args, pg, events, tmp):
    mnt = os.path.join(tmp, "disk")
    os.makedirs(mnt)
    if os.geteuid() == 0:
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_TMPFS_MB}m", "tmpfs", mnt],
                           capture_output=True, text=True)
        if p.returncode != 0:
            return {"row": "disk-full", "failed": "mount -t tmpfs as root: " + p.stderr.strip()}
        try:
            args.disk_dir = mnt
            return run_row("disk-full", args, pg, events, tmp)
        finally:
            subprocess.run(["umount", "-l", mnt], capture_output=True)
    # Not root: the row in a user and mount namespace of its own, where we are root and may
    # mount a tmpfs (the run below takes the branch above).
    out = os.path.join(tmp, "row.json")
    command = [sys.executable, os.path.abspath(__file__), args.tempo, args.shared, "--only",
               "disk-full", "--json", out, "--rate", str(args.rate), "--connections",
               str(args.connections)] + [a for p in args.kafka_property
                                         for a in ("--kafka-property", p)]
    if args.default_timeouts:
        command.append("--default-timeouts")
    p = subprocess.run(["unshare", "-r", "-m"] + command, capture_output=True, text=True,
                       timeout=600)
    if p.returncode != 0 or not os.path.exists(out):
        return {"row": "disk-full", "failed": "no tmpfs: not root, and `unshare -r -m` (a user "
                "namespace) failed: " + p.stderr.strip()[-500:]}
    with open(out) as f:
        return json.load(f)[0]


def errors_text(phase):
    e = phase["errors"]
    parts = [f"{k} {v}" for k, v in e.items() if v]
    return ", ".join(parts) or "0"


def summary(row):
    if "failed" in row:
        return f"{row['row']}: FAILED {row['failed']}\n{row.get('trace', '')}"
    ph = row["phases"]
    return (f"{row['row']}: errors before {errors_text(ph['before'])}, during "
            f"{errors_text(ph['during'])}, after {errors_text(ph['after'])}; serve codes "
            f"{row['serve_codes']}; p99 before {ph['before']['p99_ms']:.1f} ms, during "
            f"{ph['during']['p99_ms']:.1f} ms, after {ph['after']['p99_ms']:.1f} ms; recover "
            f"{row['recover_s']}; lost {row['lost']} ({row['reconcile_total']}); publish "
            f"{row['publish']}; {row['events_published']} events; note {row['note']}")


def table(rows):
    lines = ["| fault | requests (during) | failed before / during / after (tempo bench) "
             "| serve 5xx | p99 before / during ms | time to recover s | records lost |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        if "failed" in row:
            lines.append(f"| {row['row']} | not measured: {row['failed'][:200]} | | | | | |")
            continue
        ph = row["phases"]
        fivexx = {c: int(v) for c, v in row["serve_codes"].items() if c.startswith("5")}
        rec = "never" if row["recover_s"] is None else f"{row['recover_s']:.2f}"
        lines.append(
            f"| {row['row']} | {ph['during']['requests']} | {errors_text(ph['before'])} / "
            f"{errors_text(ph['during'])} / {errors_text(ph['after'])} | {fivexx or 0} | "
            f"{ph['before']['p99_ms']:.1f} / {ph['during']['p99_ms']:.1f} | {rec} | "
            f"{row['lost']} of {row['reconcile_total']['records_a']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
