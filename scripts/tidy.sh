#!/usr/bin/env bash
# Bring the whole tree to what .ci/run checks, in one go, after branches are merged (it rewrites many
# files, so it is not run while others are editing them):
#   1. ruff's safe fixes, then ruff format;
#   2. whatever ruff still finds is marked on its line with `# noqa: CODE` (a visible, per-line list to
#      fix by hand and shrink: `grep -rn "noqa" casegraph`), never a blanket ignore;
#   3. the README's format tables regenerated from the parsers' metadata;
#   4. the mypy baseline re-recorded for the merged code;
#   5. the lock re-resolved from pyproject.toml, keeping existing pins (new dependencies added).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
[ -x "$bin/ruff" ] || bash scripts/bootstrap.sh
paths=(casegraph tests scripts benchmarks)
"$bin/ruff" check --fix "${paths[@]}" || true
"$bin/ruff" format "${paths[@]}"
"$bin/ruff" check --add-noqa "${paths[@]}" || true
"$bin/ruff" format "${paths[@]}"
"$bin/python" scripts/format_table.py
"$bin/mypy" | "$bin/mypy-baseline" sync --baseline-path .ci/mypy-baseline.txt --sort-baseline || true
bash scripts/lock.sh --keep
bash scripts/checks.sh
