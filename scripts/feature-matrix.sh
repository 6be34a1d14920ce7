#!/usr/bin/env bash
# Every cargo feature on its own, none, and all, for both crates' libraries (`cargo check`, so it
# stays quick): a feature that needs another one it does not enable, or code left ungated, fails
# here. Warnings in our crates count as failures.
set -euo pipefail
cd "$(dirname "$0")/.."

facade=(rustls rustls-tls http2 json cookies decompression gzip brotli zstd deflate socks persist cookie-store tracing multipart blocking ratelimit redis)
layers=(cookies headers auth retry timeout redirect hyper buffer persist cookie-store tracing ratelimit redis)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
check() {
  echo "-- cargo check --lib $*"
  if ! cargo check --quiet --lib "$@" >"$log" 2>&1; then
    cat "$log"
    exit 1
  fi
  if grep -q '^warning' "$log"; then
    cat "$log"
    echo "warnings with: $*"
    exit 1
  fi
}

check -p tower-requests-layers --no-default-features
for f in "${layers[@]}"; do check -p tower-requests-layers --no-default-features --features "$f"; done
check -p tower-requests --no-default-features
for f in "${facade[@]}"; do check -p tower-requests --no-default-features --features "$f"; done
check -p tower-requests
check --workspace --all-features

# What "no TLS" means at run time: https refused with an error naming the feature.
echo "-- cargo test -p tower-requests --no-default-features --test no_tls"
cargo test --quiet -p tower-requests --no-default-features --test no_tls
echo "feature matrix: clean"
