#!/usr/bin/env bash
# bench/streams.sh - `make bench-streams` (and the last part of `make bench`):
# the stream process (docs/architecture.md "Streams") holding N idle streams
# (BENCH_STREAMS, default 1000: half GET /mcp of one 2025-11-25 session, half
# 2026-07-28 subscriptions/listen) through nginx, and a change fanned out to
# all of them.
#   - memory: the stream process's RSS and PSS (/proc/<pid>/smaps_rollup)
#     before the streams open and once all are open; the delta per stream
#     (target <= 16 KiB)
#   - fan-out: BENCH_ROUNDS (5) changes over REST (a server with one approved
#     tool started, then stopped), each seen by every stream; latency from
#     just before the REST request to the client having read the
#     notifications/tools/list_changed event, all streams and rounds pooled
#     (target p99 <= 200 ms)
# Its own stack (var/bench-streams): nginx on BENCH_PORT, else the first free
# port from 18781 on (a set one that is busy is refused, as is a stack
# already running at var/bench-streams; bench/lib.sh bench_port);
# BENCH_PG_PORT (55781) only names PostgreSQL's unix socket there.
# BENCH_KEEP=1 leaves the stack running. Results: stdout and
# bench/results/streams.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
N=${BENCH_STREAMS:-1000}
ROUNDS=${BENCH_ROUNDS:-5}
export VAR="$ROOT/var/bench-streams" PG_PORT=${BENCH_PG_PORT:-55781} PG_FSYNC=off
export NGINX_RATE=1000000r/s NGINX_BURST=1000000 TOOLGATE_LOG_LEVEL=${TOOLGATE_LOG_LEVEL:-warn}
export TOOLGATE_STREAMS_PER_PRINCIPAL=$((N + 10)) TOOLGATE_STREAMS_MAX=$((N + 100))
PY=/usr/bin/python3
OUT="$ROOT/bench/results/streams.md"
mkdir -p "$ROOT/bench/results"
BENCH_NAME=bench-streams
. bench/lib.sh
bench_var_check
bench_port PORT BENCH_PORT 18781
export PORT
BASE="http://127.0.0.1:$PORT"

cleanup() {
	[ -n "${CL_PID:-}" ] && kill "$CL_PID" 2>/dev/null || true
	[ "${BENCH_KEEP:-0}" = 1 ] || bash scripts/stack.sh stop >/dev/null 2>&1 || true
	bench_kept
}
trap cleanup EXIT
bench_stack bash scripts/stack.sh start
SRV=$(api POST /api/v1/servers '{"name":"fan"}' | jget '["id"]')
TID=$(api POST "/api/v1/servers/$SRV/tools" '{"name":"t","description":"fan-out","code":"def main():\n    return 1\n"}' | jget '["id"]')
api POST "/api/v1/tools/$TID/submit" '{}' >/dev/null
api POST "/api/v1/tools/$TID/approve" '{"version":1}' >/dev/null
SID=$(curl -sS -D - -o /dev/null -X POST "$BASE/mcp" -H "Authorization: Bearer $KEY" \
	-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
	-d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}' |
	tr -d '\r' | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
[ -n "$SID" ] || die "no session"

MASTER=$(head -n 1 "$TOOLGATE_PIDFILE")
SPID=$(pgrep -P "$MASTER" -x toolgate-strm) || die "no stream process under master $MASTER"
mem() { # "rss_kib pss_kib" of the stream process
	awk '/^Rss:/{r=$2} /^Pss:/{p=$2} END{print r, p}' "/proc/$SPID/smaps_rollup"
}
read -r RSS0 PSS0 < <(mem)
say "stream process $SPID: RSS ${RSS0} KiB, PSS ${PSS0} KiB before; opening $N streams"

coproc CL { BENCH_PORT=$PORT BENCH_KEY=$KEY BENCH_SID=$SID BENCH_STREAMS=$N exec $PY bench/streams.py; }
CL_PID=$CL_PID
read -r -t 180 line <&"${CL[0]}" || die "the client did not open $N streams"
[ "$line" = "open $N" ] || die "client: $line"
read -r RSS1 PSS1 < <(mem)
say "all open: RSS ${RSS1} KiB, PSS ${PSS1} KiB"

LAT="$VAR/latencies.txt"
: >"$LAT"
for ((r = 1; r <= ROUNDS; r++)); do
	echo mark >&"${CL[1]}"
	read -r line <&"${CL[0]}"
	if ((r % 2)); then api POST "/api/v1/servers/$SRV/start" '{}' >/dev/null; else api POST "/api/v1/servers/$SRV/stop" '{}' >/dev/null; fi
	echo done >&"${CL[1]}"
	echo wait >&"${CL[1]}"
	read -r -t 60 line <&"${CL[0]}" || die "round $r: no answer"
	set -- ${line#lat }
	rest=$1
	shift
	[ "$#" = "$N" ] || die "round $r: $# of $N streams saw the change"
	for x in "$@"; do printf '%s %s\n' "$x" "$rest"; done >>"$LAT"
	sleep 1.5
done
echo quit >&"${CL[1]}" || true

$PY - "$LAT" "$N" "$ROUNDS" "$RSS0" "$RSS1" "$PSS0" "$PSS1" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PYEOF' | tee "$OUT"
import sys
rows = [tuple(float(v) for v in x.split()) for x in open(sys.argv[1]) if x.strip()]
lat = sorted(a for a, _ in rows)
after = sorted(max(0.0, a - b) for a, b in rows)
rest = sorted(set(b for _, b in rows))
n, rounds = int(sys.argv[2]), int(sys.argv[3])
rss0, rss1, pss0, pss1 = (int(x) for x in sys.argv[4:8])
def pct(v, p):
    return v[max(0, min(len(v) - 1, int(round(p / 100 * len(v))) - 1))]
print("## Streams (bench/streams.sh)\n")
print("%d idle streams (half GET /mcp, half subscriptions/listen) on one stream process; %d cores, load %s.\n" % (n, int(sys.argv[8]), sys.argv[9]))
print("| measure | value |\n|---|---|")
print("| stream process RSS before / with %d streams | %d KiB / %d KiB |" % (n, rss0, rss1))
print("| RSS per stream | %.1f KiB |" % ((rss1 - rss0) / n))
print("| stream process PSS before / with %d streams | %d KiB / %d KiB |" % (n, pss0, pss1))
print("| PSS per stream | %.1f KiB (target <= 16 KiB) |" % ((pss1 - pss0) / n))
print("| fan-out samples | %d (%d rounds x %d streams) |" % (len(lat), rounds, n))
print("| fan-out latency from the REST request, p50 / p90 / p99 / max | %.0f / %.0f / %.0f / %.0f ms (target p99 <= 200 ms) |" % (pct(lat, 50), pct(lat, 90), pct(lat, 99), lat[-1]))
print("| the REST request itself (start/stop), per round | %s ms |" % " / ".join("%.0f" % b for b in rest))
print("| fan-out latency from the REST response, p50 / p90 / p99 / max | %.0f / %.0f / %.0f / %.0f ms |" % (pct(after, 50), pct(after, 90), pct(after, 99), after[-1]))
PYEOF
