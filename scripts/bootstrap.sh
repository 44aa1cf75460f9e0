#!/usr/bin/env bash
# Installs everything casegraph needs on a fresh Debian/Ubuntu machine: system packages (OCR with
# Sinhala and Tamil, Noto fonts) when missing, and a virtual environment in .venv with the package.
# Safe to run again: it only installs what is missing or changed.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v tesseract >/dev/null 2>&1 || missing+=(tesseract-ocr)
if command -v tesseract >/dev/null 2>&1; then
  langs=$(tesseract --list-langs 2>/dev/null || true)
  grep -qx sin <<<"$langs" || missing+=(tesseract-ocr-sin)
  grep -qx tam <<<"$langs" || missing+=(tesseract-ocr-tam)
else
  missing+=(tesseract-ocr-sin tesseract-ocr-tam)
fi
[ -f /usr/share/fonts/truetype/noto/NotoSansSinhala-Regular.ttf ] || missing+=(fonts-noto-core)
python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
# WeasyPrint (reports) renders with Pango and subsets fonts with HarfBuzz
for lib in libpango-1.0.so.0:libpango-1.0-0 libpangoft2-1.0.so.0:libpangoft2-1.0-0 libharfbuzz-subset.so.0:libharfbuzz-subset0; do
  "$(command -v ldconfig || echo /sbin/ldconfig)" -p | grep -q "${lib%%:*}" || missing+=("${lib##*:}")
done
command -v node >/dev/null 2>&1 || missing+=(nodejs)  # the tests check casegraph's Cypher with Neo4j's own parser (npm)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)  # the tests drive the HTML report in headless Chromium (Playwright)

if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing system packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python3 - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"casegraph needs Python 3.11 or newer; found {sys.version.split()[0]}")
PY

[ -x .venv/bin/python ] || python3 -m venv .venv
# The Python dependencies come from requirements.lock (every version pinned, every file's SHA-256
# checked; `bash scripts/lock.sh` regenerates it from pyproject.toml), then casegraph itself.
stamp=".venv/.casegraph-installed-$(cat pyproject.toml requirements.lock | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing casegraph and its locked Python dependencies into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes -r requirements.lock
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
  rm -f .venv/.casegraph-installed-* && touch "$stamp"
fi

# Neo4j's Cypher parser (@neo4j-cypher/language-support), pinned by tools/cypher-lint/package-lock.json
if [ ! -d tools/cypher-lint/node_modules/@neo4j-cypher/language-support ]; then
  echo "bootstrap: installing the Cypher checker (npm)"
  (cd tools/cypher-lint && npm ci --no-audit --no-fund --loglevel=error)
fi

# Cytoscape.js and d3, inlined into the HTML report, pinned by tools/report-assets/package-lock.json
if [ ! -f tools/report-assets/node_modules/.package-lock.json ] || ! cmp -s tools/report-assets/package-lock.json tools/report-assets/node_modules/.casegraph-lock; then
  echo "bootstrap: installing the report's picture libraries (npm)"
  (cd tools/report-assets && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.casegraph-lock)
fi

# sql.js (SQLite in WebAssembly), copied into the portable case viewer of `casegraph bundle --viewer`,
# pinned by tools/viewer/package-lock.json
if [ ! -f tools/viewer/node_modules/.package-lock.json ] || ! cmp -s tools/viewer/package-lock.json tools/viewer/node_modules/.casegraph-lock; then
  echo "bootstrap: installing the case viewer's SQLite library (npm)"
  (cd tools/viewer && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.casegraph-lock)
fi
