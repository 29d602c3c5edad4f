#!/usr/bin/env bash
# Project-local PostgreSQL and Redis for development and tests.
#
#   scripts/services.sh start RUN_DIR   install (Debian packages) when absent, start, write RUN_DIR/services.env
#   scripts/services.sh stop RUN_DIR    stop what start started
#   scripts/services.sh status RUN_DIR
#   scripts/services.sh packages RUN_DIR  only install what the tests use (servers, nginx, Chromium)
#
# The clusters listen on 127.0.0.1 only, on ports picked free the first time and kept in RUN_DIR.
set -euo pipefail

cmd=${1:?usage: services.sh start|stop|status|packages RUN_DIR}
run_dir=${2:?usage: services.sh start|stop|status|packages RUN_DIR}
mkdir -p "$run_dir"
run_dir=$(cd "$run_dir" && pwd)

log() { echo "services: $*" >&2; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    log "need $* from Debian packages; run as root or install them first"; exit 1
  fi
  log "installing $* from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "$@" >/dev/null
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

ensure_packages() {
  local pkgs=()
  [ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ] || pkgs+=(postgresql postgresql-contrib)
  command -v redis-server >/dev/null || pkgs+=(redis-server)
  # The deploy tests run real nginx in front of the app, with a self-signed certificate.
  command -v nginx >/dev/null || pkgs+=(nginx-light)
  command -v openssl >/dev/null || pkgs+=(openssl)
  # The operator panel's browser tests drive Debian's Chromium through Playwright.
  [ -x /usr/bin/chromium ] || pkgs+=(chromium)
  [ ${#pkgs[@]} -eq 0 ] || apt_install "${pkgs[@]}"
  # btree_gist (the no-overlap constraint) and pg_stat_statements (the benchmarks count statements;
  # preloaded in the clusters started here) ship in the server package from PostgreSQL 10 on.
  local share; share=$("$(pg_bin)/pg_config" --sharedir 2>/dev/null || echo "/usr/share/postgresql/$(basename "$(dirname "$(pg_bin)")")")
  [ -f "$share/extension/btree_gist.control" ] && [ -f "$share/extension/pg_stat_statements.control" ] \
    || apt_install postgresql-contrib
}

free_port() {
  python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# PostgreSQL refuses to run as root, so its files belong to the postgres user. When that user
# cannot reach RUN_DIR (a private home or checkout), its data lives under /var/tmp instead.
pg_data_dir() {
  local dir="$run_dir/pg"
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$dir" && chown postgres:postgres "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      dir="/var/tmp/alojamientos-$(echo -n "$run_dir" | md5sum | cut -c1-12)/pg"
      mkdir -p "$dir" && chown -R postgres:postgres "$(dirname "$dir")"
    fi
  fi
  mkdir -p "$dir"
  echo "$dir"
}

start_postgres() {
  local bin; bin=$(pg_bin)
  local dir; dir=$(pg_data_dir)
  local port_file="$run_dir/pg.port"
  [ -s "$port_file" ] || free_port > "$port_file"
  local port; port=$(cat "$port_file")
  echo "$dir" > "$run_dir/pg.dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    log "initialising PostgreSQL cluster in $dir/data"
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if as_postgres "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    log "PostgreSQL already running on 127.0.0.1:$port"
  else
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=200 -c fsync=off -c shared_preload_libraries=pg_stat_statements" \
      start >/dev/null || { tail -n 20 "$dir/postgres.log" >&2; exit 1; }
    log "PostgreSQL started on 127.0.0.1:$port"
  fi
  local psql=("$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qAt)
  if [ -z "$("${psql[@]}" -c "select 1 from pg_roles where rolname='aloj'")" ]; then
    "${psql[@]}" -c "create role aloj login superuser"
  fi
  for db in alojamientos alojamientos_test; do
    if [ -z "$("${psql[@]}" -c "select 1 from pg_database where datname='$db'")" ]; then
      "${psql[@]}" -c "create database $db owner aloj"
    fi
  done
  echo "$port"
}

start_redis() {
  local port_file="$run_dir/redis.port"
  [ -s "$port_file" ] || free_port > "$port_file"
  local port; port=$(cat "$port_file")
  mkdir -p "$run_dir/redis"
  if redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
    log "Redis already running on 127.0.0.1:$port"
  else
    redis-server --bind 127.0.0.1 --port "$port" --dir "$run_dir/redis" --daemonize yes \
      --pidfile "$run_dir/redis/redis.pid" --logfile "$run_dir/redis/redis.log" \
      --appendonly yes --save "" >/dev/null
    for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null || { log "Redis did not start"; tail -n 20 "$run_dir/redis/redis.log" >&2; exit 1; }
    log "Redis started on 127.0.0.1:$port"
  fi
  echo "$port"
}

case "$cmd" in
  start)
    ensure_packages
    pg_port=$(start_postgres)
    redis_port=$(start_redis)
    cat > "$run_dir/services.env" <<ENV
export DATABASE_URL=postgresql://aloj@127.0.0.1:$pg_port/alojamientos
export TEST_DATABASE_URL=postgresql://aloj@127.0.0.1:$pg_port/alojamientos_test
export REDIS_URL=redis://127.0.0.1:$redis_port/0
ENV
    ;;
  stop)
    # Commands find the running servers through services.env (alojamientos.config): stopped, none.
    rm -f "$run_dir/services.env"
    if [ -s "$run_dir/pg.dir" ] && [ -f "$(cat "$run_dir/pg.dir")/data/PG_VERSION" ]; then
      as_postgres "$(pg_bin)/pg_ctl" -D "$(cat "$run_dir/pg.dir")/data" -m fast -w stop >/dev/null 2>&1 \
        && log "PostgreSQL stopped" || true
    fi
    if [ -s "$run_dir/redis.port" ]; then
      redis-cli -h 127.0.0.1 -p "$(cat "$run_dir/redis.port")" shutdown nosave >/dev/null 2>&1 \
        && log "Redis stopped" || true
    fi
    ;;
  packages)
    ensure_packages
    ;;
  status)
    [ -s "$run_dir/pg.dir" ] && as_postgres "$(pg_bin)/pg_ctl" -D "$(cat "$run_dir/pg.dir")/data" status || echo "PostgreSQL: not running"
    [ -s "$run_dir/redis.port" ] && redis-cli -h 127.0.0.1 -p "$(cat "$run_dir/redis.port")" ping || echo "Redis: not running"
    ;;
  *) echo "usage: services.sh start|stop|status|packages RUN_DIR" >&2; exit 2 ;;
esac
