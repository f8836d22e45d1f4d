#!/usr/bin/env python3
"""Hot-URL throughput of `tempo serve` variants, alternated: what a feature costs.

Each variant is a tempo binary and extra `serve` flags. Every round runs every
variant once (a fresh server on the golden data, one serving thread, a wrk
warm-up, then `wrk -t1 -c64 -d{seconds}s` on the hot URL), so slow drifts of
the machine hit all variants alike. Prints each run, then per variant the
median requests/s and its ratio to the first variant.

usage: bench/serve_ab.py --variant NAME=BINARY[:FLAGS] --variant ... [--rounds N] [--seconds S]
  e.g. --variant before=/tmp/x/main/build/release/src/cli/tempo
       --variant after=build/release/src/cli/tempo
       --variant "access-log=build/release/src/cli/tempo:--access-log /tmp/a.log"
Everything listens on 127.0.0.1 only and is stopped at the end.
"""
import argparse
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("SHARED", os.path.join(HERE, "..", "..", "shared"))
TARGET = ("/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=homepage&pageId=home-b"
          "&t.segment=gold&visitorId=v-42")


def cpu_seconds(pid):
    """User and system CPU of a process, all its threads."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_variant(binary, flags, store, seconds, scratch):
    cmd = [binary, "serve", "--store", store, "--listen", "127.0.0.1:0", "--threads", "1",
           "--admin-listen", "off", *flags]
    with open(os.path.join(scratch, "serve.err"), "w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        try:
            line = proc.stdout.readline()
            m = re.search(r"https?://127\.0\.0\.1:(\d+)", line)
            if not m:
                raise RuntimeError(f"serve did not start: {line!r}")
            url = f"http://127.0.0.1:{m.group(1)}{TARGET}"
            subprocess.run(["wrk", "-t1", "-c64", "-d1s", url], capture_output=True, check=True)
            before = cpu_seconds(proc.pid)
            out = subprocess.run(["wrk", "-t1", "-c64", f"-d{seconds}s", url],
                                 capture_output=True, text=True, check=True).stdout
            used = cpu_seconds(proc.pid) - before
            if "Non-2xx" in out:
                raise RuntimeError("non-2xx answers:\n" + out)
            requests = int(re.search(r"(\d+) requests in", out).group(1))
            return (float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1)),
                    used * 1e6 / max(requests, 1))
        finally:
            proc.send_signal(signal.SIGINT)  # at once, without a drain
            proc.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", action="append", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5)
    args = ap.parse_args()
    variants = []
    for v in args.variant:
        name, _, rest = v.partition("=")
        binary, _, flags = rest.partition(":")
        variants.append((name, os.path.abspath(binary), shlex.split(flags)))
    scratch = tempfile.mkdtemp(prefix="tempo-serve-ab-")
    try:
        store = os.path.join(scratch, "store")
        subprocess.run([variants[0][1], "import", "--store", store,
                        os.path.join(SHARED, "golden", "data.ndjson")],
                       capture_output=True, check=True)
        results = {name: [] for name, _, _ in variants}
        cpu = {name: [] for name, _, _ in variants}
        for r in range(args.rounds):
            for name, binary, flags in variants:
                rps, cpu_us = run_variant(binary, flags, store, args.seconds, scratch)
                results[name].append(rps)
                cpu[name].append(cpu_us)
                print(f"round {r + 1} {name:12s} {rps:10.0f} req/s  {cpu_us:5.2f} us CPU/req",
                      flush=True)
                for path in flags:
                    if path.startswith("/tmp/") and os.path.isfile(path):
                        os.remove(path)  # an access log: start each run empty
                time.sleep(0.5)
        base = statistics.median(results[variants[0][0]])
        for name, _, _ in variants:
            med = statistics.median(results[name])
            print(f"{name:12s} median {med:10.0f} req/s  ratio {med / base:.3f}  "
                  f"CPU {statistics.median(cpu[name]):.2f} us/req  "
                  f"(runs: {', '.join(f'{x:.0f}' for x in results[name])})")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
