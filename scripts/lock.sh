#!/usr/bin/env bash
# Resolve casegraph's dependencies (with the test, ai, eth and ftm extras) from pyproject.toml into
# requirements.lock: every package pinned to one version, with the SHA-256 of each file pip may
# install. bootstrap.sh installs from it with --require-hashes. Run this after changing the
# dependencies in pyproject.toml (it re-resolves everything to the newest allowed versions):
#     bash scripts/lock.sh            # then commit requirements.lock
# To keep existing pins and only add what is new, pass --keep:  bash scripts/lock.sh --keep
set -euo pipefail
cd "$(dirname "$0")/.."
# uv resolves (pip-tools would do as well, slower); it lives in the project's .venv
uv=${UV:-.venv/bin/uv}  # UV=/path/to/uv uses another one
if [ -z "${UV:-}" ]; then
  [ -x .venv/bin/python ] || bash scripts/bootstrap.sh
  [ -x .venv/bin/uv ] || .venv/bin/python -m pip install -q --disable-pip-version-check uv==0.13.8
fi
upgrade=(--upgrade)
[ "${1:-}" = "--keep" ] && upgrade=()
# torch comes from the CPU wheel in /opt/wheels (PyPI's torch is the multi-GB CUDA build); the
# machine's pip constraints (/etc/xdg/pip/constraints.txt) cap it to what that folder holds.
findlinks=(); [ -d /opt/wheels ] && findlinks=(--find-links /opt/wheels)
constraints=(); [ -f /etc/xdg/pip/constraints.txt ] && constraints=(--constraints /etc/xdg/pip/constraints.txt)
"$uv" pip compile pyproject.toml --extra test --extra ai --extra eth --extra ftm "${upgrade[@]}" \
  --generate-hashes --python-version 3.11 --index-strategy unsafe-best-match \
  "${findlinks[@]}" "${constraints[@]}" \
  --no-header --custom-compile-command "bash scripts/lock.sh" \
  -o requirements.lock
grep -q '^torch==.*+cpu' requirements.lock || { echo "lock.sh: torch is not the CPU build" >&2; exit 1; }
echo "lock.sh: wrote requirements.lock ($(grep -c '^[a-z0-9]' requirements.lock) packages)"
