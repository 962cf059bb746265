#!/bin/sh
# The cross-check of roster's access tokens with an independent library: core_jose_export
# mints tokens and writes the JWKS, then tests/e2e/jose/verify.mjs (the npm package jose)
# must accept the good ones and refuse the bad ones, and must refuse a token of the retired key
# against the JWKS published after two rotations.
# Usage: jose_check.sh EXPORT_BIN VERIFY_MJS
set -eu
export_bin=$1
verify=$2
command -v node >/dev/null || { echo "jose_check: node (Node.js 20) is required" >&2; exit 1; }
[ -d "$(dirname "$verify")/node_modules/jose" ] || {
	echo "jose_check: run 'npm ci --prefix $(dirname "$verify")' first (./scripts/test does)" >&2
	exit 1
}
dir=$(mktemp -d "${TMPDIR:-/tmp}/roster-jose-XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$export_bin" "$dir"
at=$(cat "$dir/at")
iss=$(cat "$dir/issuer")
fail=0
check() { # want(ok|bad) token-file jwks-file
	if out=$(node "$verify" --jwks "$3" --token "$2" --issuer "$iss" --at "$at"); then
		got=ok
	else
		got=bad
	fi
	echo "$(basename "$2") against $(basename "$3"): $got ($out)"
	[ "$got" = "$1" ] || { echo "  ^ want $1" >&2; fail=1; }
}
for t in "$dir"/ok_*.jwt; do check ok "$t" "$dir/jwks.json"; done
for t in "$dir"/bad_*.jwt; do check bad "$t" "$dir/jwks.json"; done
check bad "$dir/ok_previous.jwt" "$dir/jwks_after_two.json"
check ok "$dir/ok_current.jwt" "$dir/jwks_after_two.json"
# The claims as jose read them.
node "$verify" --jwks "$dir/jwks.json" --token "$dir/ok_current.jwt" --issuer "$iss" --at "$at" |
	grep -q '"alg":"ES256".*"sub":"u-1"' || { echo "jose_check: claims not as minted" >&2; fail=1; }
[ $fail -eq 0 ] && echo "jose_check: 9 passed, 0 failed" || echo "jose_check: some checks failed"
exit $fail
