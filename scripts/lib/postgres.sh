# Finds or starts a PostgreSQL server for Tidemark's scripts. Sourced, not run.
#
# After `tidemark_postgres`, PG_SERVER_URL points at a server where the `postgres` role
# (or the one in DATABASE_URL) may create databases:
#   1. DATABASE_URL, when set, is used as it is;
#   2. else a server at 127.0.0.1:5432 that accepts the postgres or current user;
#   3. else a private cluster under .dev/postgres (initdb + pg_ctl), installing the
#      Debian `postgresql` package first when it is missing and we are root.

TIDEMARK_ROOT=${TIDEMARK_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PRIVATE_PG_PORT=${TIDEMARK_PRIVATE_PG_PORT:-54329}

say() { printf 'tidemark: %s\n' "$*" >&2; }

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    say "please install: $* (apt-get install $*)"; return 1
  fi
  say "installing $* with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_bin_dir() {
  local initdb
  initdb=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)
  [ -n "$initdb" ] && dirname "$initdb"
}

can_connect() { psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1; }

start_private_cluster() {
  local bin dir run_as=()
  bin=$(pg_bin_dir) || true
  if [ -z "$bin" ]; then
    apt_install postgresql || return 1
    bin=$(pg_bin_dir)
  fi
  dir="$TIDEMARK_ROOT/.dev/postgres"
  if [ "$(id -u)" = 0 ]; then
    # initdb refuses to run as root: the cluster belongs to the postgres user, which must
    # be able to reach the folder; otherwise keep it in a folder it can reach.
    if ! su postgres -s /bin/sh -c "test -x '$TIDEMARK_ROOT'" 2>/dev/null; then
      dir="/var/tmp/tidemark-postgres-$(printf '%s' "$TIDEMARK_ROOT" | sha1sum | cut -c1-12)"
    fi
    mkdir -p "$dir" && chown postgres "$dir" && chmod 700 "$dir"
    run_as=(su postgres -s /bin/sh -c)
  else
    mkdir -p "$dir"
    run_as=(sh -c)
  fi
  if [ ! -f "$dir/PG_VERSION" ]; then
    say "creating a private PostgreSQL cluster in $dir"
    "${run_as[@]}" "'$bin/initdb' -D '$dir' -A trust -U postgres -E UTF8 >/dev/null" || return 1
  fi
  if ! "${run_as[@]}" "'$bin/pg_ctl' -D '$dir' status" >/dev/null 2>&1; then
    say "starting the private PostgreSQL cluster on 127.0.0.1:$PRIVATE_PG_PORT"
    "${run_as[@]}" "'$bin/pg_ctl' -D '$dir' -l '$dir/server.log' -w -o \"-p $PRIVATE_PG_PORT -k '$dir' -c listen_addresses=127.0.0.1\" start" >/dev/null || return 1
  fi
  PG_SERVER_URL="postgres://postgres@127.0.0.1:$PRIVATE_PG_PORT"
}

tidemark_postgres() {
  if ! command -v psql >/dev/null; then
    apt_install postgresql-client || return 1
  fi
  if [ -n "${DATABASE_URL:-}" ]; then
    PG_SERVER_URL=${DATABASE_URL%/*}
    return 0
  fi
  if [ -z "${TIDEMARK_PRIVATE_PG:-}" ]; then
    local user
    for user in postgres "$(id -un)"; do
      if can_connect "postgres://$user@127.0.0.1:5432/postgres"; then
        PG_SERVER_URL="postgres://$user@127.0.0.1:5432"
        return 0
      fi
    done
  fi
  start_private_cluster
}

# Creates database $1 on PG_SERVER_URL unless it exists.
ensure_database() {
  local exists
  exists=$(psql "$PG_SERVER_URL/postgres" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$1'") || return 1
  [ "$exists" = 1 ] || psql "$PG_SERVER_URL/postgres" -qc "CREATE DATABASE \"$1\"" >/dev/null
}
