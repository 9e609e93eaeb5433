#!/usr/bin/env bash
# Provide the services the test suite needs: PostgreSQL (a private, throwaway cluster) and Chromium.
#
#   scripts/test-services.sh [start]   install what is missing, start the cluster, verify, print URL
#   scripts/test-services.sh stop      stop the private cluster (its data dir is kept)
#   scripts/test-services.sh status    say whether the private cluster is running
#   scripts/test-services.sh url       print the test database URL
#
# Idempotent: safe to run any number of times, also concurrently (a lock serialises runs), and
# from a fresh machine (CI) where neither PostgreSQL nor Chromium is installed yet. Must run as
# root when something needs installing or the cluster needs starting (it runs as `postgres`).
#
# The cluster is NOT Debian's default one (port 5432, /var/lib/postgresql): it is a private one in
# $CHARTKEEPER_PG_DIR on 127.0.0.1:$CHARTKEEPER_PG_PORT, tuned for speed over durability, because
# its data is disposable - every test creates and drops its own database.
set -euo pipefail

PG_DIR="${CHARTKEEPER_PG_DIR:-/tmp/chartkeeper-pg}"
PG_PORT="${CHARTKEEPER_PG_PORT:-55432}"
PG_USER=chartkeeper
PG_PASSWORD=chartkeeper
PG_DB=chartkeeper_test
PG_URL="postgresql+psycopg://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${PG_PORT}/${PG_DB}"
CHROMIUM="${CHARTKEEPER_TEST_CHROMIUM:-/usr/bin/chromium}"
# The lock lives outside the data dir, because the data dir may be deleted and re-created.
LOCK_FILE="${PG_DIR%/}.lock"

log() { printf '[test-services] %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

# ---------------------------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------------------------

APT_UPDATED=0
apt_install() {
    # Non-interactive (CI has no stdin), wait for a dpkg lock held by another apt instead of
    # failing at once, and refresh the package lists at most once per run - and only when
    # something actually needs installing, so a machine that has everything never touches apt.
    [ "$(id -u)" -eq 0 ] || die "need root to apt-get install $*"
    export DEBIAN_FRONTEND=noninteractive
    local apt=(apt-get -q -o DPkg::Lock::Timeout=600)
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        "${apt[@]}" update >/dev/null
        APT_UPDATED=1
    fi
    log "apt-get install $*"
    # 9>&-: the postgresql package may start Debian's cluster; no daemon may inherit our lock.
    "${apt[@]}" install -y --no-install-recommends "$@" >/dev/null 9>&-
}

find_pg_bin() {
    # Newest installed server version wins; prints nothing when no server is installed.
    local initdb
    initdb=$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n 1 || true)
    [ -n "$initdb" ] && dirname "$initdb"
    return 0
}

ensure_packages() {
    local wanted=()
    [ -n "$(find_pg_bin)" ] || wanted+=(postgresql)
    # fonts-liberation: pages render with real metric-compatible fonts in screenshots.
    [ -x "$CHROMIUM" ] || wanted+=(chromium fonts-liberation)
    # runuser (util-linux) is how we drop to the postgres user; it is essential on Debian, but
    # make sure rather than fail obscurely.
    command -v runuser >/dev/null || wanted+=(util-linux)
    if [ "${#wanted[@]}" -gt 0 ]; then
        apt_install "${wanted[@]}"
    fi
    PG_BIN=$(find_pg_bin)
    [ -n "$PG_BIN" ] || die "PostgreSQL server binaries not found after install"
    [ -x "$CHROMIUM" ] || die "Chromium not found at $CHROMIUM after install"
    id postgres >/dev/null 2>&1 || die "OS user 'postgres' missing (the postgresql package makes it)"
}

# ---------------------------------------------------------------------------------------------
# The private PostgreSQL cluster
# ---------------------------------------------------------------------------------------------

as_postgres() {
    # initdb and postgres refuse to run as root; the cluster belongs to the `postgres` user.
    # cd / first: the caller's cwd (a repo under /root) may not be readable by postgres.
    (cd / && runuser -u postgres -- "$@")
}

pg_ctl_() { as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR" "$@"; }

# Superuser SQL over the unix socket inside the data dir (peer auth as `postgres`).
psql_super() {
    as_postgres "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -d postgres "$@"
}

write_config() {
    # Rewritten on every run so changes here reach existing clusters (on their next restart).
    # fsync/synchronous_commit/full_page_writes off: test data is disposable, speed matters.
    # Unix socket in the data dir: no clash with Debian's cluster on /var/run/postgresql.
    cat >"$PG_DIR/chartkeeper.conf" <<EOF
# Written by scripts/test-services.sh - a throwaway cluster for chartkeeper's tests.
listen_addresses = '127.0.0.1'
port = ${PG_PORT}
unix_socket_directories = '${PG_DIR}'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 128MB
max_wal_size = 1GB
log_min_messages = warning
log_min_error_statement = error
EOF
    chown postgres:postgres "$PG_DIR/chartkeeper.conf"
}

init_cluster() {
    log "initdb $PG_DIR"
    rm -rf "$PG_DIR"
    install -d -o postgres -g postgres -m 700 "$PG_DIR"
    # Peer auth on the socket (for this script, as postgres); passwords over TCP (for tests).
    as_postgres "$PG_BIN/initdb" -D "$PG_DIR" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=scram-sha-256 >/dev/null
    echo "include 'chartkeeper.conf'" >>"$PG_DIR/postgresql.conf"
    write_config
}

is_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2; }

start_cluster() {
    # 9>&-: the server would otherwise inherit the lock's fd and hold the lock for its lifetime.
    pg_ctl_ -w -t 60 -l "$PG_DIR/logfile" start >/dev/null 9>&-
}

ensure_running() {
    if [ ! -s "$PG_DIR/PG_VERSION" ]; then
        init_cluster
    elif [ "$(cat "$PG_DIR/PG_VERSION")" != "$(basename "$(dirname "$PG_BIN")")" ]; then
        # Left by another PostgreSQL major version: its data is disposable, start over.
        log "data dir is from PostgreSQL $(cat "$PG_DIR/PG_VERSION"); re-creating"
        pg_ctl_ -m immediate stop >/dev/null 2>&1 || true
        init_cluster
    else
        write_config
    fi

    if pg_ctl_ status >/dev/null 2>&1; then
        # Running (or a stale postmaster.pid whose PID was reused): trust it only if it answers.
        local _
        for _ in $(seq 1 10); do
            is_ready && return 0
            sleep 1
        done
        log "cluster claims to run but does not answer on port $PG_PORT; restarting"
        pg_ctl_ -m immediate stop >/dev/null 2>&1 || true
    fi

    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    if ! start_cluster; then
        # A cluster killed mid-write with fsync=off may not come back, and a stale lock file
        # may block it: the data is disposable, so re-create it once rather than fail.
        log "start failed; log tail:"
        tail -n 20 "$PG_DIR/logfile" >&2 || true
        pg_ctl_ -m immediate stop >/dev/null 2>&1 || true
        init_cluster
        start_cluster || {
            tail -n 40 "$PG_DIR/logfile" >&2 || true
            die "PostgreSQL would not start"
        }
    fi
}

ensure_role_and_db() {
    # Create or refresh the role every run (password and CREATEDB are what the tests rely on:
    # each test creates its own database). CREATE DATABASE cannot run inside DO, so check first.
    psql_super <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${PG_USER}') THEN
    CREATE ROLE ${PG_USER} LOGIN CREATEDB PASSWORD '${PG_PASSWORD}';
  ELSE
    ALTER ROLE ${PG_USER} LOGIN CREATEDB PASSWORD '${PG_PASSWORD}';
  END IF;
END
\$\$;
SQL
    if [ -z "$(psql_super -tAc "SELECT 1 FROM pg_database WHERE datname = '${PG_DB}'")" ]; then
        psql_super -c "CREATE DATABASE ${PG_DB} OWNER ${PG_USER} ENCODING 'UTF8'"
    fi
}

verify() {
    # The tests connect over TCP with a password, exactly like this.
    PGPASSWORD="$PG_PASSWORD" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" \
        -U "$PG_USER" -d "$PG_DB" -tAc 'SELECT 1' >/dev/null ||
        die "cannot connect to $PG_DB as $PG_USER on 127.0.0.1:$PG_PORT"

    # Prove the browser really renders, not just that the binary exists. --no-sandbox: we are
    # root; timeout: a wedged browser must not hang CI. Chromium's stderr is dbus noise here.
    local dom profile
    profile=$(mktemp -d)
    dom=$(timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-dev-shm-usage --user-data-dir="$profile" \
        --dump-dom 'data:text/html,<p>chartkeeper-ok</p>' 2>/dev/null || true)
    rm -rf "$profile"
    case "$dom" in
    *chartkeeper-ok*) ;;
    *) die "headless Chromium ($CHROMIUM) could not render a page" ;;
    esac
}

# ---------------------------------------------------------------------------------------------

cmd="${1:-start}"
case "$cmd" in
url)
    echo "$PG_URL"
    exit 0
    ;;
start | stop | status) ;;
*) die "usage: $0 [start|stop|status|url]" ;;
esac

# One run at a time: several worktrees on one machine may share this cluster.
exec 9>"$LOCK_FILE"
flock -w 600 9 || die "timed out waiting for $LOCK_FILE"

case "$cmd" in
stop)
    PG_BIN=$(find_pg_bin)
    if [ -n "$PG_BIN" ] && [ -s "$PG_DIR/PG_VERSION" ] && pg_ctl_ status >/dev/null 2>&1; then
        pg_ctl_ -m fast -w stop >/dev/null
        log "stopped"
    else
        log "not running"
    fi
    ;;
status)
    PG_BIN=$(find_pg_bin)
    if [ -n "$PG_BIN" ] && [ -s "$PG_DIR/PG_VERSION" ] && pg_ctl_ status >/dev/null 2>&1 && is_ready; then
        log "running: $PG_URL"
    else
        log "not running"
        exit 3
    fi
    ;;
start)
    ensure_packages
    ensure_running
    ensure_role_and_db
    verify
    log "ready: $("$PG_BIN/postgres" --version); $("$CHROMIUM" --version 2>/dev/null)"
    echo "$PG_URL"
    ;;
esac
