#!/usr/bin/env bash
# start.sh: run Debian's PostgreSQL (15 on Debian 12) on 127.0.0.1 for
# lastmile's PostgreSQL store tests, installing it when missing.
#
#   eval "$(store/pgtest/start.sh)"
#
# stdout carries only `export LASTMILE_TEST_POSTGRES=… LASTMILE_REQUIRE_POSTGRES=1`
# lines (progress goes to stderr), so the output can be eval'd. Idempotent:
# run again while the server is up, it prints the same exports at once.
#
# Uses the distribution's default cluster (pg_ctlcluster VERSION main), made
# to listen on 127.0.0.1 only, with a role and a database of its own whose
# password is kept (0600) in the state directory. The tests create a schema
# per test in that database and drop it afterwards.
#
# Needs root (apt-get, the postgres user). Environment (all optional):
#   LASTMILE_PG_STATE   state directory        (default /tmp/lastmile-pg)
#   LASTMILE_PG_PORT    port                   (default 5432)
#   LASTMILE_PG_USER    role                   (default lastmile)
#   LASTMILE_PG_DB      database               (default lastmile_test)
set -euo pipefail
umask 022

STATE=${LASTMILE_PG_STATE:-/tmp/lastmile-pg}
PORT=${LASTMILE_PG_PORT:-5432}
ROLE=${LASTMILE_PG_USER:-lastmile}
DB=${LASTMILE_PG_DB:-lastmile_test}

log() { printf 'pgtest: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

case "$STATE" in /*) ;; *) die "LASTMILE_PG_STATE must be an absolute path (got $STATE)" ;; esac
[[ $PORT =~ ^[0-9]+$ ]] || die "LASTMILE_PG_PORT must be a port number"
[[ $ROLE =~ ^[a-z0-9_]+$ && $DB =~ ^[a-z0-9_]+$ ]] || die "LASTMILE_PG_USER and LASTMILE_PG_DB must be lower-case letters, digits and _"

print_exports() {
	printf 'export LASTMILE_TEST_POSTGRES=%q\n' "postgres://${ROLE}:$(<"$STATE/password")@127.0.0.1:${PORT}/${DB}?sslmode=disable"
	printf 'export LASTMILE_REQUIRE_POSTGRES=1\n'
}

# Fast path: up, and our role can log in.
if [[ -s $STATE/password ]] && command -v psql >/dev/null &&
	PGPASSWORD=$(<"$STATE/password") psql -h 127.0.0.1 -p "$PORT" -U "$ROLE" -d "$DB" -Atqc 'select 1' >/dev/null 2>&1; then
	log "PostgreSQL already running on 127.0.0.1:$PORT"
	print_exports
	exit 0
fi

[[ $(id -u) -eq 0 ]] || die "run as root: it installs packages and starts PostgreSQL as the postgres user"

# --- 1. Packages ------------------------------------------------------------
if [[ $(dpkg-query -W -f='${Status}' postgresql 2>/dev/null) != "install ok installed" ]]; then
	log "installing postgresql (apt-get; about a minute on a fresh machine)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2
	apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=600 postgresql >&2
fi

# --- 2. The default cluster, on 127.0.0.1 only --------------------------------
VERSION=$(pg_lsclusters -h 2>/dev/null | awk '$2 == "main" { print $1; exit }')
if [[ -z $VERSION ]]; then
	VERSION=$(ls /usr/lib/postgresql | sort -n | tail -1)
	[[ -n $VERSION ]] || die "no PostgreSQL server found under /usr/lib/postgresql"
	log "creating cluster $VERSION main"
	pg_createcluster "$VERSION" main >&2
fi
CONF_DIR=/etc/postgresql/$VERSION/main
mkdir -p "$CONF_DIR/conf.d"
cat >"$CONF_DIR/conf.d/lastmile-test.conf" <<CONF
# Written by lastmile's store/pgtest/start.sh. Regenerated at every start.
listen_addresses = '127.0.0.1'
port = $PORT
max_connections = 300
CONF
status=$(pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main" { print $4 }')
if [[ $status == online ]]; then
	log "restarting PostgreSQL $VERSION main for the listen address and port"
	pg_ctlcluster "$VERSION" main restart >&2
else
	log "starting PostgreSQL $VERSION main on 127.0.0.1:$PORT"
	pg_ctlcluster "$VERSION" main start >&2
fi
for _ in $(seq 1 100); do
	runuser -u postgres -- psql -p "$PORT" -Atqc 'select 1' >/dev/null 2>&1 && break
	sleep 0.1
done
runuser -u postgres -- psql -p "$PORT" -Atqc 'select 1' >/dev/null 2>&1 ||
	die "PostgreSQL did not come up: see /var/log/postgresql/postgresql-$VERSION-main.log"

# --- 3. Role, password, database ----------------------------------------------
mkdir -p "$STATE"
chmod 0700 "$STATE"
if [[ ! -s $STATE/password ]]; then
	(umask 077 && head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24 >"$STATE/password")
fi
chmod 0600 "$STATE/password"
PASSWORD=$(<"$STATE/password")
printf '%s\n' "$VERSION" >"$STATE/version"
# The password goes in on stdin, never on a command line (visible in /proc).
runuser -u postgres -- psql -p "$PORT" -v ON_ERROR_STOP=1 -q >&2 <<SQL
SELECT 'CREATE ROLE $ROLE LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE')\gexec
ALTER ROLE $ROLE LOGIN PASSWORD '$PASSWORD';
SELECT 'CREATE DATABASE $DB OWNER $ROLE' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB')\gexec
SQL
PGPASSWORD=$PASSWORD psql -h 127.0.0.1 -p "$PORT" -U "$ROLE" -d "$DB" -Atqc 'select 1' >/dev/null ||
	die "cannot log in as $ROLE on 127.0.0.1:$PORT"
log "PostgreSQL $VERSION is up on 127.0.0.1:$PORT (role $ROLE, database $DB)"
print_exports
