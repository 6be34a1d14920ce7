#!/usr/bin/env bash
# Instructions per request of the client process alone, counted by callgrind:
# (Ir at 3000 requests - Ir at 1000) / 2000, so start-up cancels out. The server runs in its own
# process (the loopback bench binary with LOOPBACK_SERVE), pinned to CPU 0; each client run is
# pinned to CPU 1. Clients: raw (hyper-util pooled client), raw_headers (the same sending the
# Session's default request head), reqwest 0.13, Session; over http and https (HTTP/1.1), with
# and without `Set-Cookie: sid=abc` on every response; each client on a current-thread runtime.
#
# Usage: bash benches/instructions.sh [BASELINE_COMMIT]
# With a baseline commit, the same bench code is built against that commit's library in a
# temporary worktree and measured in the same run, side by side. Its target dir:
# BASELINE_TARGET_DIR, else this checkout's (CARGO_TARGET_DIR or target/): the dependencies are
# shared, the baseline's own crates built beside the current ones, so `rm -rf target` removes both.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh
needs valgrind valgrind
N1=${N1:-1000}
N2=${N2:-3000}
CLIENTS=${CLIENTS:-"raw raw_headers reqwest session"}
CASES=${CASES:-"http http+cookie https https+cookie"}

declare -A BIN
BIN[current]=$(bench_binary . loopback)
builds="current"
if [ -n "${1:-}" ]; then
  baseline_worktree "$1" "${CARGO_TARGET_DIR:-$PWD/target}" loopback.rs
  echo "building baseline $BASE in $BASE_WT (target $BASE_TARGET) ..." >&2
  BIN[$BASE]=$(CARGO_TARGET_DIR="$BASE_TARGET" bench_binary "$BASE_WT" loopback)
  builds="current $BASE"
fi

start_loopback_server "${BIN[current]}"

client_ir() { # $1 binary, $2 client, $3 n, $4 case -> Ir of the client process
  local mode="ct"
  case "$4" in *https*) mode="$mode+tls";; esac
  case "$4" in *cookie*) mode="$mode+cookie";; esac
  ir "$1" LOOPBACK_SERVER="$SERVER_FILE" LOOPBACK_PROFILE="$2:$3:$mode"
}

echo "| build | client | $(echo $CASES | sed 's/ / | /g') |"
echo "|---|---|$(for _ in $CASES; do printf -- '---|'; done)"
for b in $builds; do
  for c in $CLIENTS; do
    row="| $b | $c |"
    for k in $CASES; do
      a=$(client_ir "${BIN[$b]}" "$c" "$N1" "$k"); z=$(client_ir "${BIN[$b]}" "$c" "$N2" "$k")
      row="$row $(per_op_k "$a" "$z" "$N1" "$N2") |"
    done
    echo "$row"
  done
done
echo
echo "(instructions per request, client process only; $(git rev-parse --short HEAD), $(date -u +%F))"
