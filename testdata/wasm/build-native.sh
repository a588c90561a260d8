#!/bin/sh
# build-native.sh rebuilds the checked-in C and Rust task fixtures,
# c/copy.wasm and rust/copy.wasm, from c/copy.c and rust/copy.rs. With
# --check it builds them into a temporary directory instead and fails if
# either differs from the checked-in binary.
#
# It needs Debian 12's packages (apt-get install -y --no-install-recommends):
#   clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32   for C
#   rustc libstd-rust-dev-wasm32 lld-16                   for Rust
# The Rust build calls /usr/bin/rustc, not a rustup toolchain (which may
# lack the wasm32-wasi target), and links with lld-16's wasm-ld, since
# Debian does not package rustc's own rust-lld. Another compiler version
# builds a working module, but not the same bytes.
#
# Sources are compiled from their own directory by relative path, so no
# absolute path of this checkout ends up in a binary; the builds are then
# reproducible.
set -eu
cd "$(dirname "$0")"

check=false
case "${1:-}" in
--check) check=true ;;
"") ;;
*)
	echo "usage: $0 [--check]" >&2
	exit 2
	;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd c && clang-16 --target=wasm32-wasi -O2 -s -o "$tmp/c.wasm" copy.c)
(cd rust && /usr/bin/rustc --target wasm32-wasi -O -C strip=symbols \
	-C linker=wasm-ld-16 -o "$tmp/rust.wasm" copy.rs)

status=0
for lang in c rust; do
	if $check; then
		if ! cmp -s "$tmp/$lang.wasm" "$lang/copy.wasm"; then
			echo "build-native.sh: $lang/copy.wasm is not what $lang/copy.* builds to; run testdata/wasm/build-native.sh" >&2
			status=1
		fi
	else
		cp "$tmp/$lang.wasm" "$lang/copy.wasm"
	fi
done
exit $status
