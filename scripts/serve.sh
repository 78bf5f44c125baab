#!/usr/bin/env bash
# Serves the app on http://127.0.0.1:8080 with live reload, installing what
# is missing first. The debug build goes to target/serve-dist so a release
# build in dist/ is left alone.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$KAFKASIM_ROOT"
say "Serving kafkasim on http://127.0.0.1:8080 (Ctrl-C to stop)"
exec trunk serve --offline --dist target/serve-dist "$@"
