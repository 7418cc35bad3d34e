# bench/lib.sh - what bench/run.sh and bench/streams.sh share; sourced once
# ROOT (the checkout, the working directory), VAR, PY and BENCH_NAME (the
# messages' prefix and the API key's name) are set; bench_port then picks
# PORT (and the scripts' other ports), after which BASE is set.

say() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; }
die() { say "$@"; exit 1; }

# port_free PORT: nothing accepts connections on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# bench_port NAME KNOB FIRST: sets the variable NAME to the port the knob
# (an environment variable, e.g. BENCH_PORT) names, refused when that port
# is busy; without the knob, to the first free port from FIRST on, one no
# earlier bench_port of this run took. Two benches, or a bench beside
# another stack, so never share a port.
BENCH_TAKEN=" "
bench_port() {
	local name=$1 knob=$2 p=${!2:-}
	if [ -n "$p" ]; then
		case "$p" in *[!0-9]*) die "$knob must be a port number (got '$p')" ;; esac
		port_free "$p" || die "$knob=$p: port $p is in use (another stack or bench?); choose another, or unset $knob for a free one"
	else
		for p in $(seq "$3" $(($3 + 199))) ''; do
			[ -n "$p" ] || die "no free port in $3..$(($3 + 199)) for $name (set $knob)"
			case "$BENCH_TAKEN" in *" $p "*) continue ;; esac
			port_free "$p" && break
		done
	fi
	BENCH_TAKEN="$BENCH_TAKEN$p "
	printf -v "$name" '%s' "$p"
}

# bench_port_check NAME KNOB: refuse when the port chosen for NAME at the
# start was taken since (before a server of ours listens on it).
bench_port_check() {
	port_free "${!1}" || die "port ${!1} ($1) was taken since the bench started; set $2 to a free one"
}

# bench_var_check: refuse when a stack runs at $VAR already (another bench
# of this checkout, or one BENCH_KEEP=1 left): bench_stack would wipe it.
bench_var_check() {
	local st
	st=$(bash scripts/stack.sh status 2>/dev/null || true)
	case "$st" in *" running"*)
		die "a stack is running at $VAR (another $BENCH_NAME, or BENCH_KEEP=1 left it); stop it first: VAR=$VAR bash scripts/stack.sh stop" ;;
	esac
}

# bench_kept: with BENCH_KEEP=1, where the stack that stays up is.
bench_kept() {
	[ "${BENCH_KEEP:-0}" = 1 ] || return 0
	say "BENCH_KEEP=1: the stack stays up at $BASE (VAR=$VAR, PostgreSQL socket $VAR/pg/run port $PG_PORT); stop it with: VAR=$VAR bash scripts/stack.sh stop"
}

# jget EXPR: EXPR (e.g. '["id"]') of the JSON document on stdin.
jget() { $PY -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"; }

# api METHOD PATH [JSON]: the REST API as the admin (TOKEN); fails on an
# HTTP error.
api() {
	curl -sS -f -X "$1" "$BASE$2" -H "Authorization: Bearer $TOKEN" \
		${3:+-H 'Content-Type: application/json' -d "$3"}
}

# bench_stack START...: a fresh stack at $VAR, started with the command
# START..., its settings (stack.sh env) in the environment; then the
# admin's TOKEN, no rate limits in the way, and an API key KEY.
bench_stack() {
	bash scripts/stack.sh stop >/dev/null 2>&1 || true
	rm -rf "$VAR"
	say "starting the stack ($VAR, port $PORT)"
	"$@" >/dev/null
	eval "$(bash scripts/stack.sh env)"
	TOKEN=$(curl -sS -f -X POST "$BASE/api/v1/auth/login" -H 'Content-Type: application/json' \
		-d "{\"username\":\"$TG_ADMIN_USER\",\"password\":\"$TG_ADMIN_PASSWORD\"}" | jget '["access_token"]')
	api PATCH /api/v1/settings '{"rate_limits":{"admin":1000000,"developer":1000000,"viewer":1000000}}' >/dev/null
	KEY=$(api POST /api/v1/api-keys "{\"name\":\"$BENCH_NAME\"}" | jget '["key"]')
}
