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
# temporary worktree and measured in the same run, side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install -y valgrind)"; exit 1; }
N1=${N1:-1000}
N2=${N2:-3000}
CLIENTS=${CLIENTS:-"raw raw_headers reqwest session"}
CASES=${CASES:-"http http+cookie https https+cookie"}

bench_binary() { # $1: checkout dir
  (cd "$1" && cargo bench --bench loopback --no-run --message-format=json 2>/dev/null) |
    grep -o '"executable":"[^"]*loopback-[^"]*"' | tail -1 | cut -d'"' -f4
}

taskset_cpu() { # run pinned when taskset and 2 CPUs exist
  if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then taskset -c "$1" "${@:2}"; else "${@:2}"; fi
}

declare -A BIN
BIN[current]=$(bench_binary .)
builds="current"
cleanup() { :; }
if [ -n "${1:-}" ]; then
  base=$(git rev-parse --short "$1")
  wt=$(mktemp -d /tmp/tower-requests-baseline-XXXX)
  git worktree add --detach "$wt" "$base" >/dev/null
  cp benches/loopback.rs "$wt/benches/loopback.rs"   # the same bench code against that library
  cleanup() { git worktree remove --force "$wt" >/dev/null 2>&1 || true; }
  trap cleanup EXIT
  echo "building baseline $base in $wt ..." >&2
  BIN[$base]=$(CARGO_TARGET_DIR="${BASELINE_TARGET_DIR:-$wt/target}" bench_binary "$wt")
  builds="current $base"
fi

server_file=$(mktemp -u /tmp/loopback-server-XXXX)
LOOPBACK_SERVE=$server_file taskset_cpu 0 "${BIN[current]}" &
server=$!
trap 'kill $server 2>/dev/null; cleanup' EXIT
for _ in $(seq 100); do [ -f "$server_file" ] && break; sleep 0.1; done

ir() { # $1 binary, $2 client, $3 n, $4 case -> Ir of the client process
  local mode="ct"
  case "$4" in *https*) mode="$mode+tls";; esac
  case "$4" in *cookie*) mode="$mode+cookie";; esac
  LOOPBACK_SERVER=$server_file LOOPBACK_PROFILE="$2:$3:$mode" taskset_cpu 1 \
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" 2>&1 |
    grep -o 'Collected : [0-9]*' | grep -o '[0-9]*$'
}

echo "| build | client | $(echo $CASES | sed 's/ / | /g') |"
echo "|---|---|$(for _ in $CASES; do printf -- '---|'; done)"
for b in $builds; do
  for c in $CLIENTS; do
    row="| $b | $c |"
    for k in $CASES; do
      a=$(ir "${BIN[$b]}" "$c" "$N1" "$k"); z=$(ir "${BIN[$b]}" "$c" "$N2" "$k")
      row="$row $(awk -v a="$a" -v z="$z" -v d=$((N2 - N1)) 'BEGIN { printf "%.1fk", (z - a) / d / 1000 }') |"
    done
    echo "$row"
  done
done
echo
echo "(instructions per request, client process only; $(git rev-parse --short HEAD), $(date -u +%F))"
