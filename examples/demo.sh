#!/usr/bin/env bash
# ferry's main job on its embedded defaults: build a signed release from the shipped example
# requirements, list it, read a file back and verify the store; then run a daemon on it and let a
# second store (the "repository machine") pull the release over libp2p, only on 127.0.0.1.
# Uses $FERRY_STORE when set, else a fresh store in a temporary folder. Leaves no process running,
# also when a step fails or on Ctrl-C: the daemon is stopped on the way out, whatever the way.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
main="$here/../dist/cli/main.js"
ferry() { node "$main" "$@"; }
work="$(mktemp -d)"
export FERRY_STORE="${FERRY_STORE:-$work/store}"
step() { printf '\n\033[1m$ ferry %s\033[0m\n' "$*"; ferry "$@"; }

daemon=
stop_daemon() {
  [ -n "$daemon" ] || return 0
  kill -TERM "$daemon" 2>/dev/null || true
  # SIGTERM lets batches in flight finish; a daemon still there after 10 s is killed.
  for _ in $(seq 100); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$daemon" 2>/dev/null || true
  wait "$daemon" 2>/dev/null || true
  daemon=
}
trap stop_daemon EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -d "$FERRY_STORE/db" ] || step init
step bom build "$here/platform/kafka/requirements.yaml" "$here/platform/monitoring/requirements.yaml" \
  --name platform --version 2026.11
step ls
step ls platform
step cat platform/kafka/config/server.properties
step verify

# Online: a daemon owns the store; the repository store trusts its key and pulls the release.
# node itself goes to the background (not the ferry function: $! would then be a subshell, and
# killing it would leave node running).
node "$main" daemon --listen /ip4/127.0.0.1/tcp/0 --no-mdns >"$work/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 300); do
  grep -q '"daemon started"' "$work/daemon.log" && break
  kill -0 "$daemon" 2>/dev/null || break
  sleep 0.1
done
addr="$(grep -o '"/ip4/127.0.0.1/tcp/[0-9]*/p2p/[A-Za-z0-9]*"' "$work/daemon.log" | head -1 | tr -d '"')" || true
if [ -z "$addr" ]; then
  printf 'the daemon did not start; its log:\n' >&2
  cat "$work/daemon.log" >&2
  exit 1
fi
step status                                   # through the daemon's API: peer id, addresses, heads
repo="$work/repository"
step init --store "$repo"
step trust add "$(ferry key show)" --store "$repo"
step sync "$addr" platform --store "$repo"
step cat platform/kafka/config/server.properties --store "$repo"
step verify --store "$repo"
stop_daemon
printf '\nstore: %s\nrepository: %s\n' "$FERRY_STORE" "$repo"
