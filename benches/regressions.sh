#!/usr/bin/env bash
# The costs that performance work must not raise, for this checkout's build and a baseline
# commit's build (the same bench code against that commit's library, built in a temporary
# worktree), measured in the same run; prints one markdown table: current, baseline, ratio.
#
# Only deterministic figures, so that it can run on a busy machine: instructions counted by
# callgrind with two counts, (Ir at N2 - Ir at N1) / (N2 - N1), so start-up and set-up cancel
# out; and bytes counted by a counting allocator.
#  - a new path on the same origin: a logged-in session (three cookies for the host), each
#    request to a path not requested before; over the mock rig (the default stack, a mock as its
#    transport: `layers`, LAYERS_PROFILE=full_cookies_3_new_path) and over loopback (the client
#    process alone, the server in its own process: `loopback`, LOOPBACK_PROFILE=session:n:ct+newpath);
#  - a new host: the same session, each request to a host not seen before; over the mock rig
#    (full_cookies_3_new_host) and over loopback (the server's other 127.0.x.y addresses, a new
#    connection each: ct+newhost, HOST_N1 and HOST_N2 requests);
#  - a jar of 10 000 cookies over 1 000 domains (`cookies`, COOKIES_PROFILE): a request through a
#    session with that jar (over the mock) to another of the domains each time, the jar's Cookie
#    header alone, one Set-Cookie stored (value changed each time), the same line stored again;
#  - `Session::new()` after the first, dropped again (`session_cost`, SESSION_PROFILE=new:n);
#  - the bytes an idle `Session::new()` keeps (SESSION_PROFILE=idle).
#
# Usage: bash benches/regressions.sh [BASELINE_COMMIT]   (default 1c4af85)
# The baseline's target dir: BASELINE_TARGET_DIR, else this checkout's (CARGO_TARGET_DIR or
# target/): the dependencies are shared, the baseline's own crates built beside the current
# ones (another source path, other file names), so `rm -rf target` removes both.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh
needs valgrind valgrind
BASELINE=${1:-1c4af85}
N1=${N1:-1000}
N2=${N2:-3000}
HOST_N1=${HOST_N1:-200}
HOST_N2=${HOST_N2:-600}
BENCHES="layers cookies session_cost loopback"
start=$(date +%s)

declare -A CUR BAS
for b in $BENCHES; do
  echo "building $b ..." >&2
  CUR[$b]=$(bench_binary . "$b")
done
baseline_worktree "$BASELINE" "${CARGO_TARGET_DIR:-$PWD/target}" \
  layers.rs cookies.rs session_cost.rs loopback.rs
for b in $BENCHES; do
  echo "building $b at $BASE in $BASE_WT (target $BASE_TARGET) ..." >&2
  BAS[$b]=$(CARGO_TARGET_DIR="$BASE_TARGET" bench_binary "$BASE_WT" "$b")
done

start_loopback_server "${CUR[loopback]}" LOOPBACK_HOSTS=$((HOST_N2 + 1))

# Instructions per operation of one build: $1 build (CUR or BAS), $2 bench, $3 n1, $4 n2,
# $5... NAME=value words, where @N stands for the count.
per_op() {
  local -n bins=$1
  local env=("${@:5}") a z
  a=$(ir "${bins[$2]}" "${env[@]//@N/$3}")
  z=$(ir "${bins[$2]}" "${env[@]//@N/$4}")
  awk -v a="$a" -v z="$z" -v d=$(($4 - $3)) 'BEGIN { printf "%.0f", (z - a) / d }'
}

# One row of the table: $1 label, then as per_op from $2 on.
row() {
  echo "measuring: $1 ..." >&2
  local c b
  c=$(per_op CUR "${@:2}")
  b=$(per_op BAS "${@:2}")
  awk -v l="$1" -v c="$c" -v b="$b" \
    'BEGIN { printf "| %s | %.2f k | %.2f k | %.3f× |\n", l, c / 1000, b / 1000, c / b }'
}

idle_bytes() { # $1 session_cost binary
  SESSION_PROFILE=idle "$1" | grep -o 'idle bytes: [0-9]*' | grep -o '[0-9]*$'
}

server=LOOPBACK_SERVER=$SERVER_FILE
echo "| check (instructions per operation unless said) | current | $BASE | current / $BASE |"
echo "|---|---|---|---|"
row "new path on the same origin, logged in (3 cookies), mock transport" \
  layers "$N1" "$N2" LAYERS_PROFILE=full_cookies_3_new_path:@N
row "new path on the same origin, logged in (3 cookies), loopback, client process" \
  loopback "$N1" "$N2" "$server" LOOPBACK_PROFILE=session:@N:ct+newpath
row "new host, logged in elsewhere, mock transport" \
  layers "$N1" "$N2" LAYERS_PROFILE=full_cookies_3_new_host:@N
row "new host, loopback, client process (a new connection each)" \
  loopback "$HOST_N1" "$HOST_N2" "$server" LOOPBACK_PROFILE=session:@N:ct+newhost
row "10k cookies / 1k domains: request to one of the domains (Cookie header built), mock transport" \
  cookies "$N1" "$N2" COOKIES_PROFILE=request:@N
row "10k cookies / 1k domains: the jar's Cookie header alone" \
  cookies "$N1" "$N2" COOKIES_PROFILE=header:@N
row "10k cookies / 1k domains: store one Set-Cookie (a changed value)" \
  cookies "$N1" "$N2" COOKIES_PROFILE=store:@N
row "10k cookies / 1k domains: store the same Set-Cookie again" \
  cookies "$N1" "$N2" COOKIES_PROFILE=store_same:@N
row '`Session::new()` after the first (and its drop)' \
  session_cost "$N1" "$N2" SESSION_PROFILE=new:@N
c=$(idle_bytes "${CUR[session_cost]}")
b=$(idle_bytes "${BAS[session_cost]}")
awk -v c="$c" -v b="$b" -v base="$BASE" \
  'BEGIN { printf "| bytes an idle `Session::new()` keeps | %d B | %d B | %.3f× |\n", c, b, c / b }'
echo
echo "($(git rev-parse --short HEAD) against $BASE, $(date -u +%F); callgrind N1=$N1 N2=$N2, new host over loopback $HOST_N1/$HOST_N2; $(($(date +%s) - start)) s)"
