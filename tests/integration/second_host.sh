#!/usr/bin/env bash
# second_host.sh start|stop DIR [PORT] - "another host" for test_push.c: a
# second toolgate master (its own workers and stream process) and a second
# nginx on PORT, sharing the test stack's PostgreSQL and secrets (the
# environment of `scripts/stack.sh env`, which integration binaries get).
# start prints nothing and exits 0 once /health answers; stop stops exactly
# the two processes start recorded (by pid) and is safe to repeat.
# Run as a file, not sourced; needs build/toolgate and nginx.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cmd=${1:?start|stop} dir=${2:?DIR} port=${3:-}
RUN="$dir/run" LOG="$dir/log"
stop_pid() { # pidfile
	local p
	p=$(head -n 1 "$1" 2>/dev/null | tr -dc '0-9' || true)
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null || true
	rm -f "$1"
}
case $cmd in
stop)
	# toolgate first: its stream process ends every stream gracefully
	# (what test_push.c checks), then nginx has nothing left in flight.
	stop_pid "$RUN/toolgate.pid"
	stop_pid "$RUN/nginx.pid"
	rm -f "$RUN/toolgate.sock" "$RUN/toolgate.sock.stream"
	;;
start)
	[ -n "$port" ] || { echo "second_host.sh: PORT needed" >&2; exit 2; }
	install -d -m 0755 "$dir" "$RUN" "$LOG" "$dir/nginx" "$dir/nginx/tmp"
	export TOOLGATE_SOCKET="$RUN/toolgate.sock" TOOLGATE_PIDFILE="$RUN/toolgate.pid"
	unset TOOLGATE_STREAM_SOCKET
	export TOOLGATE_WORKERS=3 TOOLGATE_TOOL_SLOTS=1 TOOLGATE_TOOL_QUEUE=1 TOOLGATE_MAINTENANCE_INTERVAL=0
	export TOOLGATE_ALLOWED_ORIGINS="http://127.0.0.1:$port"
	# TG_HOST_NOFILE: the master's descriptor limit (soft and hard), for
	# test_push.c's descriptor-limit test
	(
		[ -z "${TG_HOST_NOFILE:-}" ] || ulimit -n "$TG_HOST_NOFILE"
		exec setsid "$ROOT/build/toolgate" serve </dev/null >>"$LOG/toolgate.log" 2>&1
	) &
	for _ in $(seq 1 100); do [ -S "$RUN/toolgate.sock" ] && break; sleep 0.1; done
	[ -S "$RUN/toolgate.sock" ] || { tail -n 20 "$LOG/toolgate.log" >&2; exit 1; }
	user_line=""
	[ "$(id -u)" = 0 ] && user_line="user nobody nogroup;"
	sed -e "s|@USER_LINE@|$user_line|g" -e "s|@VAR@|$dir|g" -e "s|@ROOT@|$ROOT|g" \
		-e "s|@PORT@|$port|g" -e "s|@SOCKET@|$RUN/toolgate.sock|g" \
		-e "s|@STREAM_SOCKET@|$RUN/toolgate.sock.stream|g" \
		-e "s|@RATE@|5000r/s|g" -e "s|@BURST@|10000|g" \
		"$ROOT/nginx/dev.conf.in" >"$dir/nginx/nginx.conf"
	setsid nginx -p "$dir/nginx/" -c nginx.conf -e stderr </dev/null >>"$LOG/nginx.log" 2>&1 &
	for _ in $(seq 1 100); do
		curl -sf -o /dev/null "http://127.0.0.1:$port/health" && exit 0
		sleep 0.1
	done
	tail -n 20 "$LOG/nginx.log" "$LOG/toolgate.log" >&2
	exit 1
	;;
*) echo "usage: second_host.sh start|stop DIR [PORT]" >&2; exit 2 ;;
esac
