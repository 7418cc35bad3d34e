#!/usr/bin/env bash
# tests/ui/run.sh - the web console (web/) in a real browser: Debian's
# chromium, headless, driven by playwright-core (pinned in package.json and
# package-lock.json here; no browser download) against the test stack.
#
# Installs what is missing by itself: chromium (and a font) with apt-get
# through scripts/deps.sh, node and npm the same way, playwright-core with
# `npm ci` (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1). Anything missing that cannot
# be installed is a failure, never a skip.
#
# Run by tests/run.sh (suite "ui") with TG_BASE_URL, TG_ADMIN_USER and
# TG_ADMIN_PASSWORD of the test stack. TG_UI_SCREENSHOTS=DIR also writes the
# screenshots of docs/ui.md (e.g. TG_UI_SCREENSHOTS=docs/img). Last line:
# "N passed, N failed".
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd "$HERE/../.." && pwd -P)
fail() { # what [output]
	printf '  FAIL %s\n' "$1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | tail -n 30 | sed 's/^/       | /'
	echo "0 passed, 1 failed"
	exit 1
}

for v in TG_BASE_URL TG_ADMIN_USER TG_ADMIN_PASSWORD; do
	[ -n "${!v:-}" ] || fail "environment: $v is not set (run through tests/run.sh)"
done

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
# Only what is missing: a node from another source (NodeSource's nodejs
# package, which conflicts with Debian's npm) must not pull in Debian's npm.
want=()
[ -x "$CHROMIUM" ] || want+=(chromium fonts-dejavu-core)
command -v node >/dev/null 2>&1 || want+=(nodejs)
command -v npm >/dev/null 2>&1 || want+=(npm)
if [ ${#want[@]} -gt 0 ]; then
	echo "  installing ${want[*]} (apt-get)"
	if ! out=$(bash "$ROOT/scripts/deps.sh" "${want[@]}" 2>&1); then
		fail "install ${want[*]}" "$out"
	fi
fi
[ -x "$CHROMIUM" ] || fail "$CHROMIUM missing after installing chromium"
command -v node >/dev/null 2>&1 || fail "node missing after installing nodejs"
# playwright-core 1.65 needs Node.js 20 or later (the machines have 20;
# Debian 12's own nodejs is 18).
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
[ "${major:-0}" -ge 20 ] 2>/dev/null || fail "Node.js $(node --version 2>&1) is too old for playwright-core (needs 20 or later)"

# playwright-core at the version of package-lock.json, without a browser.
want=$(sed -n 's/.*"playwright-core": *"\([0-9][0-9.]*\)".*/\1/p' "$HERE/package.json" | head -n 1)
have=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$HERE/node_modules/playwright-core/package.json" 2>/dev/null | head -n 1)
if [ -z "$want" ]; then
	fail "tests/ui/package.json names no playwright-core version"
elif [ "$have" != "$want" ]; then
	echo "  npm ci (playwright-core $want)"
	if ! out=$(cd "$HERE" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts 2>&1); then
		fail "npm ci in tests/ui" "$out"
	fi
fi

export CHROMIUM
# A relative screenshot directory is relative to where run.sh was started.
if [ -n "${TG_UI_SCREENSHOTS:-}" ] && [ "${TG_UI_SCREENSHOTS#/}" = "$TG_UI_SCREENSHOTS" ]; then
	export TG_UI_SCREENSHOTS="$PWD/$TG_UI_SCREENSHOTS"
fi
# Chromium's own chatter (dbus, GPU) goes to a log, the results to stdout.
LOG=${TG_UI_LOG:-$ROOT/var/test-logs/ui-browser.log}
mkdir -p "$(dirname "$LOG")"
export TG_UI_FAILSHOTS=${TG_UI_FAILSHOTS:-$(dirname "$LOG")/ui-failures}
# The OAuth flow test (oauth.test.mjs) drives the official MCP SDK client
# from tests/interop/node_modules: install it there when it is missing.
if [ ! -f "$ROOT/tests/interop/node_modules/@modelcontextprotocol/sdk/package.json" ]; then
	echo "  npm ci (tests/interop: the MCP SDK for the OAuth flow)"
	if ! out=$(cd "$ROOT/tests/interop" && npm ci --no-audit --no-fund --prefer-offline 2>&1); then
		fail "npm ci in tests/interop" "$out"
	fi
fi
# The package-request case resolves tgdep from the suite's package index
# (tests/run.sh serves $TG_PKGINDEX_DIR; test_packages builds it, this
# builds it when the integration suite did not run first).
if [ -n "${TG_PKGINDEX_DIR:-}" ] && [ ! -e "$TG_PKGINDEX_DIR/simple/tgdep/index.html" ]; then
	if ! out=$(python3 "$ROOT/tests/packages/make_index.py" "$TG_PKGINDEX_DIR" 2>&1); then
		fail "build the package index" "$out"
	fi
fi
# Both browser tests; their "N passed, N failed" lines are added up.
cd "$HERE" || fail "cd $HERE"
P=0
F=0
for t in console.test.mjs oauth.test.mjs; do
	echo "  -- $t"
	out=$(node "$t" 2>>"$LOG")
	printf '%s\n' "$out" | sed '$d'
	last=$(printf '%s\n' "$out" | tail -n 1)
	if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		P=$((P + BASH_REMATCH[1]))
		F=$((F + BASH_REMATCH[2]))
	else
		printf '  FAIL %s printed no summary\n' "$t"
		F=$((F + 1))
	fi
done
echo "$P passed, $F failed"
[ "$F" = 0 ]
