#!/usr/bin/env bash
# Installs, once, what building kafkasim needs beyond rustup and Node/npm:
# the wasm32 target, wasm-bindgen-cli at exactly the version Cargo.lock
# resolves, trunk, and the npm packages (playwright-core, binaryen's wasm-opt).
# Skips whatever is already installed at the right version.
# Source it (`. scripts/setup.sh`) to also get the tools on PATH.
set -euo pipefail

KAFKASIM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRUNK_VERSION="0.21.14"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

export PATH="$KAFKASIM_ROOT/tests/node_modules/.bin:$HOME/.cargo/bin:$PATH"

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs) first."
command -v npm >/dev/null || die "npm not found: install Node.js 18 or newer first."

# The version of the wasm-bindgen crate that Cargo.lock resolves.
lock_version() {
  awk -v name="$1" '$1=="name" && $3=="\""name"\"" {getline; gsub(/"/,"",$3); print $3; exit}' \
    "$KAFKASIM_ROOT/Cargo.lock"
}

WASM_BINDGEN_VERSION="$(lock_version wasm-bindgen)"
[ -n "$WASM_BINDGEN_VERSION" ] || die "wasm-bindgen is missing from Cargo.lock"
grep -q "wasm_bindgen = \"$WASM_BINDGEN_VERSION\"" "$KAFKASIM_ROOT/Trunk.toml" ||
  die "Trunk.toml pins a wasm-bindgen other than Cargo.lock's $WASM_BINDGEN_VERSION: update [tools] in Trunk.toml."

if command -v rustup >/dev/null; then
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "Adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
fi

# Tools run for seconds; building them quickly matters more than their speed.
# (trunk's own release profile asks for fat LTO and one codegen unit, which
# alone takes minutes on two cores.)
quick_install() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=false \
    cargo install "$@"
}

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "Installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, only once)"
  # The locked install can fail on registries that lack one pinned dependency;
  # the unlocked one resolves a compatible set.
  quick_install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --locked ||
    quick_install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  say "Installing trunk $TRUNK_VERSION (a few minutes, only once)"
  # Without its default features (TLS, update check): trunk here downloads
  # nothing and serves plain HTTP on localhost, and builds much faster.
  quick_install trunk --version "$TRUNK_VERSION" --locked --no-default-features
fi

lock="$KAFKASIM_ROOT/tests/package-lock.json"
installed="$KAFKASIM_ROOT/tests/node_modules/.package-lock.json"
if [ ! -f "$installed" ] || [ "$lock" -nt "$installed" ]; then
  say "Installing npm packages (playwright-core, binaryen)"
  (cd "$KAFKASIM_ROOT/tests" && npm ci --no-audit --no-fund --loglevel=error)
fi

# Trunk must download nothing: refuse to go on if wasm-opt is not the pinned one.
wasm-opt --version 2>/dev/null | grep -q "version 132" ||
  die "wasm-opt 132 (npm binaryen) is not first on PATH."
