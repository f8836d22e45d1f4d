#!/usr/bin/env bash
# Reconciliation benchmark (issue 14 §3): ~1 M records made by `tempo gen`, imported into a
# RocksDB store and into a throw-away PostgreSQL cluster; one content byte of one record is
# flipped in PostgreSQL with an SQL UPDATE; then `tempo reconcile --a ROCKSDB --b POSTGRES
# --threshold 0` is timed under /usr/bin/time -v, and must exit 3 (one difference in 1 M records
# is a drift of 1e-6, under the default 0.1 %) naming exactly that record. Prints the wall
# time, CPU time and peak RSS of the reconcile (the set-up is timed apart, not counted).
#
# usage: bench/reconcile_bench.sh [TEMPO_BINARY] [TENANTS] [MODULES_PER_TENANT]
#   defaults: build/release/src/cli/tempo 10 100000: 1 000 512 records (973 127 live),
#   from ~1 GB of events
#   PG_BIN: PostgreSQL's bin directory (default: the newest /usr/lib/postgresql/*/bin)
#   KEEP=1: leave the data in /tmp for more runs (the directory is printed)
# PostgreSQL listens on 127.0.0.1 only (no Unix socket), runs as `nobody` when this script runs
# as root, and is stopped (and everything removed) at the end, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
TEMPO=$(realpath "${1:-build/release/src/cli/tempo}")
TENANTS=${2:-10}
MODULES=${3:-100000}
PG_BIN=${PG_BIN:-$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)}

work=$(mktemp -d /tmp/tempo-reconcile-bench.XXXXXX)
chmod 755 "$work"
as_pg=()
if [ "$(id -u)" = 0 ]; then  # PostgreSQL refuses to run as root
  as_pg=(runuser -u nobody --)
  mkdir "$work/pg" && chown nobody "$work/pg"
else
  mkdir "$work/pg"
fi
cleanup() {
  "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" = 1 ]; then echo "data kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

step() { printf '%-50s ' "$1"; }
timed() { local t0=$SECONDS; "$@"; echo "$((SECONDS - t0)) s"; }

port=$(python3 -c \
  'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# Durability off: the benchmark times reads; the data is thrown away.
pg_settings="-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories="
pg_settings+=" -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
step "postgres: initdb and start on port $port"
timed "${as_pg[@]}" bash -c "
  '$PG_BIN/initdb' -D '$work/pg/data' -A trust -U tempo --no-sync -E UTF8 --locale=C \
    >'$work/pg/initdb.log' 2>&1 &&
  '$PG_BIN/pg_ctl' -D '$work/pg/data' -l '$work/pg/server.log' -w -o '$pg_settings' \
    start >/dev/null &&
  '$PG_BIN/createdb' -h 127.0.0.1 -p $port -U tempo bench"
PG="postgres://tempo@127.0.0.1:$port/bench"
psql() {
  "$PG_BIN/psql" -X -q -t -A -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U tempo bench "$@"
}

step "tempo gen --tenants $TENANTS --modules $MODULES"
timed "$TEMPO" gen --seed 1 --tenants "$TENANTS" --modules "$MODULES" --out "$work/events.ndjson"
step "import into RocksDB"
timed bash -c "'$TEMPO' import --store '$work/rocks' '$work/events.ndjson' >/dev/null 2>&1"
# PostgreSQL gets the RocksDB store's export: the same records, one event each (the event file
# holds several versions of many records, and PostgreSQL applies events one by one).
step "export, then import the export into PostgreSQL"
timed bash -c "'$TEMPO' export --store '$work/rocks' --out '$work/export.ndjson' &&
  '$TEMPO' import --store '$PG' '$work/export.ndjson' >/dev/null 2>&1"
rm -f "$work/events.ndjson"
records=$(wc -l <"$work/export.ndjson")
echo "records: $records (tombstones included)"

# The record to change: a live module halfway through the export whose content is an object
# whose first key starts with a letter; flipping that letter's case (XOR 0x20) changes one
# byte and keeps the JSON valid.
read -r tenant id offset < <(python3 - "$work/export.ndjson" "$records" <<'PY'
import json, sys
path, records = sys.argv[1], int(sys.argv[2])
with open(path) as f:
    for n, line in enumerate(f):
        if n < records // 2:
            continue
        e = json.loads(line)
        r = e["record"]
        if e["kind"] != "module" or e["op"] != "upsert" or not isinstance(r.get("content"), dict):
            continue
        raw = line[line.index('"record":') + len('"record":'):-2]  # the stored bytes
        at = raw.find('"content":{"')
        if at < 0 or not raw[at + 12].isalpha() or not raw.isascii():
            continue
        print(r["tenant"], r["id"], at + 12)  # 0-based offset of the letter
        break
PY
)
step "flip one byte of $tenant/module/$id in PostgreSQL"
changed=$(psql -c "UPDATE tempo_records
  SET record_json = set_byte(record_json, $offset, get_byte(record_json, $offset) # 32)
  WHERE tenant = convert_to('$tenant', 'UTF8') AND kind = 1 AND id = convert_to('$id', 'UTF8')
  RETURNING 1" | head -1)
[ "$changed" = 1 ] || { echo "the UPDATE changed nothing"; exit 1; }
echo ok

echo
echo "tempo reconcile --a $work/rocks --b $PG --threshold 0"
set +e
/usr/bin/time -v "$TEMPO" reconcile --a "$work/rocks" --b "$PG" --threshold 0 \
  --report "$work/report.json" >"$work/stdout" 2>"$work/time"
rc=$?
set -e
grep -E "^(TENANT|TOTAL)" "$work/stdout"
grep -E "^(missing|differing)" "$work/stdout" || true
tail -n 1 "$work/stdout"
grep -E "Elapsed \(wall|User time|System time|Percent of CPU|Maximum resident" "$work/time" |
  sed 's/^\t*/  /'
if [ "$rc" != 3 ] || ! grep -qE "^differing +$tenant/module/$id  A: v[0-9]+  B: v[0-9]+$" \
  "$work/stdout" || [ "$(grep -cE '^(missing|differing)' "$work/stdout")" != 1 ]; then
  echo "FAIL: expected exit 3 naming exactly $tenant/module/$id (exit $rc)"
  head -5 "$work/time"
  exit 1
fi
echo "PASS: exit 3, the changed record named"
