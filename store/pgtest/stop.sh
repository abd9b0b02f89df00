#!/usr/bin/env bash
# stop.sh: stop the PostgreSQL cluster store/pgtest/start.sh started.
#
#   store/pgtest/stop.sh
#
# Stops the cluster through pg_ctlcluster (never by process name). Data, the
# role and its password stay, so the next start.sh takes about a second.
#
# Environment: LASTMILE_PG_STATE (default /tmp/lastmile-pg).
set -euo pipefail
STATE=${LASTMILE_PG_STATE:-/tmp/lastmile-pg}
[[ -s $STATE/version ]] || { echo "pgtest: nothing started from $STATE" >&2; exit 0; }
VERSION=$(<"$STATE/version")
status=$(pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main" { print $4 }')
if [[ $status == online ]]; then
	echo "pgtest: stopping PostgreSQL $VERSION main" >&2
	pg_ctlcluster "$VERSION" main stop >&2
fi
