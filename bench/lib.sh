# bench/lib.sh - what bench/run.sh and bench/streams.sh share; sourced once
# ROOT (the checkout, the working directory), VAR, PORT, BASE, PY and
# BENCH_NAME (the messages' prefix and the API key's name) are set.

say() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; }
die() { say "$@"; exit 1; }

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
