#!/usr/bin/env bash
# TLS serving benchmark: wrk over HTTPS with keep-alive against `tempo serve
# --tls-cert ... --tls-key ...` for one hot URL, then against nginx (Debian
# package, one worker, access log off, open_file_cache on) terminating TLS
# with the same certificate and key and serving that exact response body as a
# static file, in the same run. The certificate (EC P-256, from a CA made
# here with the openssl command) and the TLS settings are the same on both
# sides: TLS 1.2 and 1.3, so both negotiate TLS 1.3 with wrk's OpenSSL.
# Prints requests/s, p50/p99 latency and server CPU µs per request for each,
# and the ratio (goal: tempo/nginx >= 0.8).
#
# usage: bench/tls_vs_nginx.sh [TEMPO_BINARY] [DURATION_S] [THREADS]
#   CONNECTIONS: wrk connections (default 64), each one TLS session kept alive
#   EXTRA_SERVE_ARGS: more flags for `tempo serve`
# Everything listens on 127.0.0.1 only and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
TEMPO=${1:-build/release/src/cli/tempo}
DURATION=${2:-10}
THREADS=${3:-1}
CONNECTIONS=${CONNECTIONS:-64}
SHARED=${SHARED:-../shared}
TARGET=${TARGET:-"/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=homepage&pageId=home-b&t.segment=gold&visitorId=v-42"}
work=$(mktemp -d /tmp/tempo-tls-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.2; rm -rf "$work"; }
trap cleanup EXIT

# A CA and a server certificate for 127.0.0.1.
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$work/ca.key" -out "$work/ca.pem" -days 2 \
  -subj "/CN=Bench CA" >/dev/null 2>&1
openssl req "${ec[@]}" -keyout "$work/server.key" -out "$work/server.csr" \
  -subj "/CN=127.0.0.1" >/dev/null 2>&1
echo "subjectAltName=IP:127.0.0.1" >"$work/server.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
  -CAcreateserial -days 2 -out "$work/server.pem" -extfile "$work/server.ext" >/dev/null 2>&1

"$TEMPO" import --store "$work/store" "$SHARED/golden/data.ndjson" >/dev/null 2>&1
"$TEMPO" serve --store "$work/store" --listen 127.0.0.1:0 --threads "$THREADS" \
  --tls-cert "$work/server.pem" --tls-key "$work/server.key" \
  ${EXTRA_SERVE_ARGS:-} >"$work/serve.out" 2>&1 &
tempo_pid=$!; pids+=("$tempo_pid")
for _ in $(seq 100); do grep -q listening "$work/serve.out" && break; sleep 0.1; done
tempo_port=$(grep -o '127.0.0.1:[0-9]*' "$work/serve.out" | head -1 | cut -d: -f2)
curl -sf --cacert "$work/ca.pem" "https://127.0.0.1:$tempo_port$TARGET" -o "$work/body.json"

nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx/www"
cp "$work/body.json" "$work/nginx/www/layout.json"
chmod -R a+rX "$work"  # nginx workers run as www-data
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  open_file_cache max=100 inactive=60s;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nginx_port ssl;
    ssl_certificate $work/server.pem;
    ssl_certificate_key $work/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { root $work/nginx/www; default_type application/json; try_files /layout.json =404; }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_master=$!; pids+=("$nginx_master")
for _ in $(seq 100); do
  curl -sf --cacert "$work/ca.pem" "https://127.0.0.1:$nginx_port/x" -o /dev/null && break
  sleep 0.1
done
nginx_worker=$(pgrep -P "$nginx_master" | head -1)
cmp -s "$work/body.json" <(curl -sf --cacert "$work/ca.pem" "https://127.0.0.1:$nginx_port/x") ||
  { echo "nginx does not serve the same body" >&2; exit 1; }
tls_version() { echo | openssl s_client -connect "127.0.0.1:$1" 2>/dev/null | grep -m1 -o 'TLSv1\.[23]'; }

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

measure() {  # name pid url
  local name=$1 pid=$2 url=$3
  wrk -t1 -c"$CONNECTIONS" -d2s "$url" >/dev/null 2>&1  # warm-up
  local before after
  before=$(cpu_ticks "$pid")
  wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$url" >"$work/$name.wrk" 2>&1
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
errors = re.search(r"Socket errors: (.*)", text)
cpu_us = (after - before) / hz * 1e6 / max(total, 1)
print(f"{name:7s} {rps:10.0f} req/s  p50 {pct(50):6.3f} ms  p99 {pct(99):6.3f} ms  "
      f"cpu {cpu_us:5.1f} us/req  non2xx {non2xx.group(1) if non2xx else 0}"
      + (f"  socket errors: {errors.group(1)}" if errors else ""))
with open(path + ".rps", "w") as f: f.write(str(rps))
PY
}

echo "hot URL over TLS: $TARGET"
echo "body: $(wc -c <"$work/body.json") bytes; tempo $(tls_version "$tempo_port"), nginx $(tls_version "$nginx_port"); wrk -t1 -c$CONNECTIONS -d${DURATION}s (keep-alive); tempo threads: $THREADS; $(nproc) cores"
measure tempo "$tempo_pid" "https://127.0.0.1:$tempo_port$TARGET"
measure nginx "$nginx_worker" "https://127.0.0.1:$nginx_port/layout.json"
python3 -c "import sys; t=float(open('$work/tempo.wrk.rps').read()); n=float(open('$work/nginx.wrk.rps').read()); print(f'ratio tempo/nginx: {t/n:.2f} (goal >= 0.8)')"
