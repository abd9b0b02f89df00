#!/usr/bin/env bash
# start.sh: run a private, real WordPress 6.1 (Debian 12's packages) on
# 127.0.0.1 for lastmile's integration tests, installing what is missing.
#
#   eval "$(connectors/wordpress/wordpresstest/start.sh)"
#
# stdout carries only `export LASTMILE_WP_URL=… LASTMILE_WP_USER=…
# LASTMILE_WP_PASSWORD=…` lines (progress goes to stderr), so the output can be
# eval'd. Idempotent: run again while the instance is up, it prints the same
# exports at once; run after stop.sh, it restarts on the same data.
#
# Needs root (apt-get, the mysql and www-data users, /etc/wordpress). Works on
# a fresh Debian 12 with only Debian's mirror reachable: WordPress never calls
# out (cron, update checks and outbound HTTP are off).
#
# Environment (all optional):
#   LASTMILE_WP_STATE         state directory    (default /tmp/lastmile-wp)
#   LASTMILE_WP_PORT          HTTP port           (default 8088)
#   LASTMILE_WP_DB_PORT       MariaDB port        (default 3307)
#   LASTMILE_WP_USER          WordPress admin     (default lastmile)
#   LASTMILE_WP_PHP_CHILDREN  PHP FastCGI workers (default 4)
#
# State directory layout: mysqld.pid and lighttpd.pid (what stop.sh stops),
# url, user, password (the application password, 0600), db/ (MariaDB data),
# log/ (server logs), lighttpd.conf.
set -euo pipefail
umask 022

STATE=${LASTMILE_WP_STATE:-/tmp/lastmile-wp}
PORT=${LASTMILE_WP_PORT:-8088}
DB_PORT=${LASTMILE_WP_DB_PORT:-3307}
WP_ADMIN=${LASTMILE_WP_USER:-lastmile}
PHP_CHILDREN=${LASTMILE_WP_PHP_CHILDREN:-4}
URL="http://127.0.0.1:${PORT}"
CONFIG_NAME="lastmile-it-${PORT}"
CONFIG_FILE="/etc/wordpress/config-${CONFIG_NAME}.php"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CONFIG_TAG="// Written by lastmile's connectors/wordpress/wordpresstest/start.sh"
PACKAGES=(wordpress php php-cgi php-mysql lighttpd mariadb-server-core mariadb-client curl)

log() { printf 'wordpresstest: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

case "$STATE" in /*) ;; *) die "LASTMILE_WP_STATE must be an absolute path (got $STATE)" ;; esac
[[ $PORT =~ ^[0-9]+$ && $DB_PORT =~ ^[0-9]+$ ]] || die "LASTMILE_WP_PORT and LASTMILE_WP_DB_PORT must be port numbers"
[[ $WP_ADMIN =~ ^[a-z0-9_]+$ ]] || die "LASTMILE_WP_USER must be lower-case letters, digits and _"
[[ $PHP_CHILDREN =~ ^[0-9]+$ ]] || die "LASTMILE_WP_PHP_CHILDREN must be a number"

# alive PIDFILE WORD: the pid in PIDFILE runs and its command line names WORD
# (our state directory), so a recycled pid is never mistaken for our server.
alive() {
	local pid
	[[ -s $1 ]] || return 1
	pid=$(<"$1")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	[[ -r /proc/$pid/cmdline ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$2"
}

print_exports() {
	local user password
	user=$(<"$STATE/user")
	password=$(<"$STATE/password")
	printf 'export LASTMILE_WP_URL=%q LASTMILE_WP_USER=%q LASTMILE_WP_PASSWORD=%q\n' "$(<"$STATE/url")" "$user" "$password"
	# The state directory, so stop.sh and the Go helper find the same instance.
	printf 'export LASTMILE_WP_STATE=%q\n' "$STATE"
}

# Fast path: both servers up and answering.
if alive "$STATE/mysqld.pid" "$STATE/db" && alive "$STATE/lighttpd.pid" "$STATE/lighttpd.conf" &&
	[[ -s $STATE/password && -s $STATE/url ]] && [[ $(<"$STATE/url") == "$URL" ]]; then
	if curl -fsS -o /dev/null --max-time 10 "$URL/wp-json/"; then
		log "WordPress already running at $URL"
		print_exports
		exit 0
	fi
fi

[[ $(id -u) -eq 0 ]] || die "run as root: it installs packages and starts MariaDB and lighttpd as their own users"

# --- 1. Packages ------------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
	if [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) != "install ok installed" ]]; then
		missing+=("$p")
	fi
done
if ((${#missing[@]})); then
	log "installing ${missing[*]} (apt-get; about a minute on a fresh machine)"
	# Package scripts would start lighttpd on port 80 with Debian's default
	# config (and try MariaDB): a temporary policy-rc.d forbids service starts.
	created_policy=
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\n# temporary, from lastmile wordpresstest/start.sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		created_policy=1
	fi
	remove_policy() { [[ -n ${created_policy:-} ]] && rm -f /usr/sbin/policy-rc.d; created_policy=; }
	trap remove_policy EXIT
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2
	apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=600 "${PACKAGES[@]}" >&2
	remove_policy
	trap - EXIT
fi

# --- 2. State directory and secrets -------------------------------------------
# mariadb-server-core does not create the mysql user on a minimal image.
if ! id mysql >/dev/null 2>&1; then
	log "creating the mysql system user"
	if getent group mysql >/dev/null 2>&1; then
		useradd --system --gid mysql --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin mysql
	else
		useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin mysql
	fi
fi

mkdir -p "$STATE" "$STATE/log" "$STATE/run" "$STATE/php"
chmod 0755 "$STATE" "$STATE/log"
chown mysql:mysql "$STATE/run"
chmod 0755 "$STATE/run" # www-data's PHP reaches the MariaDB socket here
chown www-data:www-data "$STATE/php"
chmod 0700 "$STATE/php"
touch "$STATE/log/mysqld.log" "$STATE/log/lighttpd.log"
chown mysql:mysql "$STATE/log/mysqld.log"
chown www-data:www-data "$STATE/log/lighttpd.log"

# secret FILE: print the secret stored in FILE, generating it (0600) first.
secret() {
	if [[ ! -s $1 ]]; then
		(umask 077 && head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24 >"$1")
	fi
	chmod 0600 "$1"
	cat "$1"
}
DB_PASSWORD=$(secret "$STATE/db-password")
ADMIN_PASSWORD=$(secret "$STATE/admin-password")
printf '%s\n' "$URL" >"$STATE/url"
printf '%s\n' "$WP_ADMIN" >"$STATE/user"

# --- 3. MariaDB: a private instance on 127.0.0.1:$DB_PORT ---------------------
SOCK="$STATE/run/mysqld.sock"
if ! alive "$STATE/mysqld.pid" "$STATE/db"; then
	if [[ ! -d $STATE/db/mysql ]]; then
		log "creating the MariaDB data directory $STATE/db"
		rm -rf "$STATE/db"
		mkdir -p "$STATE/db"
		chown mysql:mysql "$STATE/db"
		chmod 0700 "$STATE/db"
		# --force: mariadb-install-db aborts when the host name does not
		# resolve (no /etc/hosts on minimal images).
		mariadb-install-db --no-defaults --user=mysql --datadir="$STATE/db" \
			--auth-root-authentication-method=socket --skip-test-db --force \
			>>"$STATE/log/mysqld-install.log" 2>&1 ||
			die "mariadb-install-db failed: see $STATE/log/mysqld-install.log"
	fi
	log "starting MariaDB on 127.0.0.1:$DB_PORT"
	# Left over when the previous server was killed.
	rm -f "$STATE/mysqld.pid" "$STATE/run/mysqld.pid" "$SOCK" "$SOCK.lock"
	# setsid and closed stdio: the server outlives this script and never holds
	# the pipe of `eval "$(start.sh)"` open.
	setsid mariadbd --no-defaults --user=mysql --datadir="$STATE/db" \
		--socket="$SOCK" --pid-file="$STATE/run/mysqld.pid" \
		--port="$DB_PORT" --bind-address=127.0.0.1 --skip-name-resolve \
		--log-error="$STATE/log/mysqld.log" --innodb-buffer-pool-size=64M \
		--max-connections=200 </dev/null >>"$STATE/log/mysqld.out" 2>&1 &
	for _ in $(seq 1 300); do
		if [[ -s $STATE/run/mysqld.pid ]] && mariadb-admin --no-defaults --socket="$SOCK" -uroot ping >/dev/null 2>&1; then
			break
		fi
		alive "$STATE/run/mysqld.pid" "$STATE/db" || [[ ! -s $STATE/run/mysqld.pid ]] || die "MariaDB exited: see $STATE/log/mysqld.log"
		sleep 0.1
	done
	mariadb-admin --no-defaults --socket="$SOCK" -uroot ping >/dev/null 2>&1 ||
		die "MariaDB did not come up within 30 s: see $STATE/log/mysqld.log"
	cp "$STATE/run/mysqld.pid" "$STATE/mysqld.pid"
fi
mariadb --no-defaults --socket="$SOCK" -uroot <<SQL
CREATE DATABASE IF NOT EXISTS wordpress CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'wordpress'@'localhost' IDENTIFIED BY '${DB_PASSWORD}';
ALTER USER 'wordpress'@'localhost' IDENTIFIED BY '${DB_PASSWORD}';
GRANT ALL PRIVILEGES ON wordpress.* TO 'wordpress'@'localhost';
SQL

# --- 4. WordPress config -----------------------------------------------------
# Debian's wp-config.php loads /etc/wordpress/config-$WORDPRESS_CONFIG.php when
# the web server sets WORDPRESS_CONFIG, so this instance has its own file.
if [[ -e $CONFIG_FILE ]] && ! grep -qxF "$CONFIG_TAG" "$CONFIG_FILE"; then
	die "$CONFIG_FILE exists and was not written by this script: refusing to overwrite it (choose another LASTMILE_WP_PORT)"
fi
tmp=$(mktemp /etc/wordpress/.config-lastmile.XXXXXX)
cat >"$tmp" <<PHP
<?php
$CONFIG_TAG
// for the integration-test instance in $STATE. Regenerated at every start.
define('DB_NAME', 'wordpress');
define('DB_USER', 'wordpress');
define('DB_PASSWORD', '${DB_PASSWORD}');
define('DB_HOST', 'localhost:${SOCK}');
define('DB_CHARSET', 'utf8mb4');
define('WP_CONTENT_DIR', '/var/lib/wordpress/wp-content');
define('WP_HOME', '${URL}');
define('WP_SITEURL', '${URL}');
// Application passwords are only offered over https or in a 'local' environment.
define('WP_ENVIRONMENT_TYPE', 'local');
// No internet: no cron requests, no update checks, no outbound HTTP.
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('WP_DEBUG', false);
\$table_prefix = 'wp_';
PHP
chown root:www-data "$tmp"
chmod 0640 "$tmp"
mv -f "$tmp" "$CONFIG_FILE"

# --- 5. lighttpd + php-cgi on 127.0.0.1:$PORT --------------------------------
cat >"$STATE/lighttpd.conf" <<CONF
# Generated by lastmile's wordpresstest/start.sh for $STATE.
server.modules = ( "mod_access", "mod_setenv", "mod_rewrite", "mod_fastcgi" )
server.document-root = "/usr/share/wordpress"
server.bind = "127.0.0.1"
server.port = $PORT
server.pid-file = "$STATE/lighttpd.pid"
server.errorlog = "$STATE/log/lighttpd.log"
server.username = "www-data"
server.groupname = "www-data"
server.max-connections = 256
index-file.names = ( "index.php" )
static-file.exclude-extensions = ( ".php" )
mimetype.assign = ( ".html" => "text/html", ".css" => "text/css", ".js" => "text/javascript",
  ".json" => "application/json", ".png" => "image/png", ".svg" => "image/svg+xml", "" => "application/octet-stream" )
setenv.add-environment = ( "WORDPRESS_CONFIG" => "$CONFIG_NAME" )
fastcgi.server = ( ".php" => ((
  "socket" => "$STATE/php/php.sock",
  "bin-path" => "/usr/bin/php-cgi",
  "max-procs" => 1,
  "bin-environment" => ( "PHP_FCGI_CHILDREN" => "$PHP_CHILDREN", "PHP_FCGI_MAX_REQUESTS" => "10000" ),
  "bin-copy-environment" => ( "PATH" ),
  "broken-scriptfilename" => "enable"
)))
# Pretty permalinks without .htaccess: every path that is not a file goes to index.php.
url.rewrite-if-not-file = ( "^/wp-admin/.*" => "\$0", "^/(.*)\$" => "/index.php/\$1" )
CONF

if ! alive "$STATE/lighttpd.pid" "$STATE/lighttpd.conf"; then
	rm -f "$STATE/lighttpd.pid" "$STATE/php/php.sock"*
	lighttpd -tt -f "$STATE/lighttpd.conf" >&2 || die "lighttpd rejected $STATE/lighttpd.conf"
	log "starting lighttpd + php-cgi on $URL"
	# lighttpd daemonizes itself and writes its pid file.
	setsid lighttpd -f "$STATE/lighttpd.conf" </dev/null >>"$STATE/log/lighttpd.out" 2>&1
	for _ in $(seq 1 100); do
		alive "$STATE/lighttpd.pid" "$STATE/lighttpd.conf" && curl -s -o /dev/null --max-time 5 "$URL/wp-includes/version.php" && break
		sleep 0.1
	done
	alive "$STATE/lighttpd.pid" "$STATE/lighttpd.conf" || die "lighttpd did not start: see $STATE/log/lighttpd.log"
fi

# --- 6. Install WordPress and make an application password -------------------
if [[ ! -s $STATE/password ]]; then
	log "installing WordPress (user $WP_ADMIN) and creating an application password"
	# The script goes in on stdin: www-data may not be able to read the checkout.
	php_out=$(cd / && runuser -u www-data -- env WORDPRESS_CONFIG="$CONFIG_NAME" \
		LM_URL="$URL" LM_USER="$WP_ADMIN" LM_PASS="$ADMIN_PASSWORD" \
		php -d display_errors=stderr -d 'error_reporting=E_ALL & ~E_DEPRECATED & ~E_NOTICE' <"$HERE/install.php") ||
		die "the WordPress install failed (PHP output above)"
	app_password=$(printf '%s\n' "$php_out" | sed -n 's/^LASTMILE_APP_PASSWORD=//p')
	[[ -n $app_password ]] || die "the WordPress install printed no application password"
	(umask 077 && printf '%s\n' "$app_password" >"$STATE/password")
	chmod 0600 "$STATE/password"
fi

# --- 7. Check it end to end --------------------------------------------------
user=$(<"$STATE/user")
password=$(<"$STATE/password")
# The credentials go through curl's stdin, not its command line (visible in /proc).
code=$(printf 'user = "%s:%s"\n' "$user" "$password" | curl -s -K - -o /dev/null -w '%{http_code}' --max-time 30 "$URL/wp-json/wp/v2/users/me?context=edit") || true
[[ $code == 200 ]] || die "GET $URL/wp-json/wp/v2/users/me answered HTTP $code with the application password: see $STATE/log/lighttpd.log"
log "WordPress $(sed -n "s/^\$wp_version = '\(.*\)';/\1/p" /usr/share/wordpress/wp-includes/version.php) is up at $URL (user $user)"
print_exports
