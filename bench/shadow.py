#!/usr/bin/env python3
"""Shadow compare benchmarks (issue 14 §2; figures in docs/benchmarks.md).

usage: bench/shadow.py [TEMPO_BINARY] [--shared DIR] [--duration S] [--only receiver|sender]

receiver: how many items a `tempo serve` compares per second on ONE core.
  The server is pinned to CPU 1 (taskset) with one comparing thread; this
  script posts the golden cases (the exact answers of an independent
  implementation, so every item is compared in full and matches) in NDJSON
  posts of 2 000 items from CPU 0, and times from the first post until
  /admin/shadow has counted every item.
sender: hot-URL throughput (wrk, 1 thread, 64 connections) of a `tempo serve`
  without shadowing, then with --shadow-to at --shadow-sample 1, against
  (a) a real `tempo serve` receiving, and (b) nginx answering 202 to every
  post (the sender's own cost, without the receiver's CPU on this machine).
Everything listens on 127.0.0.1 and is stopped at the end.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HOT = "/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=homepage&pageId=home-b&t.segment=gold&visitorId=v-42"


def start_serve(tempo, store, *extra, cpus=None):
    cmd = [tempo, "serve", "--drain-ms", "0", "--store", store, "--listen", "127.0.0.1:0",
           "--admin-listen", "127.0.0.1:0", *extra]
    if cpus is not None:
        cmd = ["taskset", "-c", cpus] + cmd
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = int(re.search(r"127\.0\.0\.1:(\d+)", proc.stdout.readline()).group(1))
    admin = int(re.search(r"admin on port (\d+)", proc.stdout.readline()).group(1))
    return proc, port, admin


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def request(port, method, target, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request(method, target, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def golden_items(shared):
    items = []
    with open(os.path.join(shared, "golden", "cases.ndjson")) as f:
        for line in f:
            case = json.loads(line)
            path = case["target"].split("?", 1)[0]
            if case["method"] == "GET" and path.endswith("/tempo/layouts") and "body" in case:
                items.append(json.dumps({"target": case["target"], "status": case["status"],
                                         "body": json.dumps(case["body"], ensure_ascii=False)},
                                        ensure_ascii=False) + "\n")
    return items


def bench_receiver(tempo, store, shared, rounds):
    os.sched_setaffinity(0, {0})
    items = golden_items(shared)
    total = len(items) * rounds
    proc, _, admin = start_serve(tempo, store, "--threads", "1", "--shadow-threads", "1",
                                 "--shadow-queue", str(total), cpus="1")
    try:
        posts = []
        for r in range(rounds):
            for i in range(0, len(items), 2000):
                posts.append("".join(items[i:i + 2000]).encode())
        bytes_posted = sum(len(p) for p in posts)
        start = time.monotonic()
        for p in posts:
            status, data = request(admin, "POST", "/internal/shadow", p,
                                   {"Content-Type": "application/x-ndjson"})
            assert status == 202, data
        while True:
            doc = json.loads(request(admin, "GET", "/admin/shadow")[1])
            if sum(doc["counts"].values()) >= total:
                break
            time.sleep(0.01)
        elapsed = time.monotonic() - start
        print(f"receiver (1 core, 1 comparing thread): {total} items "
              f"({bytes_posted / total:.0f} B each) in {elapsed:.2f} s = "
              f"{total / elapsed:,.0f} items/s; counts {doc['counts']}")
    finally:
        stop(proc)


def wrk(port, duration):
    subprocess.run(["wrk", "-t1", "-c64", "-d2s", f"http://127.0.0.1:{port}{HOT}"],
                   capture_output=True)  # warm-up
    out = subprocess.run(["wrk", "-t1", "-c64", f"-d{duration}s", "--latency",
                          f"http://127.0.0.1:{port}{HOT}"], capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+(\S+)", out).group(1)
    return rps, p99


def nginx_sink(work):
    port = free_port()
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1; daemon off; pid {work}/nginx.pid; error_log {work}/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; client_body_temp_path {work}; proxy_temp_path {work};
  fastcgi_temp_path {work}; uwsgi_temp_path {work}; scgi_temp_path {work};
  server {{ listen 127.0.0.1:{port}; client_max_body_size 64m; client_body_buffer_size 2m;
    location / {{ return 202 '{{"accepted":0,"rejected":0,"dropped":0}}'; }} }} }}
""")
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", work], stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            request(port, "GET", "/")
            break
        except OSError:
            time.sleep(0.05)
    return proc, port


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sent_counts(admin):
    m = request(admin, "GET", "/metrics")[1].decode()
    return {k: int(v) for k, v in re.findall(r'tempo_shadow_sent_total\{result="(\w+)"\} (\d+)', m)}


def bench_sender(tempo, store, work, duration, extra):
    rows = []
    base, port, _ = start_serve(tempo, store, "--threads", "2")
    try:
        rows.append(("no shadowing", *wrk(port, duration), ""))
    finally:
        stop(base)
    receiver, _, receiver_admin = start_serve(tempo, store, "--threads", "1")
    try:
        sender, port, admin = start_serve(tempo, store, "--threads", "2", "--shadow-to",
                                          f"http://127.0.0.1:{receiver_admin}",
                                          "--shadow-sample", "1", *extra)
        try:
            rps, p99 = wrk(port, duration)
            rows.append(("--shadow-sample 1 to tempo serve", rps, p99, sent_counts(admin)))
        finally:
            stop(sender)
    finally:
        stop(receiver)
    sink, sink_port = nginx_sink(work)
    try:
        sender, port, admin = start_serve(tempo, store, "--threads", "2", "--shadow-to",
                                          f"http://127.0.0.1:{sink_port}", "--shadow-sample", "1",
                                          *extra)
        try:
            rps, p99 = wrk(port, duration)
            rows.append(("--shadow-sample 1 to an nginx sink", rps, p99, sent_counts(admin)))
        finally:
            stop(sender)
    finally:
        sink.terminate()
        sink.wait()
    base_rps = rows[0][1]
    for name, rps, p99, counts in rows:
        print(f"sender: {name:36s} {rps:>10,.0f} req/s ({rps / base_rps:.2f}x)  p99 {p99:>8s}  "
              f"{counts}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tempo", nargs="?", default="build/release/src/cli/tempo")
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=40, help="receiver: golden cases posted N times")
    ap.add_argument("--only", choices=["receiver", "sender"])
    ap.add_argument("--sender-args", default="", help="more flags for the sending tempo serve")
    args = ap.parse_args()
    tempo = os.path.abspath(args.tempo)
    work = tempfile.mkdtemp(prefix="tempo-shadow-bench-")
    try:
        store = os.path.join(work, "store")
        subprocess.run([tempo, "import", "--store", store,
                        os.path.join(args.shared, "golden", "data.ndjson")],
                       check=True, capture_output=True)
        if args.only in (None, "receiver"):
            bench_receiver(tempo, store, args.shared, args.rounds)
        if args.only in (None, "sender"):
            os.sched_setaffinity(0, set(range(os.cpu_count())))
            bench_sender(tempo, store, work, args.duration, args.sender_args.split())
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
