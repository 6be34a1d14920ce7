# Shell functions shared by the scripts in benches/ (sourced from the repository root, after
# `set -euo pipefail`; not run on its own).

# `needs PROGRAM PACKAGE`: stop with what to install when PROGRAM is missing.
needs() {
  command -v "$1" >/dev/null || { echo "needs $1 (apt-get install -y $2)" >&2; exit 1; }
}

# Release build of one bench of a checkout; prints the path of a copy of its binary (in BIN_DIR,
# removed on exit). A copy, because a baseline with the same dependencies builds its bench
# under the same file name in a shared target dir, over the current build's.
# $1: checkout dir, $2: bench name. CARGO_TARGET_DIR is honoured as cargo does.
BIN_DIR=$(mktemp -d /tmp/bench-bin-XXXX)
bench_binary() {
  local log bin
  log=$(mktemp /tmp/bench-build-XXXX)
  bin=$( (cd "$1" && cargo bench --bench "$2" --no-run --message-format=json 2>"$log") |
    grep -o "\"executable\":\"[^\"]*/$2-[^\"]*\"" | tail -1 | cut -d'"' -f4) || true
  if [ -z "$bin" ]; then
    echo "building bench $2 in $1 failed:" >&2
    tail -30 "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
  local copy
  copy=$(mktemp "$BIN_DIR/$2-XXXX")
  cp "$bin" "$copy"
  chmod +x "$copy"
  echo "$copy"
}

# `pinned CPU command...`: the command pinned to that CPU when taskset and 2 CPUs exist.
pinned() {
  if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then exec taskset -c "$1" "${@:2}"; else exec "${@:2}"; fi
}

# Instructions (Ir) of one run of binary $1 under callgrind, pinned to CPU 1, with NAME=value
# words $2... in its environment.
ir() { # $1 binary, $2... NAME=value
  local out
  out=$(
    for v in "${@:2}"; do export "${v?}"; done
    pinned 1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" 2>&1
  ) || true
  if ! grep -o 'Collected : [0-9]*' <<<"$out" | grep -o '[0-9]*$'; then
    echo "callgrind run failed: ${*:2} $1" >&2
    tail -20 <<<"$out" >&2
    exit 1
  fi
}

# Cost of one operation from two counts: (z - a) / (n2 - n1), in thousands, one decimal.
per_op_k() { # $1 Ir at n1, $2 Ir at n2, $3 n1, $4 n2
  awk -v a="$1" -v z="$2" -v d=$(($4 - $3)) 'BEGIN { printf "%.1fk", (z - a) / d / 1000 }'
}

# Everything started below is undone on exit.
BASE_WT=""
SERVER_PID=""
SERVER_FILE=""
cleanup() {
  rm -rf "$BIN_DIR"
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$SERVER_FILE" ]; then rm -f "$SERVER_FILE"; fi
  if [ -n "$BASE_WT" ]; then git worktree remove --force "$BASE_WT" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

# A temporary worktree of commit $1 (BASE: its short hash, BASE_WT: its dir), with this
# checkout's bench sources ($2...: file names under benches/) copied into it, so that the same
# bench code runs against that commit's library. Its target dir: BASELINE_TARGET_DIR if set,
# else $3 default (BASE_TARGET).
baseline_worktree() { # $1 commit, $2 default target dir, $3... bench files
  BASE=$(git rev-parse --short "$1")
  BASE_WT=$(mktemp -d /tmp/tower-requests-baseline-XXXX)
  git worktree add --detach "$BASE_WT" "$BASE" >/dev/null 2>&1
  local f
  for f in "${@:3}"; do cp "benches/$f" "$BASE_WT/benches/$f"; done
  BASE_TARGET="${BASELINE_TARGET_DIR:-$2}"
}

# The loopback server in its own process (the loopback bench binary $1 with LOOPBACK_SERVE),
# pinned to CPU 0; more NAME=value words after $1 go to its environment. Sets SERVER_FILE (for
# clients: LOOPBACK_SERVER=$SERVER_FILE) and SERVER_PID.
start_loopback_server() { # $1 binary, $2... NAME=value
  SERVER_FILE=$(mktemp -u /tmp/loopback-server-XXXX)
  (
    export LOOPBACK_SERVE="$SERVER_FILE"
    for v in "${@:2}"; do export "${v?}"; done
    pinned 0 "$1"
  ) &
  SERVER_PID=$!
  local _i
  for _i in $(seq 100); do [ -f "$SERVER_FILE" ] && return; sleep 0.1; done
  echo "the loopback server did not start" >&2
  exit 1
}
