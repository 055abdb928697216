#!/usr/bin/env bash
# ferry's main job on its embedded defaults, for now: build a signed release from the
# shipped example requirements, list it, read a file back, and verify the store.
# Uses $FERRY_STORE when set, else a fresh store in a temporary folder.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ferry() { node "$here/../dist/cli/main.js" "$@"; }
export FERRY_STORE="${FERRY_STORE:-$(mktemp -d)/store}"
step() { printf '\n\033[1m$ ferry %s\033[0m\n' "$*"; ferry "$@"; }

[ -d "$FERRY_STORE/db" ] || step init
step bom build "$here/platform/kafka/requirements.yaml" "$here/platform/monitoring/requirements.yaml" \
  --name platform --version 2026.11
step ls
step ls platform
step cat platform/kafka/config/server.properties
step verify
step status
printf '\nstore: %s\n' "$FERRY_STORE"
