#!/usr/bin/env bash
# tests/apache/run.sh - the shipped Apache recipes with a real Apache:
# deploy/apache/toolgate-cgi.htaccess.in (mod_cgi) and
# deploy/apache/toolgate-fcgid.conf.in (mod_fcgid), rendered with the
# settings of the test stack and served by Debian's apache2 on loopback from
# a private ServerRoot under $TG_VAR/apache (nothing in /etc is read or
# changed; only the module .so files in /usr/lib/apache2/modules are used).
#
# For each mode: /health, sign-in, authenticated REST calls, an MCP
# initialize and a sandboxed tools/call, all through Apache; in CGI mode
# also that .htaccess (it holds the secrets) is not served and that
# toolgate's access lines stay out of Apache's error log. In both modes the
# web console (web/) is served at / and /ui/ with its CSP and security
# headers while every other path still reaches toolgate.
#
# Run by tests/run.sh (suite "apache") with the test stack's environment:
# PG* (its PostgreSQL), TOOLGATE_ENCRYPTION_KEY/JWT_SECRET (its secrets),
# TOOLGATE_SANDBOX_HELPER, TG_VAR, TG_ADMIN_USER/PASSWORD. Installs apache2
# and libapache2-mod-fcgid through scripts/deps.sh. As root, Apache runs
# as nobody (the sandbox helper refuses root); otherwise as the caller.
# Last line: "N passed, N failed".
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd "$HERE/../.." && pwd -P)
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); printf '  ok   %s\n' "$1"; }
bad() { FAIL=$((FAIL + 1)); printf '  FAIL %s\n' "$1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | tail -n 30 | sed 's/^/       | /'; return 0; }
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" = 0 ]; exit $?; }

for v in PGHOST PGPORT PGDATABASE PGUSER TOOLGATE_ENCRYPTION_KEY TOOLGATE_JWT_SECRET \
	TOOLGATE_SANDBOX_HELPER TG_VAR TG_ADMIN_USER TG_ADMIN_PASSWORD; do
	[ -n "${!v:-}" ] || { bad "environment: $v is not set (run through tests/run.sh)"; finish; }
done
if ! out=$(bash "$ROOT/scripts/deps.sh" apache2 libapache2-mod-fcgid 2>&1); then
	bad "install apache2 libapache2-mod-fcgid" "$out"
	finish
fi
HTTPD=/usr/sbin/apache2
MODS=/usr/lib/apache2/modules
for f in "$HTTPD" "$MODS/mod_cgi.so" "$MODS/mod_fcgid.so"; do
	[ -e "$f" ] || { bad "$f missing after installing apache2 and libapache2-mod-fcgid"; finish; }
done
BIN="$ROOT/build/toolgate"
[ -x "$BIN" ] || { bad "$BIN not built"; finish; }

AVAR="$TG_VAR/apache"
RUNAS=()
OWNER=$(id -un)
if [ "$(id -u)" = 0 ]; then
	RUNAS=(runuser -u nobody --)
	OWNER=nobody
fi
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=""
for p in $(seq 18380 18479); do port_free "$p" && { PORT=$p; break; }; done
[ -n "$PORT" ] || { bad "no free port in 18380..18479"; finish; }
BASE="http://127.0.0.1:$PORT"
APID=""

# The same values the test stack runs with; the templates get them verbatim.
render() { # template output
	sed -e "s|@TOOLGATE_ENCRYPTION_KEY@|$TOOLGATE_ENCRYPTION_KEY|g" \
		-e "s|@TOOLGATE_JWT_SECRET@|$TOOLGATE_JWT_SECRET|g" \
		-e "s|@PGHOST@|$PGHOST|g" -e "s|@PGPORT@|$PGPORT|g" \
		-e "s|@PGDATABASE@|$PGDATABASE|g" -e "s|@PGUSER@|$PGUSER|g" \
		-e "s|@TOOLGATE_SANDBOX_HELPER@|$TOOLGATE_SANDBOX_HELPER|g" \
		-e "s|@TOOLGATE_BIN@|$BIN|g" -e "s|@WEB_ROOT@|$ROOT/web|g" "$1" >"$2"
	if grep -q '@[A-Z_]*@' "$2"; then
		bad "$(basename "$1"): placeholders left after rendering" "$(grep '@[A-Z_]*@' "$2")"
		return 1
	fi
}

# httpd.conf of one mode: prefork (mod_cgi needs a non-threaded MPM).
write_conf() { # mode dir
	local mode=$1 d=$2
	cat >"$d/conf/httpd.conf" <<EOF
ServerRoot "$d"
ServerName 127.0.0.1
Listen 127.0.0.1:$PORT
DefaultRuntimeDir "$d/run"
PidFile "$d/run/httpd.pid"
ErrorLog "$d/logs/error.log"
LogLevel warn
Timeout 120
StartServers 2
MinSpareServers 1
MaxSpareServers 4
MaxRequestWorkers 16
LoadModule mpm_prefork_module $MODS/mod_mpm_prefork.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule mime_module $MODS/mod_mime.so
LoadModule alias_module $MODS/mod_alias.so
LoadModule env_module $MODS/mod_env.so
LoadModule rewrite_module $MODS/mod_rewrite.so
LoadModule headers_module $MODS/mod_headers.so
TypesConfig /dev/null
LogFormat "%h %l %u %t \"%r\" %>s %b" common
CustomLog "$d/logs/access.log" common
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Files ".ht*">
    Require all denied
</Files>
EOF
	if [ "$mode" = cgi ]; then
		cat >>"$d/conf/httpd.conf" <<EOF
LoadModule cgi_module $MODS/mod_cgi.so
DocumentRoot "$d/htdocs"
<Directory "$d/htdocs">
    Options SymLinksIfOwnerMatch
    AllowOverride FileInfo Options AuthConfig
    Require all granted
</Directory>
EOF
	else
		cat >>"$d/conf/httpd.conf" <<EOF
LoadModule fcgid_module $MODS/mod_fcgid.so
FcgidIPCDir "$d/run/fcgid"
FcgidProcessTableFile "$d/run/fcgid_shm"
Include "$d/conf/toolgate.conf"
EOF
	fi
}

stop_apache() {
	local i
	[ -n "$APID" ] || return 0
	kill -TERM "$APID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do kill -0 "$APID" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$APID" 2>/dev/null && kill -KILL -- "-$APID" 2>/dev/null
	wait "$APID" 2>/dev/null
	# Apache and everything it started (CGI runs, fcgid processes) ran in
	# the process group setsid gave it.
	for ((i = 0; i < 50; i++)); do kill -0 -- "-$APID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 -- "-$APID" 2>/dev/null; then
		bad "$MODE: processes left after stopping Apache" "$(ps -o pid=,user=,cmd= -g "$APID" 2>/dev/null)"
		kill -KILL -- "-$APID" 2>/dev/null
	fi
	APID=""
}
trap 'stop_apache' EXIT

start_apache() { # dir
	local d=$1 i out
	if ! out=$("${RUNAS[@]}" "$HTTPD" -t -d "$d" -f "$d/conf/httpd.conf" 2>&1); then
		bad "$MODE: apache2 -t rejects the configuration" "$out"
		return 1
	fi
	setsid "${RUNAS[@]}" "$HTTPD" -DFOREGROUND -d "$d" -f "$d/conf/httpd.conf" \
		</dev/null >>"$d/logs/stdout.log" 2>&1 &
	APID=$!
	for ((i = 0; i < 100; i++)); do
		kill -0 "$APID" 2>/dev/null || { bad "$MODE: Apache exited at start" "$(cat "$d/logs/error.log" "$d/logs/stdout.log" 2>/dev/null)"; APID=""; return 1; }
		[ -s "$d/run/httpd.pid" ] && ! port_free "$PORT" && return 0
		sleep 0.1
	done
	bad "$MODE: Apache did not listen on $PORT within 10 s" "$(cat "$d/logs/error.log" 2>/dev/null)"
	return 1
}

# req METHOD PATH [curl args...]: sets CODE and BODY.
req() {
	local m=$1 p=$2 out
	shift 2
	out=$(curl -sS -m 90 -X "$m" -w '\n%{http_code}' "$@" "$BASE$p" 2>&1)
	CODE=${out##*$'\n'}
	BODY=${out%$'\n'*}
}
jreq() { # METHOD PATH TOKEN JSON
	local m=$1 p=$2 t=$3 b=$4
	if [ -n "$b" ]; then
		req "$m" "$p" -H "Authorization: Bearer $t" -H 'Content-Type: application/json' --data-binary "$b"
	else
		req "$m" "$p" -H "Authorization: Bearer $t"
	fi
}
HDRS=""
mcp() { # KEY SESSION JSON: POST /mcp; headers in $HDRS
	local k=$1 s=$2 b=$3 extra=()
	HDRS=$(mktemp)
	[ -n "$s" ] && extra=(-H "Mcp-Session-Id: $s" -H 'MCP-Protocol-Version: 2025-11-25')
	req POST /mcp -D "$HDRS" -H "Authorization: Bearer $k" -H 'Content-Type: application/json' \
		-H 'Accept: application/json, text/event-stream' "${extra[@]}" --data-binary "$b"
}

run_mode() {
	local d="$AVAR/$MODE" tok key sid sid_id tid name
	rm -rf "$d"
	install -d -m 0755 "$d" "$d/conf" "$d/htdocs"
	install -d -m 0755 -o "$OWNER" "$d/logs" "$d/run"
	write_conf "$MODE" "$d"
	if [ "$MODE" = cgi ]; then
		render "$ROOT/deploy/apache/toolgate-cgi.htaccess.in" "$d/htdocs/.htaccess" || return
		install -m 0755 "$BIN" "$d/htdocs/toolgate.cgi"
		cp -r "$ROOT/web/." "$d/htdocs/"
	else
		render "$ROOT/deploy/apache/toolgate-fcgid.conf.in" "$d/conf/toolgate.conf" || return
	fi
	start_apache "$d" || return

	req GET /health
	if [ "$CODE" = 200 ] && [[ "$BODY" =~ \"status\":[[:space:]]*\"ok\" ]]; then
		ok "$MODE: GET /health 200"
	else
		bad "$MODE: GET /health: HTTP $CODE" "$BODY"$'\n'"$(tail -n 20 "$d/logs/error.log")"
		stop_apache
		return
	fi

	# The web console: static files with its headers; the app keeps its own.
	local hd ct csp
	hd=$(mktemp)
	for p in / /ui/app.js; do
		req GET "$p" -D "$hd"
		ct=$(sed -n 's/^[Cc]ontent-[Tt]ype: *//p' "$hd" | tr -d '\r')
		csp=$(sed -n 's/^[Cc]ontent-[Ss]ecurity-[Pp]olicy: *//p' "$hd" | tr -d '\r')
		case "$p" in /) want=text/html ;; *) want=text/javascript ;; esac
		if [ "$CODE" = 200 ] && [[ "$ct" == "$want"* ]] && [[ "$csp" == *"script-src 'self'"* ]] &&
			[[ "$csp" != *unsafe-inline* ]] && grep -qi '^X-Content-Type-Options: nosniff' "$hd" &&
			grep -qi '^X-Frame-Options: DENY' "$hd"; then
			ok "$MODE: console $p served by Apache ($ct, strict CSP, nosniff)"
		else
			bad "$MODE: console $p: HTTP $CODE, type '$ct', CSP '$csp'" "$(cat "$hd")"
		fi
	done
	req GET /api/v1/version -D "$hd"
	csp=$(sed -n 's/^[Cc]ontent-[Ss]ecurity-[Pp]olicy: *//p' "$hd" | tr -d '\r')
	if [ "$CODE" = 200 ] && [[ "$csp" == "default-src 'none'"* ]] && [ "$(grep -ci '^Content-Security-Policy' "$hd")" = 1 ]; then
		ok "$MODE: the API keeps toolgate's own CSP"
	else
		bad "$MODE: GET /api/v1/version: HTTP $CODE, CSP '$csp'" "$(cat "$hd")"
	fi
	rm -f "$hd"

	req POST /api/v1/auth/login -H 'Content-Type: application/json' \
		--data-binary "$(jq -n --arg u "$TG_ADMIN_USER" --arg p "$TG_ADMIN_PASSWORD" '{username:$u,password:$p}')"
	tok=$(jq -r '.access_token // empty' <<<"$BODY" 2>/dev/null)
	if [ "$CODE" = 200 ] && [ -n "$tok" ]; then ok "$MODE: sign-in (POST /api/v1/auth/login)"; else
		bad "$MODE: sign-in: HTTP $CODE" "$BODY"; stop_apache; return
	fi

	# The header Apache withholds unless the recipe passes it on.
	jreq GET /api/v1/auth/me "$tok" ""
	if [ "$CODE" = 200 ] && [ "$(jq -r '.username // empty' <<<"$BODY" 2>/dev/null)" = "$TG_ADMIN_USER" ]; then
		ok "$MODE: authenticated REST call (GET /api/v1/auth/me with Authorization)"
	else
		bad "$MODE: GET /api/v1/auth/me with a token: HTTP $CODE (Authorization not passed?)" "$BODY"
	fi
	req GET /api/v1/auth/me
	[ "$CODE" = 401 ] && ok "$MODE: the same without a token: 401" || bad "$MODE: GET /api/v1/auth/me without a token: HTTP $CODE" "$BODY"

	# A served tool: server, tool, submit, approve, start (REST through Apache).
	name="apache${MODE}$$"
	jreq POST /api/v1/servers "$tok" "{\"name\":\"$name\",\"description\":\"tests/apache\"}"
	sid_id=$(jq -r '.id // empty' <<<"$BODY" 2>/dev/null)
	[ "$CODE" = 201 ] && [ -n "$sid_id" ] || { bad "$MODE: create server: HTTP $CODE" "$BODY"; stop_apache; return; }
	jreq POST "/api/v1/servers/$sid_id/tools" "$tok" \
		'{"name":"times7","description":"n times 7","code":"def main(n: int):\n    return {\"product\": n * 7}\n"}'
	tid=$(jq -r '.id // empty' <<<"$BODY" 2>/dev/null)
	[ "$CODE" = 201 ] && [ -n "$tid" ] || { bad "$MODE: create tool: HTTP $CODE" "$BODY"; stop_apache; return; }
	jreq POST "/api/v1/tools/$tid/submit" "$tok" '{}'
	[ "$CODE" = 200 ] || bad "$MODE: submit: HTTP $CODE" "$BODY"
	jreq POST "/api/v1/tools/$tid/approve" "$tok" '{"version":1}'
	[ "$CODE" = 200 ] || bad "$MODE: approve: HTTP $CODE" "$BODY"
	jreq POST "/api/v1/servers/$sid_id/start" "$tok" '{}'
	[ "$CODE" = 200 ] || bad "$MODE: start server: HTTP $CODE" "$BODY"
	jreq POST /api/v1/api-keys "$tok" "{\"name\":\"tests/apache $MODE\",\"role\":\"developer\"}"
	key=$(jq -r '.key // .api_key // .token // empty' <<<"$BODY" 2>/dev/null)
	if [ "$CODE" = 201 ] && [ -n "$key" ]; then ok "$MODE: REST writes (server, tool, approve, start, API key)"; else
		bad "$MODE: create API key: HTTP $CODE" "$BODY"; stop_apache; return
	fi

	mcp "$key" "" '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"tests-apache","version":"1"}}}'
	sid=$(sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: *\([^[:space:]]*\).*/\1/p' "$HDRS" | tr -d '\r')
	rm -f "$HDRS"
	if [ "$CODE" = 200 ] && [ -n "$sid" ] && [ "$(jq -r '.result.serverInfo.name // empty' <<<"$BODY" 2>/dev/null)" != "" ]; then
		ok "$MODE: MCP initialize with an API key (session $sid)"
	else
		bad "$MODE: MCP initialize: HTTP $CODE" "$BODY"; stop_apache; return
	fi
	mcp "$key" "$sid" '{"jsonrpc":"2.0","method":"notifications/initialized"}'
	rm -f "$HDRS"
	[ "$CODE" = 202 ] || bad "$MODE: notifications/initialized: HTTP $CODE" "$BODY"
	mcp "$key" "$sid" "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"${name}__times7\",\"arguments\":{\"n\":6}}}"
	rm -f "$HDRS"
	local product
	product=$(jq -r '.result.structuredContent.product // (.result.content[0].text | fromjson? | .product) // empty' <<<"$BODY" 2>/dev/null)
	if [ "$CODE" = 200 ] && [ "$product" = 42 ] && [ "$(jq -r '.result.isError // false' <<<"$BODY")" = false ]; then
		ok "$MODE: MCP tools/call ran in the sandbox (6*7 = $product)"
	else
		bad "$MODE: MCP tools/call: HTTP $CODE" "$BODY"$'\n'"$(tail -n 10 "$d/logs/error.log")"
	fi
	jreq POST "/api/v1/servers/$sid_id/stop" "$tok" '{}'

	if [ "$MODE" = cgi ]; then
		req GET /.htaccess
		case "$CODE" in 403 | 404) ok "cgi: .htaccess (secrets) not served: HTTP $CODE" ;;
		*) bad "cgi: GET /.htaccess answered HTTP $CODE" ;; esac
		req GET /api/v1/auth/me
		if grep -q 'ev=http.access' "$d/logs/error.log"; then
			bad "cgi: toolgate's access lines in Apache's error log" "$(grep 'ev=http.access' "$d/logs/error.log" | head -n 3)"
		elif [ -s "$d/logs/access.log" ]; then
			ok "cgi: no toolgate access lines in Apache's error log (TOOLGATE_LOG_LEVEL defaults to warn)"
		else
			bad "cgi: Apache's access log is empty"
		fi
	fi
	stop_apache
}

for MODE in cgi fcgid; do
	echo "== Apache, $MODE =="
	run_mode
done
finish
