#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, then runs every unit and e2e test
# with node's test runner. Extra arguments are passed to node --test (e.g. a file filter).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
if [ $# -gt 0 ]; then files=("$@"); else
  mapfile -t files < <(find dist/src dist/test dist/examples -name '*.test.js' | sort)
fi
exec node --test --test-concurrency=2 --test-timeout=300000 "${files[@]}"
