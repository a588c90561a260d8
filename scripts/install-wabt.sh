#!/bin/sh
# install-wabt.sh makes sure wat2wasm (Debian's wabt package) is installed.
# It does nothing when wat2wasm is already on PATH, so it is safe to run
# repeatedly. It runs apt-get directly as root and through sudo otherwise.
set -eu

if command -v wat2wasm >/dev/null 2>&1; then
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	SUDO=
elif command -v sudo >/dev/null 2>&1; then
	SUDO=sudo
else
	echo "install-wabt.sh: wat2wasm is missing and installing wabt needs root (or sudo)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Run quietly, but show apt's own words if it fails.
quiet() {
	if ! "$@" >"$log" 2>&1; then
		cat "$log" >&2
		echo "install-wabt.sh: failed: $*" >&2
		exit 1
	fi
}
# Update the package lists only when wabt is not already known to apt.
if ! apt-cache show wabt >/dev/null 2>&1; then
	quiet $SUDO apt-get update
fi
quiet $SUDO apt-get install -y --no-install-recommends wabt

if ! command -v wat2wasm >/dev/null 2>&1; then
	echo "install-wabt.sh: installed wabt but wat2wasm is still not on PATH" >&2
	exit 1
fi
