#!/bin/sh
# apt-install.sh COMMAND PACKAGE... makes sure COMMAND is on PATH,
# installing Debian's PACKAGEs when it is not. It does nothing when the
# command is there already, so it is safe to run repeatedly. It runs
# apt-get directly as root and through sudo otherwise.
set -eu

if [ $# -lt 2 ]; then
	echo "usage: apt-install.sh COMMAND PACKAGE..." >&2
	exit 2
fi
cmd=$1
shift
if command -v "$cmd" >/dev/null 2>&1; then
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	SUDO=
elif command -v sudo >/dev/null 2>&1; then
	SUDO=sudo
else
	echo "apt-install.sh: $cmd is missing and installing $* needs root (or sudo)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Run quietly, but show apt's own words if it fails.
quiet() {
	if ! "$@" >"$log" 2>&1; then
		cat "$log" >&2
		echo "apt-install.sh: failed: $*" >&2
		exit 1
	fi
}
# Update the package lists only when a package is not already known to apt.
for p in "$@"; do
	if ! apt-cache show "$p" >/dev/null 2>&1; then
		quiet $SUDO apt-get update
		break
	fi
done
echo "apt-install.sh: installing $* for $cmd" >&2
quiet $SUDO apt-get install -y --no-install-recommends "$@"

if ! command -v "$cmd" >/dev/null 2>&1; then
	echo "apt-install.sh: installed $* but $cmd is still not on PATH" >&2
	exit 1
fi
