# Sourced by the serving benchmarks (serve_vs_nginx.sh, open_loop.sh), from the repository root:
# imports a data set, starts `tempo serve` and nginx (Debian package, one worker, access log
# off, open_file_cache on) serving the exact response body of the hot URL as a static file,
# on 127.0.0.1 only, and stops both on exit.
#   in:  TEMPO, THREADS (tempo serve --threads), SHARED, TARGET (the hot URL), EXTRA_SERVE_ARGS,
#        DATA=golden: SHARED/golden/data.ndjson and TARGET
#        DATA=gen: `tempo gen --tenants 8 --modules 300` and its request log; TARGET becomes
#                  the log's most frequent request that answers 200
#   out: work (a temporary folder, removed on exit; $work/requests.txt with DATA=gen),
#        tempo_pid, tempo_port, TARGET, $work/body.json, nginx_port, nginx_master, nginx_worker
work=$(mktemp -d /tmp/tempo-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.2; rm -rf "$work"; }
trap cleanup EXIT

if [ "$DATA" = gen ]; then
  "$TEMPO" gen --seed 1 --tenants 8 --modules 300 --out "$work/events.ndjson" \
    --requests 20000 --requests-out "$work/requests.txt" 2>/dev/null
  "$TEMPO" import --store "$work/store" "$work/events.ndjson" >/dev/null 2>&1
else
  "$TEMPO" import --store "$work/store" "$SHARED/golden/data.ndjson" >/dev/null 2>&1
fi
"$TEMPO" serve --store "$work/store" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
  --threads "$THREADS" \
  ${EXTRA_SERVE_ARGS:-} >"$work/serve.out" 2>&1 &
tempo_pid=$!; pids+=("$tempo_pid")
for _ in $(seq 100); do grep -q listening "$work/serve.out" && break; sleep 0.1; done
tempo_port=$(grep -o '127.0.0.1:[0-9]*' "$work/serve.out" | head -1 | cut -d: -f2)
if [ "$DATA" = gen ]; then
  TARGET=""
  while read -r _ candidate; do
    if curl -sf "http://127.0.0.1:$tempo_port$candidate" -o /dev/null; then TARGET=$candidate; break; fi
  done < <(sort "$work/requests.txt" | uniq -c | sort -rn | head -50)
fi
curl -sf "http://127.0.0.1:$tempo_port$TARGET" -o "$work/body.json"

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
  server {
    listen 127.0.0.1:$nginx_port;
    location / { root $work/nginx/www; default_type application/json; try_files /layout.json =404; }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_master=$!; pids+=("$nginx_master")
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$nginx_port/x" -o /dev/null && break; sleep 0.1; done
nginx_worker=$(pgrep -P "$nginx_master" | head -1)

