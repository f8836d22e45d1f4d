#!/usr/bin/env bash
# Builds the libFuzzer targets (preset fuzz: clang, ASan+UBSan) and runs each
# for SECONDS on a copy of its committed seed corpus, so that the corpus in
# git never changes. Fails when a target crashes, leaks, trips a sanitizer or
# breaks one of its invariants; the input that did it is kept in the
# artifacts directory that the message names.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default: 30 s, every target
#
# Environment:
#   FUZZ_PARALLEL=N   run N targets at once (default 1)
#   FUZZ_BUILD=0      run the targets as built, without configuring and building
#   FUZZ_LOG_DIR=DIR  keep each target's log in DIR/TARGET.log (default: a
#                     temporary directory, removed unless a target failed)
#
# A target's libFuzzer dictionary, if it has one, is CORPUS.dict beside its
# corpus directory. The last lines of each log are libFuzzer's final
# statistics: "#N DONE cov: C ft: F corp: ..." and
# stat::number_of_executed_units; one summary line per target is printed at
# the end. CI (scripts/test.sh) runs it for 30 s; docs/reliability.md
# records a 600 s run of each target.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
parallel=${FUZZ_PARALLEL:-1}

if [[ ${FUZZ_BUILD:-1} != 0 ]]; then
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$(nproc)"
fi
list=build/fuzz/fuzz_targets.txt

work=$(mktemp -d "${TMPDIR:-/tmp}/tempo-fuzz.XXXXXX")
logs=${FUZZ_LOG_DIR:-$work/logs}
mkdir -p "$logs"

# run_one NAME BINARY CORPUS: one target, on a copy of its corpus; the exit
# status is libFuzzer's.
run_one() {
  local name=$1 binary=$2 corpus=$3
  local dir=$work/$name
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp -R "$corpus"/. "$dir/corpus/"
  local dict=()
  [[ -f $corpus.dict ]] && dict=(-dict="$corpus.dict")
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
    "$binary" "$dir/corpus" "${dict[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/" >"$logs/$name.log" 2>&1
}

# summary NAME STATUS: "NAME ok|FAILED runs=N cov=C ft=F corpus=K" from the log.
summary() {
  local name=$1 status=$2 log=$logs/$1.log
  local done runs
  done=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  printf '%-26s %-6s runs=%-10s cov=%-6s ft=%-6s corpus=%s\n' "$name" \
    "$([[ $status == 0 ]] && echo ok || echo FAILED)" "${runs:-?}" \
    "$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$done")" \
    "$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$done")" \
    "$(sed -n 's/.*corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$done")"
}

declare -a names=() pids=() statuses=()
failed=0
while read -r name binary corpus; do
  [[ -n $name ]] || continue
  if (($# > 0)) && [[ " $* " != *" $name "* ]]; then continue; fi
  # At most $parallel at once: wait for the oldest before starting another.
  if ((${#pids[@]} - ${#statuses[@]} >= parallel)); then
    i=${#statuses[@]}
    wait "${pids[$i]}" && statuses+=(0) || statuses+=($?)
  fi
  echo "=== fuzz: $name for ${seconds}s"
  run_one "$name" "$binary" "$corpus" &
  names+=("$name")
  pids+=($!)
done <"$list"
for ((i = ${#statuses[@]}; i < ${#pids[@]}; i++)); do
  wait "${pids[$i]}" && statuses+=(0) || statuses+=($?)
done

echo "=== fuzz: ${seconds}s per target"
for i in "${!names[@]}"; do
  summary "${names[$i]}" "${statuses[$i]}"
  if [[ ${statuses[$i]} != 0 ]]; then
    failed=1
    echo "--- ${names[$i]}: exit ${statuses[$i]}; log $logs/${names[$i]}.log," \
         "crashing input in $work/${names[$i]}/artifacts/"
    tail -40 "$logs/${names[$i]}.log"
  fi
done
if ((${#names[@]} == 0)); then
  echo "no fuzz target matched: $*" >&2
  rm -rf "$work"
  exit 1
fi
if ((failed)); then exit 1; fi
rm -rf "$work"
