#!/usr/bin/env bash
# bench/run.sh - `make bench`: one run, one machine, one table.
#
# Starts a private stack with `make start` (var/bench; ports below), seeds one
# running server with 50 approved tools, and measures through nginx with wrk
# (Debian package; the Lua script bench/mcp.lua prints percentiles):
#   1. MCP tools/list at concurrency 1, 8, 32 (2025-11-25 session)
#   2. the same against the official TypeScript SDK server (bench/ts-server,
#      stateless, 50 trivial tools) on loopback
#   3. nginx answering `return 200` (the ceiling) for the same request, and
#      nginx serving a static file as large as the tools/list reply (GET)
#   4. tools/call of a trivial Python tool at concurrency 1, 2 and 4, with
#      warm sandboxes (TOOLGATE_SANDBOX_WARM=on, the default) and then cold
#      (the stack restarted with it off), beside the bare interpreter start
#      (hyperfine: /usr/bin/python3.11 -I -S -c pass) measured in between;
#      a tool error in a 200 (e.g. "busy") counts as an error
#   5. tools/list first-page latency with 10 / 100 / 1,000 / 10,000 approved
#      tools, and the database round trips per request (access log db_rt)
#   6. resident memory of each worker after the run
#   7. tracing: tools/list and warm tools/call with tracing off, on at 100%
#      sampling (a loopback OTLP receiver), and with that collector hanging
# Results: stdout and bench/results/latest.md. Knobs: BENCH_SECONDS (10),
# BENCH_WORKERS (5: tools/call at concurrency 4 needs 4 tool slots and a
# free worker), BENCH_KEEP=1 leaves the stack running, BENCH_ONLY=warm runs
# only the warm tools/call rows and the bare start (a short table on stdout,
# bench/results/warm.md; for A/B runs while iterating).
# Ports (bench/lib.sh bench_port): nginx BENCH_PORT, the TypeScript server
# BENCH_TS_PORT, the OTLP receiver BENCH_OTLP_PORT; each unset one is the
# first free port from 18780, 18790 and 18791 on, a set one that is busy is
# refused. A stack already running at var/bench is refused too.
# BENCH_PG_PORT (55780) only names PostgreSQL's unix socket under var/bench.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
SECS=${BENCH_SECONDS:-10}
export VAR="$ROOT/var/bench" PG_PORT=${BENCH_PG_PORT:-55780} PG_FSYNC=off
export NGINX_RATE=1000000r/s NGINX_BURST=1000000
export TOOLGATE_WORKERS=${BENCH_WORKERS:-5} TOOLGATE_LOG_LEVEL=info
# tools/call at concurrency 4 must not see "busy": 4 slots, and one worker
# kept for the control plane (slots + queue < workers)
export TOOLGATE_TOOL_SLOTS=$((TOOLGATE_WORKERS - 1)) TOOLGATE_TOOL_QUEUE=0
export TOOLGATE_SANDBOX_WARM=on
PY=/usr/bin/python3
OUT="$ROOT/bench/results/latest.md"
mkdir -p "$ROOT/bench/results"

BENCH_NAME=bench
. bench/lib.sh
bench_var_check
bench_port PORT BENCH_PORT 18780
bench_port TS_PORT BENCH_TS_PORT 18790
bench_port OTLP_PORT BENCH_OTLP_PORT 18791
export PORT
BASE="http://127.0.0.1:$PORT"

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v hyperfine >/dev/null || need+=(hyperfine)
if [ ${#need[@]} -gt 0 ]; then
	say "installing ${need[*]}"
	SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 ||
		{ $SUDO apt-get update -qq >/dev/null; $SUDO apt-get install -y -qq "${need[@]}" >/dev/null; }
fi

TS_PID=
cleanup() {
	[ -n "$TS_PID" ] && kill "$TS_PID" 2>/dev/null || true
	[ -s "$VAR/otlp.pid" ] && kill "$(cat "$VAR/otlp.pid")" 2>/dev/null || true
	[ "${BENCH_KEEP:-0}" = 1 ] || bash scripts/stack.sh stop >/dev/null 2>&1 || true
	bench_kept
}
trap cleanup EXIT

bench_stack make -s start

say "seeding: server bench with 50 approved tools"
SID=$(api POST /api/v1/servers '{"name":"bench","description":"benchmark tools"}' | jget '["id"]')
for i in $(seq -w 0 49); do
	body=$($PY -c 'import json,sys; print(json.dumps({"name":"tool_"+sys.argv[1],
		"description":"Trivial benchmark tool number "+sys.argv[1]+": echoes its text argument.",
		"code":"def main(text: str) -> str:\n    return text\n",
		"input_schema":{"type":"object","properties":{"text":{"type":"string","description":"text to echo"}},"required":["text"]}}))' "$i")
	TID=$(api POST "/api/v1/servers/$SID/tools" "$body" | jget '["id"]')
	api POST "/api/v1/tools/$TID/submit" >/dev/null
	api POST "/api/v1/tools/$TID/approve" '{"reason":"bench","version":1}' >/dev/null
done
api POST "/api/v1/servers/$SID/start" >/dev/null

# A 2025-11-25 session for the MCP measurements.
HDRS=$(mktemp)
curl -sS -f -D "$HDRS" -o /dev/null -X POST "$BASE/mcp" -H "Authorization: Bearer $KEY" \
	-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
	-d '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}'
SESSION=$(sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: *\([^\r]*\).*/\1/p' "$HDRS")
rm -f "$HDRS"
[ -n "$SESSION" ] || die "no Mcp-Session-Id from initialize"
MCP_HEADERS="Authorization: Bearer $KEY|Mcp-Session-Id: $SESSION|MCP-Protocol-Version: 2025-11-25"
curl -sS -o /dev/null -X POST "$BASE/mcp" -H "Authorization: Bearer $KEY" -H "Mcp-Session-Id: $SESSION" \
	-H 'MCP-Protocol-Version: 2025-11-25' -H 'Content-Type: application/json' \
	-H 'Accept: application/json, text/event-stream' -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
n=$(curl -sS -X POST "$BASE/mcp" -H "Authorization: Bearer $KEY" -H "Mcp-Session-Id: $SESSION" \
	-H 'MCP-Protocol-Version: 2025-11-25' -H 'Content-Type: application/json' \
	-H 'Accept: application/json, text/event-stream' -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' |
	$PY -c 'import json,sys; print(sum(1 for t in json.load(sys.stdin)["result"]["tools"] if t["name"].startswith("bench__")))')
[ "$n" = 50 ] || die "tools/list shows $n bench tools, expected 50"

LIST='{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
CALL='{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"bench__tool_00","arguments":{"text":"hi"}}}'

# wrk_run URL BODY HEADERS CONC SECONDS -> "rps p50 p90 p99 errors"
wrk_run() {
	local url=$1 body=$2 headers=$3 c=$4 secs=$5 t line
	t=$((c < 2 ? 1 : 2))
	line=$(BENCH_METHOD="${BENCH_METHOD:-POST}" BENCH_BODY="$body" BENCH_HEADERS="$headers" wrk -t"$t" -c"$c" -d"${secs}s" \
		-s bench/mcp.lua "$url" 2>&1 | grep '^BENCH ' || true)
	[ -n "$line" ] || die "wrk produced no result for $url"
	$PY - "$line" <<'PYEOF'
import sys
kv = dict(p.split("=") for p in sys.argv[1].split()[1:])
print(kv["rps"], kv["p50_ms"], kv["p90_ms"], kv["p99_ms"], kv["errors"])
PYEOF
}

LIST26='{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"}}}}'
MCP26_HEADERS="Authorization: Bearer $KEY|MCP-Protocol-Version: 2026-07-28|Mcp-Method: tools/list"

declare -A R
ONLY=${BENCH_ONLY:-all}
case $ONLY in all | warm) ;; *) die "BENCH_ONLY must be warm (or unset)" ;; esac
warm_rows() {
	say "tools/call of a trivial Python tool: warm sandboxes"
	# the workers' zygotes start with the workers; a few calls make sure
	for i in $(seq 1 20); do
		curl -sS -o /dev/null -X POST "$BASE/mcp" -H "Authorization: Bearer $KEY" -H "Mcp-Session-Id: $SESSION" \
			-H 'MCP-Protocol-Version: 2025-11-25' -H 'Content-Type: application/json' \
			-H 'Accept: application/json, text/event-stream' -d "$CALL"
	done
	for c in 1 2 4; do R[warm_$c]=$(BENCH_TOOL_ERRORS=1 wrk_run "$BASE/mcp" "$CALL" "$MCP_HEADERS" "$c" "$SECS"); done
	WARM_ROWS=$(psql -X -At -c "SELECT count(*) FILTER (WHERE sandbox = 'warm') || ' of ' || count(*) FROM execution_logs WHERE tool_name = 'bench__tool_00' AND kind = 'call'")
	HF=$(mktemp)
	hyperfine -N --warmup 5 --runs 100 --export-json "$HF" '/usr/bin/python3.11 -I -S -c pass' >/dev/null 2>&1
	BARE=$($PY -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.3f" % (r["median"]*1000))' "$HF")
	rm -f "$HF"
}
if [ "$ONLY" = warm ]; then
	warm_rows
	f() { echo "$1" | awk -v i="$2" '{print $i}'; }
	{
		echo "# toolgate warm tools/call — $(date -u +%Y-%m-%dT%H:%M:%SZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
		echo
		echo "| sandbox | conc | calls/s | p50 ms | p90 ms | p99 ms | errors |"
		echo "|---|---|---|---|---|---|---|"
		for c in 1 2 4; do v=${R[warm_$c]}; echo "| warm | $c | $(f "$v" 1) | $(f "$v" 2) | $(f "$v" 3) | $(f "$v" 4) | $(f "$v" 5) |"; done
		echo
		echo "Bare start median $BARE ms. Rows run warm: $WARM_ROWS."
		$PY -c 'import sys; p50,b,r=float(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]); print("p50 c=1 / bare: %.2f (goal <= 0.5); calls/s c=4: %.0f (goal %.0f)" % (p50/b, r, 4000/b))' \
			"$(f "${R[warm_1]}" 2)" "$BARE" "$(f "${R[warm_4]}" 1)"
	} | tee "$ROOT/bench/results/warm.md"
	exit 0
fi
say "tools/list through nginx (toolgate, 2025-11-25 session and 2026-07-28 stateless)"
for c in 1 8 32; do R[tg_$c]=$(wrk_run "$BASE/mcp" "$LIST" "$MCP_HEADERS" "$c" "$SECS"); done
for c in 1 8 32; do R[t6_$c]=$(wrk_run "$BASE/mcp" "$LIST26" "$MCP26_HEADERS" "$c" "$SECS"); done

say "tools/list against the TypeScript SDK server"
(cd bench/ts-server && { [ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null 2>&1; })
bench_port_check TS_PORT BENCH_TS_PORT
PORT=$TS_PORT node bench/ts-server/server.mjs >/dev/null 2>&1 &
TS_PID=$!
for i in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$TS_PORT/" && break; sleep 0.1; done
for c in 1 8 32; do
	R[ts_$c]=$(wrk_run "http://127.0.0.1:$TS_PORT/mcp" "$LIST" "MCP-Protocol-Version: 2025-11-25" "$c" "$SECS")
done
kill "$TS_PID" 2>/dev/null || true
TS_PID=

say "static nginx ceiling"
for c in 1 8 32; do R[ng_$c]=$(wrk_run "$BASE/__static_bench" "$LIST" "" "$c" "$SECS"); done
# The same reply size as tools/list: the page itself, as a static file.
curl -sS -f -o "$VAR/nginx/bench-page.json" -X POST "$BASE/mcp" -H "Authorization: Bearer $KEY" \
	-H "Mcp-Session-Id: $SESSION" -H 'MCP-Protocol-Version: 2025-11-25' -H 'Content-Type: application/json' \
	-H 'Accept: application/json, text/event-stream' -d "$LIST"
chmod 0644 "$VAR/nginx/bench-page.json"
PAGE_BYTES=$(stat -c %s "$VAR/nginx/bench-page.json")
for c in 1 8 32; do R[nf_$c]=$(BENCH_METHOD=GET wrk_run "$BASE/__static_bench_page" "" "" "$c" "$SECS"); done

warm_rows
say "tools/call of a trivial Python tool: cold (the stack restarted with TOOLGATE_SANDBOX_WARM=off)"
bash scripts/stack.sh stop >/dev/null 2>&1
TOOLGATE_SANDBOX_WARM=off make -s start >/dev/null
for c in 1 2 4; do R[call_$c]=$(BENCH_TOOL_ERRORS=1 wrk_run "$BASE/mcp" "$CALL" "$MCP_HEADERS" "$c" "$SECS"); done
COLD_ROWS=$(psql -X -At -c "SELECT count(*) FILTER (WHERE sandbox = 'cold') FROM execution_logs WHERE tool_name = 'bench__tool_00' AND kind = 'call'")

# Tracing (docs/operations.md "Tracing"): tools/list and warm tools/call
# with tracing off (no endpoint), then on a stack exporting to a loopback
# OTLP receiver with TOOLGATE_OTLP_SAMPLE_RATIO=0, where a request is traced
# exactly when it sends a sampled traceparent: rows with and without that
# header alternate (3 rounds each), so the machine's drift hits both alike;
# first with the receiver answering at once (a collector that costs this
# host nothing: 200 without parsing), then with it hanging (every export
# times out and its spans are dropped).
say "tracing: off, on at 100% sampling, and with the collector hanging"
TP="traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
otlp_metric() { curl -s "$BASE/metrics" | awk -v m="$1" 'index($0, m) == 1 {s += $2} END {print s + 0}'; }
bash scripts/stack.sh stop >/dev/null 2>&1
make -s start >/dev/null
R[toff_l8]=$(wrk_run "$BASE/mcp" "$LIST" "$MCP_HEADERS" 8 "$SECS")
R[toff_c1]=$(BENCH_TOOL_ERRORS=1 wrk_run "$BASE/mcp" "$CALL" "$MCP_HEADERS" 1 "$SECS")
R[toff_c4]=$(BENCH_TOOL_ERRORS=1 wrk_run "$BASE/mcp" "$CALL" "$MCP_HEADERS" 4 "$SECS")
bench_port_check OTLP_PORT BENCH_OTLP_PORT
$PY tests/trace/otlp_receiver.py "$OTLP_PORT" "$VAR/otlp.pid" >/dev/null 2>&1 &
for i in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$OTLP_PORT/stats" && break; sleep 0.1; done
curl -s -o /dev/null -d '{"mode":"sink"}' "http://127.0.0.1:$OTLP_PORT/control"
bash scripts/stack.sh stop >/dev/null 2>&1
TOOLGATE_OTLP_ENDPOINT="http://127.0.0.1:$OTLP_PORT/v1/traces" TOOLGATE_OTLP_SAMPLE_RATIO=0 make -s start >/dev/null
ab_rounds() { # phase: 4 rounds of tools/list c=8 without and with the sampled traceparent
	for r in 1 2 3 4; do	# ABBA: a drift of the machine's load favours neither
		case $r in
		1 | 4)
			R[${1}_u$r]=$(wrk_run "$BASE/mcp" "$LIST" "$MCP_HEADERS" 8 "$SECS")
			R[${1}_s$r]=$(wrk_run "$BASE/mcp" "$LIST" "$MCP_HEADERS|$TP" 8 "$SECS") ;;
		*)
			R[${1}_s$r]=$(wrk_run "$BASE/mcp" "$LIST" "$MCP_HEADERS|$TP" 8 "$SECS")
			R[${1}_u$r]=$(wrk_run "$BASE/mcp" "$LIST" "$MCP_HEADERS" 8 "$SECS") ;;
		esac
	done
	R[${1}_c1]=$(BENCH_TOOL_ERRORS=1 wrk_run "$BASE/mcp" "$CALL" "$MCP_HEADERS|$TP" 1 "$SECS")
	R[${1}_c4]=$(BENCH_TOOL_ERRORS=1 wrk_run "$BASE/mcp" "$CALL" "$MCP_HEADERS|$TP" 4 "$SECS")
}
ab_rounds ton
sleep 2
T_EXPORTED=$(otlp_metric toolgate_trace_spans_exported_total)
T_DROPPED_ON=$(otlp_metric toolgate_trace_spans_dropped_total)
curl -s -o /dev/null -d '{"mode":"hang"}' "http://127.0.0.1:$OTLP_PORT/control"
ab_rounds thang
T_DROPPED_HANG=$(($(otlp_metric toolgate_trace_spans_dropped_total) - T_DROPPED_ON))
kill "$(cat "$VAR/otlp.pid")" 2>/dev/null || true
bash scripts/stack.sh stop >/dev/null 2>&1
make -s start >/dev/null

say "memory"
MASTER=$(cat "$VAR/run/toolgate.pid")
RSS=$(for p in $(pgrep -x toolgate -P "$MASTER"); do awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null; done | sort -n | tr '\n' ' ')
RSS_MAX=$(echo "$RSS" | tr ' ' '\n' | sed '/^$/d' | tail -n1)
# Peak memory of one sandboxed call, as the helper reports it (peak_rss_kb).
SUDO_NOBODY=(); [ "$(id -u)" = 0 ] && SUDO_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
PEAK=$(printf '%s' '{"mode":"run","code":"def main(text):\n    return text\n","arguments":{"text":"hi"}}' |
	"${SUDO_NOBODY[@]}" "$ROOT/build/sandbox-drive" --helper "$ROOT/build/toolgate-sandbox" 2>/dev/null |
	$PY -c 'import json,sys; print(json.load(sys.stdin).get("peak_rss_kb","?"))' 2>/dev/null || echo "?")

say "scale: tools/list with 10 .. 10,000 approved tools"
api POST "/api/v1/servers/$SID/stop" >/dev/null
declare -A S
for N in 10 100 1000 10000; do
	psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
DELETE FROM servers WHERE name = 'scale';
INSERT INTO servers (name, status, description) VALUES ('scale', 'running', 'scale test');
INSERT INTO tools (server_id, name, description, code, input_schema, schema_source, status, approved_version)
SELECT (SELECT id FROM servers WHERE name = 'scale'), format('t%s', lpad(g::text, 5, '0')),
       'scale tool', E'def main(text: str) -> str:\n    return text\n',
       '{"type":"object","properties":{"text":{"type":"string"}}}', 'explicit', 'approved', 1
FROM generate_series(1, $N) g;
INSERT INTO tool_versions (tool_id, version, code, description, input_schema, schema_source)
SELECT id, 1, code, description, input_schema, schema_source FROM tools
WHERE server_id = (SELECT id FROM servers WHERE name = 'scale');
SQL
	S[$N]=$(wrk_run "$BASE/mcp" "$LIST" "$MCP_HEADERS" 1 3)
done
# Round trips per /mcp request over the scale runs: the most common value and
# the mean (cache refills, rate-limit leases and catalogue reloads included).
RT=$(grep 'route="/mcp"' "$VAR/log/toolgate.log" | tail -n 5000 | sed -n 's/.* db_rt=\([0-9]*\).*/\1/p' | sort -n | uniq -c | sort -rn | head -n1 | awk '{print $2}')
RT_MEAN=$(grep 'route="/mcp"' "$VAR/log/toolgate.log" | tail -n 5000 | sed -n 's/.* db_rt=\([0-9]*\).*/\1/p' | awk '{s+=$1; n++} END {if (n) printf "%.3f", s/n; else print "?"}')

MACHINE="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -n1)"
f() { echo "$1" | awk -v i="$2" '{print $i}'; }
# med "row" ...: the row whose req/s is the (lower) median of the rows
med() { printf '%s\n' "$@" | sort -n -k1,1 | sed -n "$(( ($# + 1) / 2 ))p"; }
ratio() { $PY -c 'import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print("%.2f" % (a/b if b else 0))' "$1" "$2"; }
{
	echo "# toolgate benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo
	echo "Machine: $MACHINE. Workers: $TOOLGATE_WORKERS. wrk ${SECS}s per row (bench/mcp.lua). One run, same machine."
	echo
	echo "## tools/list (50 approved tools), through nginx"
	echo
	echo "| target | conc | req/s | p50 ms | p90 ms | p99 ms | errors |"
	echo "|---|---|---|---|---|---|---|"
	for c in 1 8 32; do
		for k in tg t6 ts ng nf; do
			v=${R[${k}_$c]}
			case $k in tg) name="toolgate /mcp (2025-11-25 session)" ;; t6) name="toolgate /mcp (2026-07-28 stateless)" ;; ts) name="TypeScript SDK server (stateless)" ;; ng) name="nginx return 200 (ceiling)" ;; nf) name="nginx static file, ${PAGE_BYTES} B (GET)" ;; esac
			echo "| $name | $c | $(f "$v" 1) | $(f "$v" 2) | $(f "$v" 3) | $(f "$v" 4) | $(f "$v" 5) |"
		done
	done
	echo
	echo "## tools/call of a trivial Python tool (sandboxed), through nginx"
	echo
	echo "| sandbox | conc | calls/s | p50 ms | p90 ms | p99 ms | errors |"
	echo "|---|---|---|---|---|---|---|"
	for c in 1 2 4; do
		v=${R[call_$c]}; echo "| cold | $c | $(f "$v" 1) | $(f "$v" 2) | $(f "$v" 3) | $(f "$v" 4) | $(f "$v" 5) |"
		v=${R[warm_$c]}; echo "| warm | $c | $(f "$v" 1) | $(f "$v" 2) | $(f "$v" 3) | $(f "$v" 4) | $(f "$v" 5) |"
	done
	echo
	echo "Bare interpreter start (\`/usr/bin/python3.11 -I -S -c pass\`, hyperfine, 100 runs, between the warm and the cold rows): median $BARE ms."
	echo "Execution-log rows of the benchmark tool: $WARM_ROWS ran warm in the warm rows; $COLD_ROWS cold in all."
	echo
	echo "## Tracing (OpenTelemetry, docs/operations.md)"
	echo
	echo "Off: no endpoint. Then a stack exporting to a loopback OTLP/HTTP receiver with TOOLGATE_OTLP_SAMPLE_RATIO=0: \"unsampled\" rows send no traceparent (nothing recorded), \"100%\" rows send a sampled one (every request traced); tools/list rows alternate ABBA, 4 rounds each, ${SECS}s per row (medians in the table, every round on the line after it). Collector \"ok\" answers 200 without parsing; \"hanging\" never answers (every export times out after TOOLGATE_OTLP_TIMEOUT_MS and is dropped)."
	echo
	echo "| request | tracing | collector | req/s | p50 ms | p99 ms | errors | vs unsampled |"
	echo "|---|---|---|---|---|---|---|---|"
	v=${R[toff_l8]}; echo "| tools/list, c=8 | off | — | $(f "$v" 1) | $(f "$v" 2) | $(f "$v" 4) | $(f "$v" 5) | |"
	for ph in ton thang; do
		case $ph in ton) col=ok ;; thang) col=hanging ;; esac
		mu=$(med "${R[${ph}_u1]}" "${R[${ph}_u2]}" "${R[${ph}_u3]}" "${R[${ph}_u4]}")
		ms=$(med "${R[${ph}_s1]}" "${R[${ph}_s2]}" "${R[${ph}_s3]}" "${R[${ph}_s4]}")
		echo "| tools/list, c=8 | unsampled | $col | $(f "$mu" 1) | $(f "$mu" 2) | $(f "$mu" 4) | $(f "$mu" 5) | 1.00 |"
		echo "| tools/list, c=8 | 100% | $col | $(f "$ms" 1) | $(f "$ms" 2) | $(f "$ms" 4) | $(f "$ms" 5) | $(ratio "$(f "$ms" 1)" "$(f "$mu" 1)") |"
		R[${ph}_ratio]=$(ratio "$(f "$ms" 1)" "$(f "$mu" 1)")
	done
	for k in c1 c4; do
		case $k in c1) name="tools/call warm, c=1" ;; c4) name="tools/call warm, c=4" ;; esac
		v=${R[toff_$k]}; echo "| $name | off | — | $(f "$v" 1) | $(f "$v" 2) | $(f "$v" 4) | $(f "$v" 5) | |"
		v=${R[ton_$k]}; echo "| $name | 100% | ok | $(f "$v" 1) | $(f "$v" 2) | $(f "$v" 4) | $(f "$v" 5) | $(ratio "$(f "$v" 1)" "$(f "${R[toff_$k]}" 1)") (vs off) |"
		v=${R[thang_$k]}; echo "| $name | 100% | hanging | $(f "$v" 1) | $(f "$v" 2) | $(f "$v" 4) | $(f "$v" 5) | $(ratio "$(f "$v" 1)" "$(f "${R[toff_$k]}" 1)") (vs off) |"
	done
	echo
	echo "tools/list rounds (req/s), unsampled / 100%: collector ok: $(f "${R[ton_u1]}" 1) / $(f "${R[ton_s1]}" 1), $(f "${R[ton_u2]}" 1) / $(f "${R[ton_s2]}" 1), $(f "${R[ton_u3]}" 1) / $(f "${R[ton_s3]}" 1), $(f "${R[ton_u4]}" 1) / $(f "${R[ton_s4]}" 1); hanging: $(f "${R[thang_u1]}" 1) / $(f "${R[thang_s1]}" 1), $(f "${R[thang_u2]}" 1) / $(f "${R[thang_s2]}" 1), $(f "${R[thang_u3]}" 1) / $(f "${R[thang_s3]}" 1), $(f "${R[thang_u4]}" 1) / $(f "${R[thang_s4]}" 1)."
	echo "Spans exported with the collector ok: $T_EXPORTED (dropped: $T_DROPPED_ON). Spans dropped while it hung: $T_DROPPED_HANG."
	echo
	echo "## tools/list with N approved tools (first page, concurrency 1)"
	echo
	echo "| tools | req/s | p50 ms | p99 ms |"
	echo "|---|---|---|---|"
	for N in 10 100 1000 10000; do v=${S[$N]}; echo "| $N | $(f "$v" 1) | $(f "$v" 2) | $(f "$v" 4) |"; done
	echo
	echo "Database round trips per /mcp request (access log \`db_rt\`, last 5,000 requests of the scale runs): most common $RT, mean $RT_MEAN."
	echo
	echo "## Memory"
	echo
	echo "Worker resident set after the run (KiB): $RSS. Peak memory of a sandboxed call (KiB, execution logs): $PEAK."
	echo
	echo "## Targets"
	echo
	echo "| target | measured | goal |"
	echo "|---|---|---|"
	echo "| tools/list req/s vs TypeScript SDK at c=8 (2025 session / 2026 stateless) | $(ratio "$(f "${R[tg_8]}" 1)" "$(f "${R[ts_8]}" 1)")× / $(ratio "$(f "${R[t6_8]}" 1)" "$(f "${R[ts_8]}" 1)")× | ≥ 3× |"
	echo "| tools/list req/s vs nginx ceiling at c=8 | $(ratio "$(f "${R[tg_8]}" 1)" "$(f "${R[ng_8]}" 1)") (vs a static file of the same size: $(ratio "$(f "${R[tg_8]}" 1)" "$(f "${R[nf_8]}" 1)")) | ≥ 0.40 |"
	echo "| tools/call p50 − bare interpreter, cold | $($PY -c 'import sys; print("%.1f ms" % (float(sys.argv[1])-float(sys.argv[2])))' "$(f "${R[call_1]}" 2)" "$BARE") | ≤ 15 ms |"
	echo "| tools/call p50 at c=1, warm, vs bare interpreter | $($PY -c 'import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print("%.2f× (%.1f vs %.1f ms) — %s" % (a/b, a, b, "met" if a <= 0.5*b else "not met"))' "$(f "${R[warm_1]}" 2)" "$BARE") | ≤ 0.5× |"
	echo "| tools/call calls/s at c=4, warm | $($PY -c 'import sys; r,b,e=float(sys.argv[1]),float(sys.argv[2]),int(sys.argv[3]); g=4*1000/b; print("%.0f/s, %d errors (goal %.0f/s) — %s" % (r, e, g, "met" if r >= g and e == 0 else "not met"))' "$(f "${R[warm_4]}" 1)" "$BARE" "$(f "${R[warm_4]}" 5)") | ≥ 4 × 1000 / bare ms, no errors |"
	echo "| tools/call p99 at c=4, warm, vs its p50 | $($PY -c 'import sys; p99,p50=float(sys.argv[1]),float(sys.argv[2]); print("%.2f× (%.1f vs %.1f ms) — %s" % (p99/p50 if p50 else 0, p99, p50, "met" if p99 <= 4*p50 else "not met"))' "$(f "${R[warm_4]}" 4)" "$(f "${R[warm_4]}" 2)") | ≤ 4× |"
	echo "| worker RSS (max) | ${RSS_MAX:-?} KiB | ≤ 16384 KiB |"
	echo "| DB round trips per tools/list | most common $RT, mean $RT_MEAN, the same for every N | constant |"
	echo "| tools/list req/s, traced at 100% vs unsampled, c=8 (medians of 4 ABBA rounds) | ${R[ton_ratio]} | ≥ 0.95 |"
	echo "| tools/list req/s, traced with the collector hanging vs unsampled, c=8 | ${R[thang_ratio]} (dropped $T_DROPPED_HANG spans) | no change beyond noise |"
} >"$OUT"
cat "$OUT"
