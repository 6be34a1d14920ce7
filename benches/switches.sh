#!/usr/bin/env bash
# Context switches and CPU time per request of the client process, from `/usr/bin/time`:
# (value at 600 steps - value at 100) / requests, so start-up cancels out. The server runs in its
# own process pinned to CPU 0, each client run pinned to CPU 1, as in benches/wallclock.sh; a
# step is 64 concurrent GETs in the `c64` modes. Each figure is the median over RUNS runs; the
# voluntary switches of every run are listed too, as they move a lot from one run to the next.
#
# Usage: bash benches/switches.sh
#   CLIENTS (default "raw client facade session"), MODES (default "c64 c64+tls c64+ct
#   c64+tls+ct": `tls` over https, `ct` on a current-thread runtime, else the one-worker one),
#   RUNS (default 5). LOOPBACK_BUSY_NS=<ns> makes the raw client spin that long before each
#   request (the same extra work per request, without the Session's allocations or futures).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=benches/lib.sh
source benches/lib.sh
needs /usr/bin/time time
CLIENTS=${CLIENTS:-"raw client facade session"}
MODES=${MODES:-"c64 c64+tls c64+ct c64+tls+ct"}
RUNS=${RUNS:-5}

BIN=$(bench_binary . loopback)
start_loopback_server "$BIN"

# One run: "voluntary involuntary user_s system_s wall_s" of the client process.
counts() { # $1 client, $2 mode, $3 steps
  (
    export LOOPBACK_SERVER="$SERVER_FILE" LOOPBACK_PROFILE="$1:$3:$2"
    pinned 1 /usr/bin/time -f "%w %c %U %S %e" "$BIN" 2>&1 >/dev/null | tail -1
  )
}

echo "| client | mode | voluntary switches | involuntary | user µs | system µs | wall µs | voluntary, each run |"
echo "|---|---|---|---|---|---|---|---|"
for mode in $MODES; do
  width=1
  case "$mode" in *c64*) width=64;; esac
  for c in $CLIENTS; do
    for _ in $(seq "$RUNS"); do
      paste <(counts "$c" "$mode" 100) <(counts "$c" "$mode" 600)
    done | awk -v c="$c" -v m="$mode" -v r=$((500 * width)) '
      function median(a, n,   i, j, t) {
        for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
      }
      {
        n++
        vol[n] = ($6 - $1) / r; runs = runs sprintf(" %.2f", vol[n])
        inv[n] = ($7 - $2) / r; usr[n] = ($8 - $3) / r * 1e6
        sys[n] = ($9 - $4) / r * 1e6; wall[n] = ($10 - $5) / r * 1e6
      }
      END {
        printf "| %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f |%s |\n", c, m,
          median(vol, n), median(inv, n), median(usr, n), median(sys, n), median(wall, n), runs
      }'
  done
done
echo
echo "(per request, client process; medians of $RUNS runs; $(git rev-parse --short HEAD), $(date -u +%F)${LOOPBACK_BUSY_NS:+, LOOPBACK_BUSY_NS=$LOOPBACK_BUSY_NS for raw})"
