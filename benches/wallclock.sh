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
units = {"elem/s": 1, "Kelem/s": 1e3, "Melem/s": 1e6, "Gelem/s": 1e9}
thrpt, cpu, rounds = {}, {}, {}
for path in sys.argv[1:]:
    name = None
    for line in open(path):
        m = re.match(r"^(\S+/\S+)\s*$", line) or re.match(r"^(\S+/\S+)\s+time:", line)
        if m:
            name = m.group(1)
        m = re.search(r"thrpt:\s+\[\S+ \S+ (\S+) (\S+) ", line)
        if m and name:
            thrpt.setdefault(name, []).append(float(m.group(1)) * units[m.group(2)])
        m = re.search(r"cpu per request \(.*?, (C=[^,]+), \d+ requests.*raw ([\d.]+) us, session ([\d.]+) us .*reqwest ([\d.]+) us", line)
        if m:
            for k, v in zip(("raw", "session", "reqwest"), m.groups()[1:]):
                cpu.setdefault(m.group(1), {}).setdefault(k, []).append(float(v))
        m = re.search(r"requests/s \(the same rounds, (C=[^)]+)\): raw ([\d.]+), session ([\d.]+) .*reqwest ([\d.]+)", line)
        if m:
            for k, v in zip(("raw", "session", "reqwest"), m.groups()[1:]):
                rounds.setdefault(m.group(1), {}).setdefault(k, []).append(float(v))
groups = {}
for name, values in thrpt.items():
    group, client = name.split("/", 1)
    groups.setdefault(group, {})[client] = statistics.median(values)
print("| group (median of %d runs, requests/s) | raw | Session | reqwest | Session / raw | Session / reqwest |" % (len(sys.argv) - 1))
print("|---|---|---|---|---|---|")
for group, c in groups.items():
    raw, ses, req = c.get("raw_hyper_util"), c.get("session"), c.get("reqwest")
    if None in (raw, ses, req):
        continue
    print(f"| {group} | {raw/1e3:.1f} k | {ses/1e3:.1f} k | {req/1e3:.1f} k | {ses/raw:.2f}x | {ses/req:.2f}x |")
if rounds:
    print()
    print("| requests/s in the interleaved rounds (median of %d runs) | raw | Session | reqwest | Session / raw | Session / reqwest |" % (len(sys.argv) - 1))
    print("|---|---|---|---|---|---|")
    for case, runs in rounds.items():
        m = {k: statistics.median(v) for k, v in runs.items()}
        print(f"| {case} | {m['raw']/1e3:.1f} k | {m['session']/1e3:.1f} k | {m['reqwest']/1e3:.1f} k | "
              f"{m['session']/m['raw']:.2f}x | {m['session']/m['reqwest']:.2f}x |")
if cpu:
    print()
    print("| client process CPU per request (getrusage, user + system, median of %d runs of 10 interleaved rounds) | raw | Session | reqwest | Session / raw | reqwest / raw |" % (len(sys.argv) - 1))
    print("|---|---|---|---|---|---|")
    for case, runs in cpu.items():
        m = {k: statistics.median(v) for k, v in runs.items()}
        print(f"| {case} | {m['raw']:.1f} us | {m['session']:.1f} us | {m['reqwest']:.1f} us | "
              f"{m['session']/m['raw']:.2f}x | {m['reqwest']/m['raw']:.2f}x |")
EOF
rm -f "${logs[@]}"
echo
echo "($(git rev-parse --short HEAD), $(date -u +%F), $RUNS runs, server on CPU 0 in its own process, client on CPU 1)"
