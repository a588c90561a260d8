#!/bin/sh
# install-test-tools.sh installs the tools the end-to-end tests use into the
# repository's .tools/ directory (gitignored):
#
#   .tools/bin/aws-lambda-rie   AWS Lambda Runtime Interface Emulator
#   .tools/bin/staticcheck      the linter CI runs
#   .tools/node/node_modules    asl-validator and aws-local-stepfunctions,
#                               pinned by scripts/node/package-lock.json
#   .tools/moto                 moto's S3 server (moto_server) in a Python venv,
#                               only if the machine has no moto_server of the
#                               pinned version on PATH (internal/testutil/motos3
#                               looks here first, then on PATH)
#   .tools/node/with-resolvers.mjs
#                               the Promise.withResolvers polyfill that
#                               aws-local-stepfunctions needs on Node < 22:
#                               NODE_OPTIONS=--import=$PWD/.tools/node/with-resolvers.mjs
#
# It is idempotent: a tool already installed at the pinned version is left
# alone, so running it again costs a few version checks. Tests that need a
# tool skip with a message naming this script when it is missing.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
tools=$root/.tools
bin=$tools/bin
mkdir -p "$bin"

RIE_MODULE=github.com/aws/aws-lambda-runtime-interface-emulator
RIE_VERSION=v0.0.0-20261030222936-bef5c4ba774d
STATICCHECK_MODULE=honnef.co/go/tools
STATICCHECK_VERSION=v0.8.2

# go_tool NAME MODULE PACKAGE VERSION installs PACKAGE@VERSION as $bin/NAME
# unless that binary was already built from MODULE at VERSION.
go_tool() {
	name=$1 module=$2 pkg=$3 version=$4
	if [ -x "$bin/$name" ] &&
		go version -m "$bin/$name" 2>/dev/null | grep -q "mod[[:space:]]*$module[[:space:]]*$version"; then
		return 0
	fi
	echo "install-test-tools.sh: installing $pkg@$version" >&2
	# The tools are run on this machine only, so a static binary built
	# without cgo is the simplest thing that works everywhere.
	CGO_ENABLED=0 GOBIN="$bin" go install "$pkg@$version"
}

MOTO_VERSION=5.2.1

# moto_has_version PYTHON says whether PYTHON imports moto at MOTO_VERSION.
moto_has_version() {
	[ "$("$1" -c 'import moto; print(moto.__version__)' 2>/dev/null)" = "$MOTO_VERSION" ]
}

go_tool aws-lambda-rie "$RIE_MODULE" "$RIE_MODULE/cmd/aws-lambda-rie" "$RIE_VERSION"
go_tool staticcheck "$STATICCHECK_MODULE" "$STATICCHECK_MODULE/cmd/staticcheck" "$STATICCHECK_VERSION"

# moto's S3 server, the stricter S3 the S3 driver's conformance suite also
# runs against. A moto_server on PATH whose Python has the pinned moto is
# used as it is; otherwise the pinned moto goes into a venv under .tools.
if [ -x "$tools/moto/bin/moto_server" ] && moto_has_version "$tools/moto/bin/python"; then
	:
elif command -v moto_server >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1 && moto_has_version python3; then
	:
else
	"$root/scripts/apt-install.sh" python3 python3 python3-venv
	echo "install-test-tools.sh: installing moto[server]==$MOTO_VERSION into $tools/moto" >&2
	rm -rf "$tools/moto"
	python3 -m venv "$tools/moto"
	"$tools/moto/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi

# Node tools: install exactly what the committed lock file pins. The lock's
# hash is kept beside node_modules so an unchanged lock is not reinstalled.
node_dir=$tools/node
lock=$root/scripts/node/package-lock.json
"$root/scripts/apt-install.sh" npm nodejs npm
want=$(sha256sum "$lock" | cut -d' ' -f1)
have=$(cat "$node_dir/.lock.sha256" 2>/dev/null || true)
if [ "$want" != "$have" ] || [ ! -d "$node_dir/node_modules" ]; then
	echo "install-test-tools.sh: installing node tools into $node_dir" >&2
	mkdir -p "$node_dir"
	cp "$root/scripts/node/package.json" "$lock" "$node_dir/"
	# aws-local-stepfunctions 3.0.0 declares node >= 22 but runs on 20 with
	# a Promise.withResolvers polyfill, so the engine warning is expected.
	npm ci --prefix "$node_dir" --ignore-scripts --no-audit --no-fund --loglevel=error
	echo "$want" >"$node_dir/.lock.sha256"
fi
cp "$root/scripts/node/with-resolvers.mjs" "$node_dir/with-resolvers.mjs"
