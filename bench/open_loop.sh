#!/usr/bin/env bash
# Open-loop latency of `tempo serve` against nginx, with `tempo bench` (issue 19): first the
# saturation throughput of each target by `tempo bench` (a rate far above what any can serve)
# and by wrk on the same server, side by side; then p50/p99/p99.9 at 25 %, 50 %, 75 % and 90 % of
# tempo serve's measured saturation rate, for its hot URL and for a rotation over the
# generated request log, and for nginx serving the same body at the same rates.
# Prints a Markdown table (the figures of docs/benchmarks.md).
#
# usage: bench/open_loop.sh [TEMPO_BINARY] [DURATION_S] [THREADS]
#   CONNECTIONS (default 64): tempo bench's and wrk's connections, one thread each
#   ROUNDS (default 3): alternated saturation rounds of tempo bench and wrk (medians reported)
#   FRACTIONS (default "25 50 75 90"): the shares of the saturation rate measured (nginx-own:
#     nginx at that share of its own saturation, the machine's floor at that load)
#   EXTRA_SERVE_ARGS: more flags for `tempo serve`
# Data: `tempo gen --tenants 8 --modules 300` (bench/servers.sh, DATA=gen). Everything listens
# on 127.0.0.1 only and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
TEMPO=${1:-build/release/src/cli/tempo}
DURATION=${2:-10}
THREADS=${3:-1}
SHARED=${SHARED:-../shared}
DATA=gen
CONNECTIONS=${CONNECTIONS:-64}
ROUNDS=${ROUNDS:-3}
FRACTIONS=${FRACTIONS:-"25 50 75 90"}
TARGET=
source bench/servers.sh

tempo_url="http://127.0.0.1:$tempo_port"
nginx_url="http://127.0.0.1:$nginx_port"
log="$work/requests.txt"

field() {  # json-file python-expression-on-r
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"
}

bench() {  # name rate warmup (URL | --requests LOG --base URL)
  local name=$1 rate=$2 warmup=$3
  shift 3
  /usr/bin/time -f "%U %S" -o "$work/$name.cpu" "$TEMPO" bench "$@" --rate "$rate" \
    --duration "${DURATION}s" --warmup "$warmup" --connections "$CONNECTIONS" --threads 1 \
    --json "$work/$name.json" >"$work/$name.out" 2>&1
}

wrk_run() {  # name url [wrk args]: requests/s and requests in $work/NAME.wrk
  local name=$1
  shift
  /usr/bin/time -f "%U %S" -o "$work/$name.cpu" \
    wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$@" >"$work/$name.wrk" 2>&1
}

echo "hot URL: $TARGET; body $(wc -c <"$work/body.json") bytes; request log: $(wc -l <"$log") lines"
echo "tempo serve --threads $THREADS, nginx 1 worker; tempo bench and wrk: 1 thread, $CONNECTIONS connections, ${DURATION}s; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Saturation, $ROUNDS alternated rounds (tempo bench at --rate 10000000 and wrk): medians, and"
echo "each tool's own CPU (user + sys) per answer"
echo
echo "| target | tempo bench (req/s) | wrk (req/s) | bench / wrk | bench CPU/answer | wrk CPU/answer | runs (bench; wrk) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
declare -A saturation
for case in tempo-hot tempo-rotation nginx-hot; do
  case $case in
    tempo-hot) args=("$tempo_url$TARGET"); wrk_args=("$tempo_url$TARGET") ;;
    tempo-rotation) args=(--requests "$log" --base "$tempo_url")
                    wrk_args=("$tempo_url/" -s bench/rotate.lua -- "$log") ;;
    nginx-hot) args=("$nginx_url/layout.json"); wrk_args=("$nginx_url/layout.json") ;;
  esac
  for round in $(seq "$ROUNDS"); do  # odd rounds tempo bench first, even rounds wrk first
    if [ $((round % 2)) = 0 ]; then wrk_run "wrk-$case-$round" "${wrk_args[@]}"; fi
    bench "sat-$case-$round" 10000000 0s "${args[@]}"  # no warm-up: wrk has none
    if [ $((round % 2)) = 1 ]; then wrk_run "wrk-$case-$round" "${wrk_args[@]}"; fi
  done
  saturation[$case]=$(python3 - "$work" "$case" "$ROUNDS" "$DURATION" <<'PY'
import json, re, statistics, sys
work, case, rounds, duration = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
def cpu(name):
    u, s = open(f"{work}/{name}.cpu").read().split()[-2:]
    return float(u) + float(s)
b, w, bc, wc = [], [], [], []
for r in range(1, rounds + 1):
    rep = json.load(open(f"{work}/sat-{case}-{r}.json"))
    b.append(rep["achieved_rate"])
    bc.append(cpu(f"sat-{case}-{r}") / max(rep["requests"], 1))
    text = open(f"{work}/wrk-{case}-{r}.wrk").read()
    w.append(float(re.search(r"Requests/sec:\s*([\d.]+)", text).group(1)))
    wc.append(cpu(f"wrk-{case}-{r}") / int(re.search(r"(\d+) requests in", text).group(1)))
mb, mw = statistics.median(b), statistics.median(w)
print(f"| {case} | {mb:.0f} | {mw:.0f} | {mb / mw:.2f} | {statistics.median(bc) * 1e6:.2f} us "
      f"| {statistics.median(wc) * 1e6:.2f} us | {', '.join(f'{x:.0f}' for x in b)}; "
      f"{', '.join(f'{x:.0f}' for x in w)} |", file=sys.stderr)
print(f"{mb:.0f}")
PY
)
done 2>&1

echo
echo "| server, traffic | % of saturation | rate (req/s) | achieved | p50 (ms) | p99 (ms) | p99.9 (ms) | errors |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for fraction in $FRACTIONS; do
  for case in tempo-hot nginx-hot nginx-own tempo-rotation nginx-rotation; do
    case $case in
      tempo-hot) args=("$tempo_url$TARGET"); sat=${saturation[tempo-hot]} ;;
      nginx-hot) args=("$nginx_url/layout.json"); sat=${saturation[tempo-hot]} ;;
      # nginx at the same share of its own saturation: what this machine allows any server
      nginx-own) args=("$nginx_url/layout.json"); sat=${saturation[nginx-hot]} ;;
      tempo-rotation) args=(--requests "$log" --base "$tempo_url"); sat=${saturation[tempo-rotation]} ;;
      nginx-rotation) args=(--requests "$log" --base "$nginx_url"); sat=${saturation[tempo-rotation]} ;;
    esac
    rate=$(python3 -c "print(round($sat * $fraction / 100))")
    bench "$case-$fraction" "$rate" 2s "${args[@]}"
    field "$work/$case-$fraction.json" \
      "'| $case | $fraction | $rate | %.0f | %.3f | %.3f | %.3f | %d |' % (r['achieved_rate'], r['latency_us']['p50']/1000, r['latency_us']['p99']/1000, r['latency_us']['p99.9']/1000, sum(r['errors'][k] for k in ('connect','timeout','io','status_5xx')))"
  done
done
echo
echo "nginx-hot and nginx-rotation run at tempo's rates; nginx-own at the share of nginx's own"
echo "saturation (the machine's floor for that share of load)."
echo "errors: connect + timeout + io + 5xx (the log's lines built to fail answer 4xx by design)"
