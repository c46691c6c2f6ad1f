#!/usr/bin/env bash
# Lints resources/openapi.json, the document the server serves at
# /openapi.json, with the JavaScript tools most clients of it use:
# Spectral (the spectral:oas ruleset, .spectral.yaml) and Redocly
# (recommended, redocly.yaml). Any error of either fails; warnings are
# printed and let pass.
#
#   scripts/lint-openapi.sh
#   scripts/lint-openapi.sh path/to/other.json
#
# Both come from package.json (pinned in package-lock.json); they are
# installed with `npm ci` when node_modules lacks them.
set -euo pipefail
cd "$(dirname "$0")/.."

DOC="${1:-resources/openapi.json}"

# No usage reports or update checks from the tools.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true SCARF_ANALYTICS=false

if [ ! -x node_modules/.bin/spectral ] || [ ! -x node_modules/.bin/redocly ]; then
  echo "== npm ci (Spectral, Redocly)"
  npm ci --no-audit --no-fund
fi

status=0
echo "== Spectral $(node_modules/.bin/spectral --version) (spectral:oas)"
node_modules/.bin/spectral lint "${DOC}" --ruleset .spectral.yaml --fail-severity error --format stylish || status=1

echo "== Redocly $(node_modules/.bin/redocly --version 2>/dev/null | head -n 1) (recommended)"
node_modules/.bin/redocly lint "${DOC}" --config redocly.yaml --format stylish || status=1

exit "${status}"
