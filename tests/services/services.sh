#!/usr/bin/env bash
# Installs (when missing) and starts the services the test suite uses. Sourced by run-tests.sh.
services_start() {
  chromium_install
  postgres_start
  redis_start
}
services_stop() {
  redis_stop
  postgres_stop
}

# --- PostgreSQL: a throwaway server on loopback; sets TEST_POSTGRES_URL -------------------------
postgres_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  return 1
}
postgres_start() {
  if ! postgres_bin >/dev/null; then
    echo "services: installing postgresql" >&2
    if [ "$(id -u)" = 0 ]; then
      apt-get install -y -qq postgresql >/dev/null || { apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; }
    else
      sudo apt-get install -y -qq postgresql >/dev/null
    fi
  fi
  local bin; bin="$(postgres_bin)" || { echo "services: no PostgreSQL, its tests will skip" >&2; return 0; }
  PG_TMP="$(mktemp -d /tmp/accrual-pg.XXXXXX)"
  local port; port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  local as_pg=()
  if [ "$(id -u)" = 0 ]; then chown postgres "$PG_TMP"; as_pg=(runuser -u postgres --); fi
  "${as_pg[@]}" "$bin/initdb" -D "$PG_TMP/data" -A trust -U postgres >/dev/null
  "${as_pg[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/log" -w \
    -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100" start >/dev/null
  PG_BIN="$bin"
  export TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
  echo "services: PostgreSQL on 127.0.0.1:$port" >&2
}
postgres_stop() {
  [ -n "${PG_TMP:-}" ] || return 0
  local as_pg=()
  [ "$(id -u)" = 0 ] && as_pg=(runuser -u postgres --)
  "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_TMP"
  unset TEST_POSTGRES_URL PG_TMP
}

# --- Redis: a throwaway server on loopback, no persistence; sets TEST_REDIS_URL ---------------------
redis_start() {
  if ! command -v redis-server >/dev/null; then
    echo "services: installing redis-server" >&2
    if [ "$(id -u)" = 0 ]; then
      apt-get install -y -qq redis-server >/dev/null 2>&1 \
        || { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; } || true
    else
      sudo apt-get install -y -qq redis-server >/dev/null || true
    fi
  fi
  command -v redis-server >/dev/null || { echo "services: no Redis, its tests will skip" >&2; return 0; }
  REDIS_TMP="$(mktemp -d /tmp/accrual-redis.XXXXXX)"
  local port; port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  # No RDB snapshots and no append-only file: nothing is written to disk, nothing outlives the run.
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize yes \
    --dir "$REDIS_TMP" --pidfile "$REDIS_TMP/redis.pid" --logfile "$REDIS_TMP/log" >/dev/null
  local tries=0
  until redis-cli -p "$port" ping >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 100 ] || { echo "services: Redis did not start, its tests will skip" >&2; redis_stop; return 0; }
    sleep 0.1
  done
  REDIS_PORT="$port"
  export TEST_REDIS_URL="redis://127.0.0.1:$port/0"
  echo "services: Redis on 127.0.0.1:$port" >&2
}
redis_stop() {
  [ -n "${REDIS_TMP:-}" ] || return 0
  if [ -n "${REDIS_PORT:-}" ]; then
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  elif [ -s "$REDIS_TMP/redis.pid" ]; then
    kill "$(cat "$REDIS_TMP/redis.pid")" 2>/dev/null || true
  fi
  rm -rf "$REDIS_TMP"
  unset TEST_REDIS_URL REDIS_TMP REDIS_PORT
}

# --- Chromium: the Debian package, driven by Playwright in the playground's browser tests ---------
chromium_install() {
  [ -x /usr/bin/chromium ] && return 0
  echo "services: installing chromium" >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y -qq chromium >/dev/null 2>&1 \
      || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || true
  else
    sudo apt-get install -y -qq chromium >/dev/null || true
  fi
  [ -x /usr/bin/chromium ] || echo "services: no Chromium, the browser tests will skip" >&2
}
