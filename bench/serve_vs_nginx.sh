#!/usr/bin/env bash
# Serving benchmark: wrk against `tempo serve` for one hot URL (and, with a
# generated data set, for a rotation over its request log), then against
# nginx (Debian package, one worker, access log off, open_file_cache on)
# serving that exact response body as a static file, in the same run.
# Prints requests/s, p50/p99 latency and server CPU µs per request for each.
#
# usage: bench/serve_vs_nginx.sh [TEMPO_BINARY] [DURATION_S] [THREADS]
#   DATA=golden (default): ../shared/golden/data.ndjson and one demo URL
#   DATA=gen: `tempo gen --tenants 8 --modules 300` and its request log; the
#             hot URL is the log's most frequent request that answers 200
#   EXTRA_SERVE_ARGS: more flags for `tempo serve`
# Everything listens on 127.0.0.1 only and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
TEMPO=${1:-build/release/src/cli/tempo}
DURATION=${2:-10}
THREADS=${3:-1}
SHARED=${SHARED:-../shared}
DATA=${DATA:-golden}
TARGET=${TARGET:-"/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=homepage&pageId=home-b&t.segment=gold&visitorId=v-42"}
source bench/servers.sh

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

measure() {  # name pid url [wrk args...]
  local name=$1 pid=$2 url=$3
  shift 3
  wrk -t1 -c64 -d2s "$url" "$@" >/dev/null 2>&1  # warm-up
  local before after
  before=$(cpu_ticks "$pid")
  wrk -t1 -c64 -d"${DURATION}s" --latency "$url" "$@" >"$work/$name.wrk" 2>&1
  after=$(cpu_ticks "$pid")
  python3 - "$name" "$work/$name.wrk" "$before" "$after" "$(getconf CLK_TCK)" <<'PY'
import re, sys
name, path, before, after, hz = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
text = open(path).read()
rps = float(re.search(r"Requests/sec:\s*([\d.]+)", text).group(1))
total = int(re.search(r"(\d+) requests in", text).group(1))
def pct(p):
    m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)" % p, text)
    v, u = float(m.group(1)), m.group(2)
    return v * {"us": 0.001, "ms": 1, "s": 1000}[u]
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
cpu_us = (after - before) / hz * 1e6 / max(total, 1)
print(f"{name:7s} {rps:10.0f} req/s  p50 {pct(50):6.3f} ms  p99 {pct(99):6.3f} ms  "
      f"cpu {cpu_us:5.1f} us/req  non2xx {non2xx.group(1) if non2xx else 0}")
with open(path + ".rps", "w") as f: f.write(str(rps))
PY
}

echo "hot URL: $TARGET"
echo "body: $(wc -c <"$work/body.json") bytes; wrk -t1 -c64 -d${DURATION}s; tempo threads: $THREADS; $(nproc) cores"
measure tempo "$tempo_pid" "http://127.0.0.1:$tempo_port$TARGET"
if [ "$DATA" = gen ]; then
  measure rotate "$tempo_pid" "http://127.0.0.1:$tempo_port/" -s bench/rotate.lua -- "$work/requests.txt"
fi
measure nginx "$nginx_worker" "http://127.0.0.1:$nginx_port/layout.json"
python3 -c "import sys; t=float(open('$work/tempo.wrk.rps').read()); n=float(open('$work/nginx.wrk.rps').read()); print(f'ratio tempo/nginx: {t/n:.2f}')"
