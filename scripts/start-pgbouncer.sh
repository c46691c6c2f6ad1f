#!/usr/bin/env bash
# Starts PgBouncer in transaction mode in front of the local PostgreSQL
# (127.0.0.1:5432, trust auth), listening on 127.0.0.1:${PGBOUNCER_PORT:-6432},
# as the tests of the pooled connection expect it (TEST_PGBOUNCER_URL).
# Every database of the server is reachable through it by name.
# Usage: scripts/start-pgbouncer.sh   (prints the URL to use, without a database)
set -euo pipefail

port="${PGBOUNCER_PORT:-6432}"
dir="${PGBOUNCER_DIR:-/tmp/stores-api-pgbouncer}"
if ! command -v pgbouncer >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
fi
# Debian's package starts a pgbouncer of its own on 6432; ours replaces it.
pkill -x pgbouncer 2>/dev/null || true
sleep 0.5

mkdir -p "$dir"
cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${dir}/userlist.txt
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
logfile = ${dir}/pgbouncer.log
pidfile = ${dir}/pgbouncer.pid
INI
echo '"postgres" ""' >"$dir/userlist.txt"
chown -R postgres "$dir" 2>/dev/null || true

# PgBouncer refuses to run as root: -u drops to the postgres user.
if [ "$(id -u)" = 0 ]; then
  pgbouncer -d -u postgres "$dir/pgbouncer.ini"
else
  pgbouncer -d "$dir/pgbouncer.ini"
fi
for _ in $(seq 1 50); do
  if pg_isready -h 127.0.0.1 -p "$port" -q 2>/dev/null; then
    echo "postgres://postgres@127.0.0.1:${port}/"
    exit 0
  fi
  sleep 0.1
done
echo "PgBouncer did not start; its log:" >&2
cat "$dir/pgbouncer.log" >&2 || true
exit 1
