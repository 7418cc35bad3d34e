#!/usr/bin/env bash
# servers.sh - the external MCP servers of tests/integration/test_sources.c,
# all on 127.0.0.1: the official server-everything (Streamable HTTP, from the
# pinned package.json/lockfile, installed with `npm ci` on first use) and
# fake_server.py (misbehaviour on demand).
#   servers.sh start DIR     start both; DIR gets everything.port/.pid, fake.port/.pid
#   servers.sh restart-everything DIR   kill and start server-everything (sessions lost)
#   servers.sh stop DIR      stop both (by pid)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
CMD=${1:?usage}; DIR=${2:?usage}
mkdir -p "$DIR"

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_port() { # port
	for _ in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "servers.sh: nothing listens on 127.0.0.1:$1" >&2
	return 1
}

start_everything() {
	local port
	if [ ! -f "$HERE/node_modules/@modelcontextprotocol/server-everything/dist/index.js" ]; then
		(cd "$HERE" && npm ci --no-audit --no-fund >"$DIR/npm.log" 2>&1) ||
			{ echo "servers.sh: npm ci failed (see $DIR/npm.log)" >&2; return 1; }
	fi
	port=${EVERYTHING_PORT:-$(free_port)}
	(cd "$HERE" && PORT=$port exec node node_modules/@modelcontextprotocol/server-everything/dist/index.js \
		streamableHttp >"$DIR/everything.log" 2>&1) &
	echo $! >"$DIR/everything.pid"
	echo "$port" >"$DIR/everything.port"
	wait_port "$port"
}

stop_pid() { # file
	if [ -f "$1" ]; then
		kill "$(cat "$1")" 2>/dev/null || true
		rm -f "$1"
	fi
}

case "$CMD" in
start)
	start_everything
	port=$(free_port)
	/usr/bin/python3 "$HERE/fake_server.py" "$port" >"$DIR/fake.log" 2>&1 &
	echo $! >"$DIR/fake.pid"
	echo "$port" >"$DIR/fake.port"
	wait_port "$port"
	;;
restart-everything)
	port=$(cat "$DIR/everything.port")
	stop_pid "$DIR/everything.pid"
	for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break; sleep 0.1; done
	EVERYTHING_PORT=$port start_everything
	;;
stop)
	stop_pid "$DIR/everything.pid"
	stop_pid "$DIR/fake.pid"
	;;
*)
	echo "usage: servers.sh start|restart-everything|stop DIR" >&2
	exit 2
	;;
esac
