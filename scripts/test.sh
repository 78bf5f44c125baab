#!/usr/bin/env bash
# Runs every test: formatting and lints, engine and CLI tests natively, the
# app's component tests in headless Chromium (wasm-bindgen-test), then the
# Playwright end-to-end tests against a release build served from dist/.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$KAFKASIM_ROOT"

[ -x /usr/bin/chromium ] || [ -n "${CHROMIUM:-}" ] ||
  die "Chromium not found: install it (Debian/Ubuntu: apt-get install chromium chromium-driver) or set CHROMIUM."
command -v chromedriver >/dev/null || [ -x /usr/bin/chromedriver ] ||
  die "chromedriver not found: install it (Debian/Ubuntu: apt-get install chromium-driver)."

start=$SECONDS
step() { say "$1 (at $((SECONDS - start)) s)"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "Native tests: engine, CLI, app geometry"
cargo test --workspace --quiet

step "Component tests in headless Chromium (wasm-bindgen-test)"
cargo test -p kafkasim-app --target wasm32-unknown-unknown --test web

step "Release build (trunk build --release)"
trunk build --release --offline

step "End-to-end tests (Playwright, system Chromium)"
(cd tests && node --test e2e/)

step "All tests passed"
