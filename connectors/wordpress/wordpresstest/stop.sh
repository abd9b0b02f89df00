#!/usr/bin/env bash
# stop.sh: stop the WordPress that start.sh started, by its pid files only.
#
#   connectors/wordpress/wordpresstest/stop.sh [--purge]
#
# Stops lighttpd (and waits for its php-cgi workers, which lighttpd does not
# wait for), then MariaDB. Never looks processes up by name: it signals the pid
# in each pid file, after checking that the process's command line names this
# state directory, and the descendants it had when the signal was sent. Reads
# /proc directly (minimal images have no ps). Data stays, so the next start.sh
# takes about a second; --purge also deletes the state directory and the
# /etc/wordpress config file start.sh wrote.
#
# Environment: LASTMILE_WP_STATE (default /tmp/lastmile-wp), LASTMILE_WP_PORT
# (default 8088; only for --purge, to find the config file).
set -euo pipefail

STATE=${LASTMILE_WP_STATE:-/tmp/lastmile-wp}
PORT=${LASTMILE_WP_PORT:-8088}
PURGE=
case "${1:-}" in
"") ;;
--purge) PURGE=1 ;;
*)
	echo "usage: $0 [--purge]" >&2
	exit 2
	;;
esac

log() { printf 'wordpresstest: %s\n' "$*" >&2; }

# starttime PID: the process's start time (field 22 of /proc/PID/stat), which
# tells a process from a later one that reuses its pid.
starttime() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) } # the command name may hold spaces and parentheses
	# shellcheck disable=SC2086
	set -- $stat
	printf '%s\n' "${20}"
}

# children PID: the pids whose parent is PID.
children() {
	local d p k v
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		while read -r k v; do
			if [[ $k == PPid: ]]; then
				[[ $v == "$1" ]] && printf '%s\n' "$p"
				break
			fi
		done 2>/dev/null <"$d/status" || true
	done
}

# descendants PID: PID's children, their children, and so on.
descendants() {
	local c
	for c in $(children "$1"); do
		printf '%s\n' "$c"
		descendants "$c"
	done
}

# same PID START: PID still runs and is the process that started at START.
same() { [[ -d /proc/$1 && $(starttime "$1" 2>/dev/null) == "$2" ]]; }

# stop NAME PIDFILE WORD: stop the process in PIDFILE, if its command line
# names WORD, and everything it had spawned.
stop() {
	local name=$1 pidfile=$2 word=$3 pid p i left
	if [[ ! -s $pidfile ]]; then
		log "$name: no pid file ($pidfile), nothing to stop"
		return 0
	fi
	pid=$(<"$pidfile")
	if ! [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$word"; then
		log "$name: pid $pid from $pidfile is not running (or is another program): removing the stale pid file"
		rm -f "$pidfile"
		return 0
	fi
	local -a pids=("$pid") starts=()
	for p in $(descendants "$pid"); do pids+=("$p"); done
	for p in "${pids[@]}"; do starts+=("$(starttime "$p" 2>/dev/null || echo gone)"); done
	if ((${#pids[@]} > 1)); then
		log "$name: stopping pid $pid and its $((${#pids[@]} - 1)) worker process(es)"
	else
		log "$name: stopping pid $pid"
	fi
	kill -TERM "$pid" 2>/dev/null || true
	# Workers that outlive their parent get their own TERM after a moment.
	for i in $(seq 1 300); do
		left=0
		for j in "${!pids[@]}"; do
			same "${pids[$j]}" "${starts[$j]}" && left=$((left + 1))
		done
		((left == 0)) && break
		if ((i == 20)); then
			for j in "${!pids[@]}"; do
				same "${pids[$j]}" "${starts[$j]}" && kill -TERM "${pids[$j]}" 2>/dev/null || true
			done
		fi
		sleep 0.1
	done
	if ((left > 0)); then
		log "$name: $left process(es) still up after 30 s: sending SIGKILL"
		for j in "${!pids[@]}"; do
			same "${pids[$j]}" "${starts[$j]}" && kill -KILL "${pids[$j]}" 2>/dev/null || true
		done
		for _ in $(seq 1 50); do
			left=0
			for j in "${!pids[@]}"; do
				same "${pids[$j]}" "${starts[$j]}" && left=$((left + 1))
			done
			((left == 0)) && break
			sleep 0.1
		done
	fi
	rm -f "$pidfile"
	log "$name: stopped"
}

stop lighttpd "$STATE/lighttpd.pid" "$STATE/lighttpd.conf"
rm -f "$STATE/php/php.sock"* 2>/dev/null || true
stop MariaDB "$STATE/mysqld.pid" "$STATE/db"

if [[ -n $PURGE ]]; then
	config="/etc/wordpress/config-lastmile-it-${PORT}.php"
	if [[ -f $config ]] && grep -qxF "// Written by lastmile's connectors/wordpress/wordpresstest/start.sh" "$config"; then
		rm -f "$config"
		log "removed $config"
	fi
	case "$STATE" in
	/ | /tmp | /root | /home | /usr | /var | /etc) log "refusing to delete $STATE" ;;
	*)
		rm -rf -- "$STATE"
		log "removed $STATE"
		;;
	esac
fi
