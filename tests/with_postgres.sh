#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster: initdb in a temporary folder, start it on
# a free local port, export ACADEMY_TEST_DATABASE_URL, run the command, then stop and delete the
# cluster whatever the command's result. Uses Debian's postgresql package (make test installs it).
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ]; then
  echo "with_postgres.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 2
fi

workdir=$(mktemp -d /tmp/academy-pg.XXXXXX)
port=${ACADEMY_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}

as_pg() {
  # PostgreSQL refuses to run as root; as root, run it as the postgres account.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "$(id -u)" = 0 ]; then chown postgres "$workdir"; fi
cleanup() {
  as_pg "$bindir/pg_ctl" -D "$workdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT

as_pg "$bindir/initdb" -D "$workdir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$bindir/pg_ctl" -D "$workdir/data" -l "$workdir/log" -w \
  -o "-p $port -k $workdir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200" start >/dev/null

export ACADEMY_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/postgres"
echo "with_postgres.sh: PostgreSQL on 127.0.0.1:$port"
set +e
"$@"
status=$?
set -e
exit $status
