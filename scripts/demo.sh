#!/usr/bin/env bash
# Install everything, then build the end-to-end demo case in ./demo-case and print its summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/casegraph demo demo-case --overwrite "$@"
