#!/usr/bin/env bash
# Installs what is missing, builds, and starts `tempo serve --embedded` on
# 127.0.0.1:8080 with demo data (generated on first start).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target tempo
# Extra arguments go to `tempo serve` (for example --listen 127.0.0.1:9090).
[ $# -gt 0 ] || set -- --listen 127.0.0.1:8080
exec build/release/src/cli/tempo serve --embedded "$@"
