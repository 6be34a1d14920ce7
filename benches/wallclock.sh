#!/usr/bin/env bash
# Wall clock at C=64, pinned split placement: the server in its own process on CPU 0, the
# client (the loopback bench's criterion run, LOOPBACK_PIN=1) on CPU 1. RUNS runs (default 3)
# in one go; prints the median of each client's throughput (criterion's middle estimate) over
# the runs, the ratios, and the client process's CPU per request (getrusage of the client
# process alone: the server is another process; at C=64 over http and https and at C=1 over
# http, the three clients interleaved in rounds, with their throughput in those rounds), also
# as medians.
#
# Usage: bash benches/wallclock.sh            (RUNS=5 for five runs; FILTER=<regex> for
#                                               other criterion groups, default: c64)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=benches/lib.sh
source benches/lib.sh
RUNS=${RUNS:-3}
FILTER=${FILTER:-c64}

echo "building loopback ..." >&2
BIN=$(bench_binary . loopback)
start_loopback_server "$BIN"

logs=()
for run in $(seq "$RUNS"); do
  log=$(mktemp /tmp/wallclock-run-XXXX)
  logs+=("$log")
  echo "run $run of $RUNS ..." >&2
  LOOPBACK_SERVER=$SERVER_FILE LOOPBACK_PIN=1 pinned 1 "$BIN" --bench "$FILTER" --noplot >"$log" 2>&1 &
  wait $! || { tail -30 "$log" >&2; exit 1; }
done

python3 - "${logs[@]}" <<'EOF'
import re, statistics, sys
runs = len(sys.argv) - 1
units = {"elem/s": 1, "Kelem/s": 1e3, "Melem/s": 1e6, "Gelem/s": 1e9}
names = {"raw_hyper_util": "raw", "session": "session", "reqwest": "reqwest"}
# {table: {case: {client: [value per run]}}}
tables = {"criterion": {}, "rounds": {}, "cpu": {}}
patterns = {
    "cpu": r"cpu per request \(.*?, (C=[^,]+), \d+ requests.*raw ([\d.]+) us, session ([\d.]+) us .*reqwest ([\d.]+) us",
    "rounds": r"requests/s \(the same rounds, (C=[^)]+)\): raw ([\d.]+), session ([\d.]+) .*reqwest ([\d.]+)",
}
def add(table, case, client, value):
    tables[table].setdefault(case, {}).setdefault(client, []).append(value)
for path in sys.argv[1:]:
    name = None
    for line in open(path):
        m = re.match(r"^(\S+/\S+)\s*$", line) or re.match(r"^(\S+/\S+)\s+time:", line)
        if m:
            name = m.group(1)
        m = re.search(r"thrpt:\s+\[\S+ \S+ (\S+) (\S+) ", line)
        if m and name:
            group, client = name.split("/", 1)
            add("criterion", group, names.get(client, client), float(m.group(1)) * units[m.group(2)])
        for table, pattern in patterns.items():
            m = re.search(pattern, line)
            if m:
                for client, v in zip(("raw", "session", "reqwest"), m.groups()[1:]):
                    add(table, m.group(1), client, float(v))
def show(table, title, value, ratios):
    if not tables[table]:
        return
    print(f"| {title} (median of {runs} runs) | raw | Session | reqwest | " + " | ".join(r[0] for r in ratios) + " |")
    print("|---|---|---|---|" + "---|" * len(ratios))
    for case, c in tables[table].items():
        if len(c) < 3:
            continue
        m = {k: statistics.median(v) for k, v in c.items()}
        cells = [value(m[k]) for k in ("raw", "session", "reqwest")]
        cells += [f"{m[a] / m[b]:.2f}x" for _, a, b in ratios]
        print(f"| {case} | " + " | ".join(cells) + " |")
    print()
throughput = [("Session / raw", "session", "raw"), ("Session / reqwest", "session", "reqwest")]
show("criterion", "criterion group, requests/s", lambda v: f"{v / 1e3:.1f} k", throughput)
show("rounds", "requests/s in the interleaved rounds", lambda v: f"{v / 1e3:.1f} k", throughput)
show("cpu", "client process CPU per request (getrusage, user + system, 10 interleaved rounds)",
     lambda v: f"{v:.1f} us", [("Session / raw", "session", "raw"), ("reqwest / raw", "reqwest", "raw")])
EOF
rm -f "${logs[@]}"
echo
echo "($(git rev-parse --short HEAD), $(date -u +%F), $RUNS runs, server on CPU 0 in its own process, client on CPU 1)"
