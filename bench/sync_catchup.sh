#!/usr/bin/env bash
# Catch-up after a 5-minute stop of `tempo sync` (issue 5): at an assumed
# production rate of 1 000 events/s a 5-minute stop leaves 300 000 events.
# Builds the state before the stop (300 K events applied), appends the next
# 300 K as the backlog, and times `tempo sync --drain` over it.
# usage: bench/sync_catchup.sh [TEMPO_BINARY] [BATCH]
set -euo pipefail
T=${1:-build/release/src/cli/tempo}
BATCH=${2:-10000}
D=$(mktemp -d /tmp/tempo-catchup.XXXXXX)
trap 'rm -rf "$D"' EXIT
"$T" gen --tenants 72 --modules 5000 --out "$D/all.ndjson" 2>/dev/null
head -n 300000 "$D/all.ndjson" > "$D/before.ndjson"
sed -n 300001,600000p "$D/all.ndjson" > "$D/backlog.ndjson"
"$T" publish --log "$D/log" "$D/before.ndjson" >/dev/null
"$T" sync --log "$D/log" --store "$D/store" --batch "$BATCH" --drain --stats-every-ms 0 >/dev/null 2>&1
"$T" publish --log "$D/log" "$D/backlog.ndjson" >/dev/null  # 5 minutes at 1 000 events/s
echo "catch-up of $(wc -l < "$D/backlog.ndjson") events, --batch $BATCH:"
/usr/bin/time -f "%e s wall, %U s user, %S s sys" \
  "$T" sync --log "$D/log" --store "$D/store" --batch "$BATCH" --drain --stats-every-ms 0 2>&1 |
  grep -E "events/s|wall"
