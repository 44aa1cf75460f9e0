#!/usr/bin/env bash
# The static checks .ci/run makes (after bootstrap): ruff lint, ruff format check, mypy against the
# recorded baseline (.ci/mypy-baseline.txt may only shrink: a new error fails, and so does a fixed
# one still listed; remove it with `.venv/bin/mypy | .venv/bin/mypy-baseline sync --baseline-path
# .ci/mypy-baseline.txt --sort-baseline`).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
paths=(casegraph tests scripts benchmarks)
echo "checks: ruff lint"; "$bin/ruff" check "${paths[@]}"
echo "checks: ruff format"; "$bin/ruff" format --check "${paths[@]}"
echo "checks: mypy (strict on the core; the rest against .ci/mypy-baseline.txt)"
# mypy exits 1 whenever it reports anything; the verdict is the baseline filter's (new or fixed errors fail)
out=$(mktemp); "$bin/mypy" > "$out" || true
"$bin/mypy-baseline" filter --baseline-path .ci/mypy-baseline.txt --sort-baseline --no-colors < "$out"
