#!/usr/bin/env bash
# Installs what is missing, builds, and starts `tempo serve --embedded` on
# 127.0.0.1:8080 with demo data (generated on first start).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target tempo
echo "try: curl 'http://127.0.0.1:8080/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=homepage'"
exec build/release/src/cli/tempo serve --embedded --listen 127.0.0.1:8080 "$@"
