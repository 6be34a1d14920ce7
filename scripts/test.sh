#!/usr/bin/env bash
# The test command: `bash scripts/test.sh` from the repository root (extra arguments go to
# `cargo test`, e.g. `bash scripts/test.sh --test proxy_tls`).
#
# 1. Some tests start real programs on 127.0.0.1: tinyproxy (forward proxy) and microsocks (SOCKS5
#    proxy); redis-server too, for tests of Redis-backed features. When one is missing and this
#    runs as root (or with password-less sudo) on a Debian/Ubuntu machine, it is apt-installed.
#    Otherwise the tests that need it print "SKIPPED: ..." and pass; set
#    TOWER_REQUESTS_REQUIRE_PROGRAMS=1 (CI does) to make a missing program a failure instead.
# 2. Runs every test suite and the doctests of both crates with all features. `--no-fail-fast`:
#    a failing suite never hides the others.
set -uo pipefail
cd "$(dirname "$0")/.."

programs=(tinyproxy microsocks redis-server)

have() {
  local dir
  local IFS=:
  for dir in $PATH /usr/bin /usr/sbin /usr/local/bin /usr/local/sbin; do
    [ -n "$dir" ] && [ -f "$dir/$1" ] && [ -x "$dir/$1" ] && return 0
  done
  return 1
}

missing=()
for p in "${programs[@]}"; do
  have "$p" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  fi
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ ${#sudo[@]} -gt 0 ]; }; then
    echo "== installing ${missing[*]} (apt-get)"
    if "${sudo[@]}" apt-get update -qq &&
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null; then
      # The packages may start system instances; the tests start their own on free ports.
      for svc in tinyproxy redis-server; do
        if command -v systemctl >/dev/null 2>&1; then "${sudo[@]}" systemctl stop "$svc" >/dev/null 2>&1 || true; fi
      done
    else
      echo "== could not install ${missing[*]}: the tests that need them will be skipped"
    fi
  else
    echo "== ${missing[*]} not installed and cannot be installed here (needs root or sudo, and apt-get):"
    echo "   the tests that need them will print SKIPPED. To run them: sudo apt-get install ${missing[*]}"
  fi
fi

exec cargo test --workspace --all-features --no-fail-fast "$@"
