#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL cluster: installs Debian's PostgreSQL if it is missing,
# creates a cluster in a temporary folder as an unprivileged user (the `postgres` system user when run
# as root), listening on 127.0.0.1 only on a free port, exports its admin URL as
# CART_SERVER_TEST_POSTGRES, runs the command, and stops and deletes the cluster whatever happens.
#
#   scripts/with-postgres.sh cargo test -p cart-server
#   PG_FSYNC=on scripts/with-postgres.sh ...   # durable commits (make bench); tests run with fsync off
set -euo pipefail

SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

BIN=$(pg_bin)
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  echo "with-postgres: installing Debian's postgresql" >&2
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  BIN=$(pg_bin)
fi

DIR=$(mktemp -d /tmp/cart-pg.XXXXXX)
AS=()
if [ "$(id -u)" = 0 ]; then
  # initdb refuses to run as root.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  chown postgres "$DIR"
  AS=(runuser -u postgres --)
fi
PORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')

stop() {
  "${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap stop EXIT

"${AS[@]}" "$BIN/initdb" -D "$DIR/data" -U cart -A trust -E UTF8 --no-sync >"$DIR/initdb.log" 2>&1 \
  || { cat "$DIR/initdb.log" >&2; exit 1; }
"${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
  -o "-h 127.0.0.1 -p $PORT -k $DIR -c fsync=${PG_FSYNC:-off} -c max_connections=400" start >/dev/null \
  || { cat "$DIR/server.log" >&2; exit 1; }
echo "with-postgres: PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (fsync ${PG_FSYNC:-off})" >&2

export CART_SERVER_TEST_POSTGRES="postgres://cart@127.0.0.1:$PORT/postgres"
"$@"
