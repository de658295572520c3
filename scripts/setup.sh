#!/usr/bin/env bash
# Installs, idempotently, everything the build and the tests need on Debian 12 with rustup's
# Rust, Node and Python (TOOLCHAIN.md): the wasm32 target, Debian's Chromium + ChromeDriver,
# wasm-bindgen-cli at exactly the version in Cargo.lock, Trunk 0.21.14, and the npm test
# tooling (playwright-core, binaryen's wasm-opt) from e2e/package-lock.json.
# Source it from the repo root: `. scripts/setup.sh`. It exports PATH and Trunk's env.
set -euo pipefail

TRUNK_VERSION=0.21.14          # 0.22.x needs rustc >= 1.96.1
export TRUNK_SKIP_VERSION_CHECK=true
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
# e2e/node_modules/.bin first: a recent wasm-opt (npm binaryen 132); Debian 12's 108 is too old.
export PATH="$PWD/e2e/node_modules/.bin:$HOME/.cargo/bin:$PATH"

step() { printf '==> [%4ss] %s\n' "$SECONDS" "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
  || { step "rustup target add wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown; }

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  step "apt-get install chromium chromium-driver"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
WB=$(awk '$0=="name = \"wasm-bindgen\""{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | cut -d' ' -f2)" != "$WB" ]; then
  step "cargo install wasm-bindgen-cli $WB"
  # --locked can fail here: its lockfile pins a webpki-roots the registry lacks (TOOLCHAIN.md §6.2).
  cargo install wasm-bindgen-cli --version "$WB" --locked --force \
    || cargo install wasm-bindgen-cli --version "$WB" --force
fi

if [ "$(trunk --version 2>/dev/null | cut -d' ' -f2)" != "$TRUNK_VERSION" ]; then
  step "cargo install trunk $TRUNK_VERSION"
  # Trunk's own profile is fat LTO / 1 CGU (about 11 min on 2 cores); this takes about 4.
  CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install trunk --version "$TRUNK_VERSION" --locked --force
fi

if [ ! -x e2e/node_modules/.bin/wasm-opt ] || [ ! -d e2e/node_modules/playwright-core ] \
   || [ e2e/package-lock.json -nt e2e/node_modules/.package-lock.json ]; then
  step "npm ci (playwright-core, binaryen)"
  npm ci --prefix e2e --no-audit --no-fund
fi

step "cargo fetch"
cargo fetch --locked >/dev/null   # Trunk.toml has offline=true, so trunk runs cargo --offline
