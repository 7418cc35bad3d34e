#!/usr/bin/env bash
# tests/run.sh - the one test runner; `make check` calls it after building
# (make all unit-build asan-build integration-build; integration-build also
# builds the sandbox helper's test build, build/tests/toolgate-sandbox-test,
# which the sandbox suite runs for the cases that need a test hook).
#
# Suites, in order:
#   unit         build/tests/unit/test_*        (cmocka)
#   asan         build-asan/tests/unit/test_*   (cmocka, ASan+UBSan)
#   valgrind     build/tests/unit/test_* under valgrind (when installed)
#   stack        a private test stack (var/test, port 18080, PG 55433) + smoke checks
#   integration  build/tests/integration/test_* against that stack (cmocka)
#   apache       tests/apache/run.sh: deploy/apache recipes under a real Apache
#                (mod_cgi, mod_fcgid) against that stack's database
#   ui           tests/ui/run.sh: the web console in Debian's chromium
#                (playwright-core) against that stack
#   sandbox      tests/sandbox/run.sh  (last line "N passed, N failed")
#   interop      tests/interop/run.sh  (same convention)
# A suite whose script or binary directory is missing is a failure, never a
# skip (only TG_SUITES and TG_VALGRIND=0 leave a suite out, on request); so
# are a tests/<suite>/test_*.c without its binary, a skipped cmocka test and
# a binary that ran fewer tests than it planned.
# Output: one line per binary/suite, the output of anything that failed, a table
# of suites, and as the very last line "N passed, N failed". Exit status 1 when
# anything failed, crashed, hung (timeout) or printed no summary.
#
# Knobs: TG_SUITES="unit asan ..." (subset, default all), TG_TEST_TIMEOUT (per
# binary, default 300 s), TG_SUITE_TIMEOUT (sandbox/interop, default 1800 s),
# TG_VALGRIND=0 (skip valgrind). Logs: var/test-logs/.
#
# Integration binaries get (from `scripts/stack.sh env`): PGHOST PGPORT PGUSER
# PGDATABASE TG_BASE_URL TG_VAR TG_STACK TG_ADMIN_USER TG_ADMIN_PASSWORD and the
# TOOLGATE_* settings of the test stack. `$TG_STACK pg-stop` / `pg-start` act on it.
set -uo pipefail
# The test stack is chosen below; a VAR/PORT from the caller must not redirect it.
unset VAR PORT PG_PORT TG_VAR TG_STACK

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT" || exit 1
STACK="$ROOT/scripts/stack.sh"
PGBIN_PSQL=psql
# TG_TEST_VAR/TG_TEST_PORT/TG_TEST_PG_PORT let several checkouts or engineers run
# the suite side by side; runs on the same VAR wait for each other (flock).
TEST_VAR=${TG_TEST_VAR:-$ROOT/var/test}
# HTTP port: TG_TEST_PORT, else 18080, or the next free one when another
# checkout's test stack holds it (the PostgreSQL port is a unix socket name in
# our own directory and never collides).
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
TEST_PORT=${TG_TEST_PORT:-}
if [ -z "$TEST_PORT" ]; then
	for TEST_PORT in $(seq 18080 18179); do port_free "$TEST_PORT" && break; done
fi
TEST_PG_PORT=${TG_TEST_PG_PORT:-55433}
LOGDIR="$TEST_VAR-logs"
mkdir -p "$(dirname "$TEST_VAR")"
exec 9>"$TEST_VAR.lock"
if ! flock -n 9; then
	echo "run.sh: another test run is using $TEST_VAR; waiting for it" >&2
	flock 9
fi
TIMEOUT=${TG_TEST_TIMEOUT:-300}
SUITE_TIMEOUT=${TG_SUITE_TIMEOUT:-1800}
SUITES=" ${TG_SUITES:-unit asan valgrind stack integration apache ui sandbox interop} "

rm -rf "$LOGDIR"
mkdir -p "$LOGDIR"

TOTAL_PASS=0
TOTAL_FAIL=0
SUMMARY=()
S_PASS=0   # current suite
S_FAIL=0

want() { case "$SUITES" in *" $1 "*) return 0 ;; esac; return 1; }

suite_begin() {
	S_PASS=0
	S_FAIL=0
	printf '\n== %s ==\n' "$1"
}

suite_end() {
	SUMMARY+=("$(printf '%-12s %5d passed, %d failed' "$1" "$S_PASS" "$S_FAIL")")
	TOTAL_PASS=$((TOTAL_PASS + S_PASS))
	TOTAL_FAIL=$((TOTAL_FAIL + S_FAIL))
}

# A failure that is not a test of a binary (missing suite, stack did not start...).
fail_check() { # label message [logfile]
	S_FAIL=$((S_FAIL + 1))
	printf '  FAIL %s: %s\n' "$1" "$2"
	if [ -n "${3:-}" ] && [ -s "$3" ]; then tail -n 60 "$3" | sed 's/^/       | /'; fi
}

pass_check() { # label
	S_PASS=$((S_PASS + 1))
	printf '  ok   %s\n' "$1"
}

binaries() { # dir -> executable test_* files, sorted
	local f
	for f in "$1"/test_*; do
		[ -f "$f" ] && [ -x "$f" ] || continue
		case "$f" in *.o | *.d | *.c | *.h | *.a | *.so) continue ;; esac
		printf '%s\n' "$f"
	done
}

# run_cmocka label [wrapper...] binary
# Runs one cmocka binary with TAP output, counts "ok"/"not ok" lines, and turns
# crashes, timeouts, sanitizer/valgrind errors and missing output into failures.
run_cmocka() {
	local label=$1 log rc p f s plans planned problem="" limit=$TIMEOUT
	shift
	log="$LOGDIR/$(printf '%s' "$label" | tr '/ ' '__').log"
	[ "$1" = valgrind ] && limit=$((TIMEOUT * 3))
	CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 10 "$limit" "$@" </dev/null >"$log" 2>&1
	rc=$?
	p=$(grep -cE '^ok [0-9]+' "$log")
	s=$(grep -cE '^not ok [0-9]+ # SKIP' "$log")
	f=$(grep -E '^not ok ' "$log" | grep -vcE '^not ok [0-9]+ # SKIP')
	plans=$(grep -cE '^1\.\.[0-9]+' "$log")
	planned=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$log" | awk '{n += $1} END {print n + 0}')
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		problem="timed out after ${limit}s"
	elif [ "$rc" -gt 128 ]; then
		problem="killed by signal $((rc - 128))"
	elif [ "$rc" = 99 ] && [ "$1" = valgrind ]; then
		problem="valgrind reported memory errors or leaks"
	elif [ "$rc" = 98 ]; then
		problem="sanitizer reported an error"
	elif [ "$plans" = 0 ]; then
		problem="printed no cmocka results (exit status $rc)"
	elif [ "$s" != 0 ]; then
		problem="$s skipped (a test that does not run is a failure)"
	elif [ $((p + f)) -lt "$planned" ]; then
		problem="ran $((p + f)) of the $planned planned tests"
	elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		problem="exit status $rc"
	fi
	[ -n "$problem" ] && f=$((f + 1))
	S_PASS=$((S_PASS + p))
	S_FAIL=$((S_FAIL + f))
	if [ "$f" = 0 ]; then
		printf '  ok   %s: %d passed\n' "$label" "$p"
	else
		printf '  FAIL %s: %d passed, %d failed%s\n' "$label" "$p" "$f" "${problem:+ ($problem)}"
		tail -n 150 "$log" | sed 's/^/       | /'
	fi
}

run_dir() { # label-prefix dir srcdir [wrapper...]
	local prefix=$1 dir=$2 src=$3 bin n=0 c
	shift 3
	while IFS= read -r bin; do
		n=$((n + 1))
		run_cmocka "$prefix/$(basename "$bin")" "$@" "$bin"
	done < <(binaries "$dir")
	if [ ! -d "$dir" ]; then
		fail_check "$prefix" "${dir#"$ROOT"/} does not exist (a missing suite is a failure; did the build run?)"
	elif [ "$n" = 0 ]; then
		fail_check "$prefix" "no test binaries in ${dir#"$ROOT"/} (did the build run?)"
	fi
	# Every test source has its binary: one that failed to build is a
	# failure, not a smaller suite.
	for c in "$src"/test_*.c; do
		[ -e "$c" ] || continue
		bin="$dir/$(basename "$c" .c)"
		[ -x "$bin" ] || fail_check "$prefix/$(basename "$bin")" \
		    "${bin#"$ROOT"/} is missing (built from ${c#"$ROOT"/}; did the build fail?)"
	done
}

# run_script label path: a suite script whose last line is "N passed, N failed".
run_script() {
	local label=$1 script=$2 log="$LOGDIR/$1.log" rc last p f
	if [ ! -e "$script" ]; then
		fail_check "$label" "${script#"$ROOT"/} does not exist (a missing suite is a failure)"
		return 0
	fi
	if [ -x "$script" ]; then
		timeout -k 10 "$SUITE_TIMEOUT" "$script" </dev/null 2>&1 | tee "$log" | sed 's/^/  | /'
	else
		timeout -k 10 "$SUITE_TIMEOUT" bash "$script" </dev/null 2>&1 | tee "$log" | sed 's/^/  | /'
	fi
	rc=${PIPESTATUS[0]}
	last=$(grep -v '^[[:space:]]*$' "$log" | tail -n 1 | tr -d '\r')
	if [[ "$last" =~ ^[[:space:]]*([0-9]+)\ passed,\ ([0-9]+)\ failed[[:space:]]*$ ]]; then
		p=${BASH_REMATCH[1]}
		f=${BASH_REMATCH[2]}
		S_PASS=$((S_PASS + p))
		S_FAIL=$((S_FAIL + f))
		if [ $((p + f)) = 0 ]; then
			fail_check "$label" "ran no tests"
		elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			fail_check "$label" "timed out after ${SUITE_TIMEOUT}s"
		elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
			fail_check "$label" "exit status $rc although it reported no failures"
		fi
	elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		fail_check "$label" "timed out after ${SUITE_TIMEOUT}s (no summary line)"
	else
		fail_check "$label" "ended without a 'N passed, N failed' line (exit status $rc)"
	fi
}

# ---------------------------------------------------------------- unit tests
if want unit; then
	suite_begin unit
	run_dir unit "$ROOT/build/tests/unit" "$ROOT/tests/unit"
	suite_end unit
fi

if want asan; then
	suite_begin asan
	run_dir asan "$ROOT/build-asan/tests/unit" "$ROOT/tests/unit" env \
		ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=98:strict_string_checks=1:detect_stack_use_after_return=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
		UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=98${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
	suite_end asan
fi

if want valgrind; then
	suite_begin valgrind
	if [ "${TG_VALGRIND:-1}" = 0 ]; then
		echo "  (skipped: TG_VALGRIND=0)"
	elif ! command -v valgrind >/dev/null 2>&1; then
		fail_check valgrind "valgrind is not installed (scripts/deps.sh installs it; TG_VALGRIND=0 skips on purpose)"
	else
		run_dir valgrind "$ROOT/build/tests/unit" "$ROOT/tests/unit" valgrind -q --error-exitcode=99 \
			--leak-check=full --errors-for-leak-kinds=definite,possible --track-origins=yes
	fi
	suite_end valgrind
fi

# ------------------------------------------------- the test stack and its users
need_stack=0
for s in stack integration apache ui sandbox interop; do want "$s" && need_stack=1; done
STACK_UP=0

# 9>&-: the daemons must not inherit (and hold) the run lock.
tstack() { VAR="$TEST_VAR" PORT="$TEST_PORT" PG_PORT="$TEST_PG_PORT" "$STACK" "$@" 9>&-; }

if [ "$need_stack" = 1 ]; then
	suite_begin stack
	trap 'tstack stop >/dev/null 2>&1' EXIT
	# A fresh stack every run: tests must not depend on what a previous run left.
	tstack stop >/dev/null 2>&1
	rm -rf "$TEST_VAR"
	# nginx's per-IP limit is raised for the suites: they run from one address
	# faster than a real client does; the app's own per-principal limits stay.
	# The workers' caches live a minute here (2 s by default): every change a
	# test makes, through the API or psql, must reach them by NOTIFY or the
	# shared epochs (lib/inval.h), never by waiting for the TTL.
	# Stream limits are small, so test_push.c reaches them with few streams.
	# The port is chosen again now (the unit suites took minutes, another
	# checkout's stack may have taken it meanwhile), and once more if nginx
	# still loses the race for it.
	start_test_stack() {
		PG_FSYNC=off TOOLGATE_TEST_ROUTES=${TOOLGATE_TEST_ROUTES:-1} \
			TOOLGATE_CACHE_TTL_MS=${TOOLGATE_CACHE_TTL_MS:-60000} \
			TOOLGATE_STREAMS_PER_PRINCIPAL=${TOOLGATE_STREAMS_PER_PRINCIPAL:-4} \
			TOOLGATE_STREAMS_MAX=${TOOLGATE_STREAMS_MAX:-12} \
			TOOLGATE_STREAM_COALESCE_MS=${TOOLGATE_STREAM_COALESCE_MS:-200} \
			NGINX_RATE=${NGINX_RATE:-5000r/s} NGINX_BURST=${NGINX_BURST:-10000} \
			tstack start >"$LOGDIR/stack-start.log" 2>&1
	}
	pick_port() { # first free port above $1
		local p
		for p in $(seq "$1" 18179); do port_free "$p" && { TEST_PORT=$p; return 0; }; done
		return 1
	}
	[ -n "${TG_TEST_PORT:-}" ] || pick_port 18080
	# Third-party packages (tests/integration/test_packages.c): a package
	# index and a vulnerability source on loopback, which that test starts
	# itself (tests/packages/index_server.py) on this port. No test-only
	# escape hatch: configured package hosts may be loopback or private
	# (docs/packages.md); a 20 MiB download cap between the suite's big
	# wheel (12 MiB) and its over-cap one (24 MiB).
	# The index server starts here, as soon as its port is chosen (a
	# checkout running side by side then sees the port taken); the suite
	# rebuilds the index it serves from ($TG_PKGINDEX_DIR).
	export TG_PKGINDEX_DIR="$TEST_VAR-pkgindex"
	rm -rf "$TG_PKGINDEX_DIR" && mkdir -p "$TG_PKGINDEX_DIR"
	PKG_SERVER=""
	for PKG_PORT in $(seq 18380 18479); do
		port_free "$PKG_PORT" || continue
		python3 tests/packages/index_server.py "$PKG_PORT" "$TG_PKGINDEX_DIR" \
			"$TG_PKGINDEX_DIR.pid" >"$LOGDIR/pkgindex.log" 2>&1 9>&- &
		PKG_SERVER=$!
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			[ -s "$TG_PKGINDEX_DIR.pid" ] && ! port_free "$PKG_PORT" && break
			sleep 0.1
		done
		kill -0 "$PKG_SERVER" 2>/dev/null && break
		PKG_SERVER=""
	done
	trap 'tstack stop >/dev/null 2>&1; [ -n "$PKG_SERVER" ] && kill "$PKG_SERVER" 2>/dev/null' EXIT
	export TOOLGATE_PIP_INDEX_URL=${TOOLGATE_PIP_INDEX_URL:-http://127.0.0.1:$PKG_PORT/simple/}
	export TOOLGATE_OSV_URL=${TOOLGATE_OSV_URL:-http://127.0.0.1:$PKG_PORT/v1/querybatch}
	# Tracing (tests/integration/test_trace.c): spans go to an OTLP/HTTP
	# receiver on loopback that the test starts itself
	# (tests/trace/otlp_receiver.py) on this port. Roots are never sampled
	# (ratio 0): only calls that send a sampled traceparent are traced. The
	# database health sampler runs every second.
	for OTLP_PORT in $(seq 18580 18679); do port_free "$OTLP_PORT" && break; done
	export TOOLGATE_OTLP_ENDPOINT=${TOOLGATE_OTLP_ENDPOINT:-http://127.0.0.1:$OTLP_PORT/v1/traces}
	export TOOLGATE_OTLP_SAMPLE_RATIO=${TOOLGATE_OTLP_SAMPLE_RATIO:-0}
	export TOOLGATE_OTLP_TIMEOUT_MS=${TOOLGATE_OTLP_TIMEOUT_MS:-1000}
	export TOOLGATE_DB_HEALTH_INTERVAL_S=${TOOLGATE_DB_HEALTH_INTERVAL_S:-1}
	export TOOLGATE_PIP_MAX_DOWNLOAD=${TOOLGATE_PIP_MAX_DOWNLOAD:-20}
	stack_ok=0
	for attempt in 1 2 3; do
		if start_test_stack; then stack_ok=1; break; fi
		[ -z "${TG_TEST_PORT:-}" ] && grep -q 'Address already in use' "$LOGDIR/stack-start.log" || break
		tstack stop >/dev/null 2>&1
		pick_port $((TEST_PORT + 1)) || break
		echo "run.sh: port taken meanwhile; test stack on $TEST_PORT (attempt $((attempt + 1)))" >&2
	done
	if [ "$stack_ok" = 1 ]; then
		STACK_UP=1
		pass_check "stack start (var/test, http://127.0.0.1:$TEST_PORT)"
		eval "$(tstack env)"
		# Per-principal limits far above what the suites send: every binary
		# signs in as the same admin within the same minute. The identity
		# suite lowers the viewer limit for its own test and restores this.
		"$PGBIN_PSQL" -X -q -c "INSERT INTO settings (key, value) VALUES ('rate_limits',
			'{\"admin\": 1000000, \"developer\": 1000000, \"viewer\": 1000000}')
			ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value" >/dev/null 2>&1 ||
			echo "run.sh: could not raise the rate limits of the test stack" >&2
		export TG_STACK="$STACK" TG_VAR="$TEST_VAR"
	else
		fail_check "stack start" "scripts/stack.sh start failed" "$LOGDIR/stack-start.log"
		for f in "$TEST_VAR/log/toolgate.log" "$TEST_VAR/log/nginx.log" "$TEST_VAR/log/postgres.log"; do
			[ -s "$f" ] && { echo "       --- $f"; tail -n 30 "$f" | sed 's/^/       | /'; }
		done
	fi

	if [ "$STACK_UP" = 1 ]; then
		hdrs="$LOGDIR/stack-health.headers"
		body=$(curl -sS -m 5 -D "$hdrs" "$TG_BASE_URL/health" 2>&1)
		code=$(head -n 1 "$hdrs" 2>/dev/null | awk '{print $2}')
		if [ "$code" = 200 ] && [[ "$body" =~ \"status\":[[:space:]]*\"ok\" ]]; then
			pass_check "GET /health through nginx: 200 {\"status\":\"ok\"}"
		else
			fail_check "GET /health" "got HTTP ${code:-none}: $body"
		fi
		if grep -qiE '^X-Request-Id: [0-9a-f]{32}' "$hdrs"; then
			pass_check "X-Request-Id on responses"
		else
			fail_check "X-Request-Id" "missing from /health response" "$hdrs"
		fi
		code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$TG_BASE_URL/__static_bench")
		[ "$code" = 200 ] && pass_check "static bench location" || fail_check "static bench location" "HTTP $code"
		ctype=$(head -c 3000000 /dev/zero | curl -s -m 10 -o /dev/null -w '%{http_code} %{content_type}' \
			-H 'Content-Type: application/json' --data-binary @- "$TG_BASE_URL/api/v1/version")
		[ "$ctype" = "413 application/problem+json" ] && pass_check "3 MB body: 413 problem+json from nginx" ||
			fail_check "3 MB body" "expected 413 application/problem+json, got '$ctype'"
		# nginx workers (nobody) must be able to connect: rw for everyone.
		mode=$(stat -c '%a' "$TOOLGATE_SOCKET" 2>/dev/null)
		case "$mode" in
		666 | 777) pass_check "FastCGI socket is a socket with mode 0$mode" ;;
		*) fail_check "FastCGI socket mode" "expected 0666, got '${mode:-missing}' ($TOOLGATE_SOCKET)" ;;
		esac
		[ -S "$TOOLGATE_SOCKET" ] || fail_check "FastCGI socket" "$TOOLGATE_SOCKET is not a socket"
		mode=$(stat -c '%a' "$TEST_VAR/toolgate.env" "$TEST_VAR/admin-credentials" 2>/dev/null | tr '\n' ' ')
		[ "$mode" = "600 600 " ] && pass_check "toolgate.env and admin-credentials mode 0600" ||
			fail_check "secret file modes" "got '$mode'"
		if [ -n "${TG_ADMIN_USER:-}" ] && [ -n "${TG_ADMIN_PASSWORD:-}" ]; then
			pass_check "admin credentials present"
		else
			fail_check "admin credentials" "$TEST_VAR/admin-credentials has no username/password"
		fi
		if [ "$(psql -X -A -t -c 'SELECT 1' 2>&1)" = 1 ]; then
			pass_check "PostgreSQL reachable with the exported PG* settings"
		else
			fail_check "PostgreSQL" "psql with PGHOST=$PGHOST PGPORT=$PGPORT failed"
		fi
	fi
	suite_end stack

	if want integration; then
		suite_begin integration
		if [ "$STACK_UP" = 1 ]; then
			run_dir integration "$ROOT/build/tests/integration" "$ROOT/tests/integration"
			# A test may stop PostgreSQL (503 checks); make sure later suites have it.
			tstack pg-start >/dev/null 2>&1 || fail_check "pg-start after integration" "PostgreSQL did not come back"
		else
			fail_check integration "not run: the test stack did not start"
		fi
		suite_end integration
	fi
	# The Apache recipes (deploy/apache/*.in) under a real Apache, against
	# this stack's PostgreSQL, secrets and sandbox helper (its environment).
	if want apache; then
		suite_begin apache
		if [ "$STACK_UP" = 1 ]; then
			run_script apache "$ROOT/tests/apache/run.sh"
		else
			fail_check apache "not run: the test stack did not start"
		fi
		suite_end apache
	fi
	# The web console (web/) in a real browser against this stack.
	if want ui; then
		suite_begin ui
		if [ "$STACK_UP" = 1 ]; then
			TG_UI_LOG="$LOGDIR/ui-browser.log" TG_UI_FAILSHOTS="$LOGDIR/ui-failures" \
				run_script ui "$ROOT/tests/ui/run.sh"
		else
			fail_check ui "not run: the test stack did not start"
		fi
		suite_end ui
	fi
	# The sandbox and interop suites get a clean environment: the test stack's
	# TOOLGATE_*/PG* values must not leak into stacks of their own (they would
	# win over those stacks' defaults, e.g. TOOLGATE_ALLOWED_ORIGINS).
	if [ "$STACK_UP" = 1 ]; then
		for v in $(tstack env | sed -n 's/^export \([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
	fi

	if want sandbox; then
		suite_begin sandbox
		run_script sandbox "$ROOT/tests/sandbox/run.sh"
		suite_end sandbox
	fi

	if want interop; then
		suite_begin interop
		if [ "$STACK_UP" != 1 ]; then
			fail_check interop "not run: the test stack did not start"
		else
			run_script interop "$ROOT/tests/interop/run.sh"
		fi
		suite_end interop
	fi

	# stop must leave nothing behind: check every process group the stack started.
	# the package index of tests/integration/test_packages.c (started above)
	[ -n "${PKG_SERVER:-}" ] && kill "$PKG_SERVER" 2>/dev/null
	if [ "$STACK_UP" = 1 ]; then
		suite_begin "stack stop"
		pids=""
		for f in "$TEST_VAR/run/toolgate.pid" "$TEST_VAR/run/nginx.pid" "$TEST_VAR/run/postgres.pid"; do
			[ -r "$f" ] && pids="$pids $(head -n 1 "$f" | tr -dc '0-9')"
		done
		if tstack stop >"$LOGDIR/stack-stop.log" 2>&1; then
			left=""
			for p in $pids; do
				# zombies (exited, not yet reaped by init) do not count
				ps -o stat= -p "$p" -g "$p" 2>/dev/null | grep -qv '^Z' && left="$left,$p"
			done
			left=${left#,}
			if [ -z "$left" ]; then
				pass_check "stack stop leaves no process (groups:$pids)"
			else
				fail_check "stack stop" "processes left in groups $left: $(ps -o pid=,cmd= -g "$left" 2>/dev/null | head -n 5 | tr '\n' ';')"
			fi
		else
			fail_check "stack stop" "scripts/stack.sh stop failed" "$LOGDIR/stack-stop.log"
		fi
		trap - EXIT
		suite_end "stack-stop"
	fi
fi

# ---------------------------------------------------------------- summary
printf '\n== summary ==\n'
for line in "${SUMMARY[@]}"; do printf '%s\n' "$line"; done
printf 'logs: %s\n' "${LOGDIR#"$ROOT"/}"
printf '%d passed, %d failed\n' "$TOTAL_PASS" "$TOTAL_FAIL"
[ "$TOTAL_FAIL" = 0 ]
