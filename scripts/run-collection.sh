#!/usr/bin/env bash
# Runs the Postman collection docs/stores-api.postman_collection.json with
# newman against the real server: builds the binary, starts it on a fresh
# SQLite database in a temporary directory, runs every request and its
# checks, then stops the server. Exits non-zero when any check fails.
#
#   scripts/run-collection.sh            # port 5055
#   PORT=5099 scripts/run-collection.sh
#
# newman comes from package.json (pinned in package-lock.json); it is
# installed with `npm ci` when node_modules is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORT:-5055}"
BASE_URL="http://127.0.0.1:${PORT}"

if [ ! -x node_modules/.bin/newman ]; then
  echo "== npm ci (newman)"
  npm ci --no-audit --no-fund
fi

# Another process on the port would answer in our server's place.
if (exec 3<>"/dev/tcp/127.0.0.1/${PORT}") 2>/dev/null; then
  echo "port ${PORT} is already in use: set PORT to a free one" >&2
  exit 1
fi

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "${SERVER_PID}" ] && kill -0 "${SERVER_PID}" 2>/dev/null; then
    kill -TERM "${SERVER_PID}"
    wait "${SERVER_PID}" 2>/dev/null || true
  fi
  rm -rf "${WORK}"
}
trap cleanup EXIT

echo "== build"
go build -o "${WORK}/stores-api" .

echo "== start the server on ${BASE_URL} (fresh SQLite database)"
# env -i: only the settings below, so a developer's .env-style exports (a
# DATABASE_URL, ADMIN_EMAILS naming the collection's user) cannot leak in.
# The server runs in WORK, where there is no .env file to read either.
# AUTH_RATE_LIMIT=0: the collection logs in and refreshes more often than a
# person would. BCRYPT_COST=4: the cheapest hash; the collection checks
# behaviour, not hashing cost.
(
  cd "${WORK}"
  exec env -i PATH="${PATH}" HOME="${WORK}" \
    APP_ENV=development HOST=127.0.0.1 PORT="${PORT}" \
    DATABASE_URL="sqlite:///${WORK}/collection.db" \
    AUTH_RATE_LIMIT=0 BCRYPT_COST=4 LOG_LEVEL=warn \
    ./stores-api
) >"${WORK}/server.log" 2>&1 &
SERVER_PID=$!

# The binary's own healthcheck command probes GET /healthz of HOST:PORT.
probe() {
  (cd "${WORK}" && env -i HOST=127.0.0.1 PORT="${PORT}" ./stores-api healthcheck) </dev/null
}

# Wait until it answers; give up after 30 seconds or if the server exits.
for _ in $(seq 1 150); do
  if ! kill -0 "${SERVER_PID}" 2>/dev/null; then
    echo "the server exited during start-up:" >&2
    cat "${WORK}/server.log" >&2
    exit 1
  fi
  if probe >/dev/null 2>&1; then
    break
  fi
  sleep 0.2
done
if ! probe; then
  echo "the server did not answer on ${BASE_URL}:" >&2
  cat "${WORK}/server.log" >&2
  exit 1
fi

echo "== newman"
status=0
npx --no-install newman run docs/stores-api.postman_collection.json \
  --env-var "baseUrl=${BASE_URL}" --color off || status=$?
if [ "${status}" -ne 0 ]; then
  echo "== server log" >&2
  cat "${WORK}/server.log" >&2
fi
exit "${status}"
