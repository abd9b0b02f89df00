#!/bin/sh
# The bundle's server on macOS and Linux: one manifest entry must serve
# every machine, and a Mac may be Apple silicon or Intel, so this picks
# the build for this one. (Windows runs server/lastmile.exe directly.)
here=$(dirname "$0")
case "$(uname -s)/$(uname -m)" in
Darwin/arm64) exec "$here/darwin-arm64/lastmile" "$@" ;;
Darwin/x86_64) exec "$here/darwin-amd64/lastmile" "$@" ;;
Linux/x86_64) exec "$here/linux-amd64/lastmile" "$@" ;;
Linux/aarch64 | Linux/arm64) exec "$here/linux-arm64/lastmile" "$@" ;;
esac
echo "lastmile: this bundle has no build for $(uname -s) $(uname -m)" >&2
exit 1
