#!/usr/bin/env bash
# stack.sh - the private toolgate stack: PostgreSQL + toolgate + nginx, all under $VAR.
#
# Nothing in /etc is changed and no system service is used. Works as root (PostgreSQL
# runs as "postgres" via runuser, nginx workers as nobody, toolgate drops to
# $TOOLGATE_USER) and as a normal user (everything runs as that user).
#
#   stack.sh start      start everything in the background (idempotent: PostgreSQL is
#                       reused, a running toolgate/nginx is restarted)
#   stack.sh stop       stop exactly what start started, by pid (idempotent)
#   stack.sh run        start, then follow the toolgate log; Ctrl-C/SIGTERM stops all
#   stack.sh pg-stop    stop only PostgreSQL      stack.sh pg-start   start it again
#   stack.sh env        print export lines (PG*, TG_*, TOOLGATE_*) for scripts and tests
#   stack.sh status     show what is running
#
# Settings (environment): VAR (default $ROOT/var; falls back to $TG_VAR), PORT (8080),
# PG_PORT (55432), PG_FSYNC (on), NGINX_RATE (50r/s), NGINX_BURST (100), and any
# TOOLGATE_* variable, which wins over $VAR/toolgate.env (except the secrets there).
# See README.md / docs/operations.md.
set -euo pipefail
set +m
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
SELF="$ROOT/scripts/stack.sh"
VAR=${VAR:-${TG_VAR:-$ROOT/var}}
case "$VAR" in /*) ;; *) VAR="$PWD/$VAR" ;; esac

PGBIN=${PGBIN:-}
if [ -z "$PGBIN" ]; then
	PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	[ -n "$PGBIN" ] || PGBIN=/usr/lib/postgresql/15/bin
fi
TOOLGATE=${TG_BIN:-$ROOT/build/toolgate}  # TG_BIN: another binary (tests of this script)
ADMIN_USER=admin

RUN="$VAR/run"
LOG="$VAR/log"
SOCKET="$RUN/toolgate.sock"
TG_PIDFILE="$RUN/toolgate.pid"
NGINX_PIDFILE="$RUN/nginx.pid"
PG_PIDFILE="$RUN/postgres.pid"
STACK_RECORD="$RUN/stack.env"
PGDATA="$VAR/pg/data"
PGRUN="$VAR/pg/run"
ENV_FILE="$VAR/toolgate.env"
CREDS="$VAR/admin-credentials"

if [ "$(id -u)" = 0 ]; then
	IS_ROOT=1
	AS_PG=(runuser -u postgres --)
else
	IS_ROOT=0
	AS_PG=()
fi

say() { printf 'stack: %s\n' "$*" >&2; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# Ports: explicit environment wins; otherwise what the last start recorded
# (so stop/env/pg-* find the same instance); otherwise the defaults.
load_ports() {
	local rec_port="" rec_pg=""
	if [ -r "$STACK_RECORD" ]; then
		rec_port=$(sed -n 's/^PORT=\([0-9]*\)$/\1/p' "$STACK_RECORD")
		rec_pg=$(sed -n 's/^PG_PORT=\([0-9]*\)$/\1/p' "$STACK_RECORD")
	fi
	if [ "${1:-}" = fresh ]; then rec_port="" rec_pg=""; fi
	PORT=${PORT:-${rec_port:-8080}}
	PG_PORT=${PG_PORT:-${rec_pg:-55432}}
	case "$PORT" in '' | *[!0-9]*) die "PORT must be a number (got '$PORT')" ;; esac
	case "$PG_PORT" in '' | *[!0-9]*) die "PG_PORT must be a number (got '$PG_PORT')" ;; esac
	BASE_URL="http://127.0.0.1:$PORT"
}

check_paths() {
	local p
	# Paths go into nginx and PostgreSQL configs unquoted: keep them plain.
	for p in "$ROOT" "$VAR"; do
		case "$p" in
		*[!A-Za-z0-9._/+@-]*) die "path '$p' contains characters the configs cannot carry (spaces, quotes, ...); use a plain path" ;;
		esac
	done
	# unix socket paths: sun_path is 108 bytes including the NUL.
	local n
	n=$(printf '%s' "$SOCKET.stream" | LC_ALL=C wc -c)
	[ "$n" -lt 108 ] || die "socket path $SOCKET.stream (the stream process's) is $n bytes; unix sockets need < 108: use a shorter VAR"
	n=$(printf '%s' "$PGRUN/.s.PGSQL.$PG_PORT" | LC_ALL=C wc -c)
	[ "$n" -lt 108 ] || die "PostgreSQL socket path $PGRUN/.s.PGSQL.$PG_PORT is $n bytes; needs < 108: use a shorter VAR"
}

# As root the services run as other users: every directory on the way must be
# searchable by them (a checkout under /root, mode 0700, is not).
check_traverse() { # user path what
	local user=$1 path=$2 what=$3
	if ! runuser -u "$user" -- test -x "$path" 2>/dev/null; then
		local d=$path bad=""
		while [ "$d" != / ] && [ -n "$d" ]; do
			if ! runuser -u "$user" -- test -x "$d" 2>/dev/null; then bad=$d; fi
			d=$(dirname "$d")
		done
		die "user '$user' ($what) cannot reach $path: ${bad:-a parent directory} is not searchable by it (e.g. a checkout under /root, mode 0700). Move the checkout, chmod o+x the parents, or set VAR to a directory under a world-searchable path"
	fi
}

pid_alive() { # pid name -> 0 if alive and its command line mentions name
	local pid=$1 name=$2 cmd
	case "$pid" in '' | *[!0-9]*) return 1 ;; esac
	kill -0 "$pid" 2>/dev/null || return 1
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
	case "$cmd" in *"$name"*) return 0 ;; esac
	[ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" = "$name" ]
}

read_pid() { [ -r "$1" ] && head -n 1 "$1" | tr -dc '0-9' || true; }

group_alive() { kill -0 -- "-$1" 2>/dev/null; }

# stop_service name pidfile signal grace_seconds
# Signals the recorded pid, waits, then kills what is left of its process group
# (we start each service with setsid, so its group is exactly its processes).
stop_service() {
	local name=$1 pidfile=$2 sig=$3 grace=$4 pid pgid i
	pid=$(read_pid "$pidfile")
	if [ -z "$pid" ] || ! pid_alive "$pid" "$name"; then
		rm -f "$pidfile"
		return 0
	fi
	pgid=$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ' || true)
	say "stopping $name (pid $pid)"
	kill "-$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < grace * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "$name did not stop within ${grace}s; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	# Leftover children (workers) in the service's own process group.
	if [ -n "$pgid" ] && [ "$pgid" = "$pid" ] && group_alive "$pgid"; then
		for ((i = 0; i < 30; i++)); do group_alive "$pgid" || break; sleep 0.1; done
		if group_alive "$pgid"; then
			say "$name left processes behind in group $pgid; terminating them"
			kill -TERM -- "-$pgid" 2>/dev/null || true
			sleep 1
			kill -KILL -- "-$pgid" 2>/dev/null || true
		fi
	fi
	for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	rm -f "$pidfile"
}

pg_running() {
	[ -f "$PGDATA/PG_VERSION" ] || return 1
	"${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1
}

pg_start() {
	[ -f "$PGDATA/PG_VERSION" ] || die "no PostgreSQL cluster in $PGDATA (run '$0 start' first)"
	if pg_running; then
		local running_port
		running_port=$(sed -n 4p "$PGDATA/postmaster.pid" 2>/dev/null || true)
		if [ "$running_port" = "$PG_PORT" ]; then
			read_pid "$PGDATA/postmaster.pid" >"$PG_PIDFILE"
			return 0
		fi
		say "PostgreSQL runs on port $running_port, restarting it on $PG_PORT"
		pg_stop
	fi
	local fsync=${PG_FSYNC:-on}
	case "$fsync" in on | off) ;; *) die "PG_FSYNC must be on or off" ;; esac
	"${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$LOG/postgres.log" -w -t 60 \
		-o "-k $PGRUN -p $PG_PORT -c listen_addresses='' -c unix_socket_permissions=0777 -c fsync=$fsync -c full_page_writes=$fsync -c synchronous_commit=off" \
		start >/dev/null || {
		tail -n 20 "$LOG/postgres.log" >&2 2>/dev/null || true
		die "PostgreSQL did not start (log: $LOG/postgres.log)"
	}
	read_pid "$PGDATA/postmaster.pid" >"$PG_PIDFILE"
}

pg_stop() {
	if pg_running; then
		say "stopping PostgreSQL"
		"${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null ||
			"${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null || true
	fi
	rm -f "$PG_PIDFILE"
}

hex32() { od -An -vtx1 -N32 /dev/urandom | tr -d ' \n'; }

# toolgate.env: KEY=value lines (no quoting), TOOLGATE_* keys only. A variable
# already in the environment wins over the file, except the secrets: the keys of
# this stack's data are the file's, never ones left in the environment by
# `eval "$(stack.sh env)"` of another stack.
load_env_file() {
	local line key val
	[ -r "$ENV_FILE" ] || return 0
	while IFS= read -r line || [ -n "$line" ]; do
		case "$line" in '' | '#'*) continue ;; esac
		key=${line%%=*}
		val=${line#*=}
		case "$key" in TOOLGATE_[A-Z0-9_]*) ;; *) continue ;; esac
		case "$key" in *[!A-Z0-9_]*) continue ;; esac
		case "$key" in
		TOOLGATE_ENCRYPTION_KEY | TOOLGATE_ENCRYPTION_KEY_OLD | TOOLGATE_JWT_SECRET) export "$key=$val" ;;
		*) if [ -z "${!key+x}" ]; then export "$key=$val"; fi ;;
		esac
	done <"$ENV_FILE"
}

make_env_file() {
	[ -f "$ENV_FILE" ] && return 0
	say "generating secrets in $ENV_FILE"
	(
		umask 077
		cat >"$ENV_FILE.tmp" <<EOF
# toolgate settings for the private stack in $VAR, generated by scripts/stack.sh
# on first start and reused after. KEY=value, no quotes; restart to apply
# (make stop; make start). A TOOLGATE_* variable in the environment wins, except
# for the three secrets below, which always come from this file.
# Losing TOOLGATE_ENCRYPTION_KEY makes the stored secrets unreadable.
TOOLGATE_ENCRYPTION_KEY=$(hex32)
TOOLGATE_JWT_SECRET=$(hex32)
# TOOLGATE_WORKERS=4
# TOOLGATE_LOG_LEVEL=info
# TOOLGATE_MCP_AUTH=required
# TOOLGATE_ALLOWED_ORIGINS=http://127.0.0.1:8080,http://localhost:8080
EOF
		mv "$ENV_FILE.tmp" "$ENV_FILE"
	)
}

# Everything toolgate (serve, migrate, user add) needs in its environment.
export_app_env() {
	load_env_file
	export PGHOST="$PGRUN" PGPORT="$PG_PORT" PGUSER=postgres PGDATABASE=toolgate
	export TOOLGATE_SOCKET="$SOCKET" TOOLGATE_PIDFILE="$TG_PIDFILE"
	export TOOLGATE_SANDBOX_HELPER=${TOOLGATE_SANDBOX_HELPER:-$ROOT/build/toolgate-sandbox}
	export TOOLGATE_ALLOWED_ORIGINS=${TOOLGATE_ALLOWED_ORIGINS:-http://127.0.0.1:$PORT,http://localhost:$PORT}
	# The OAuth issuer and resource (lib/oauth.h): this stack's own address.
	export TOOLGATE_PUBLIC_URL=${TOOLGATE_PUBLIC_URL:-http://127.0.0.1:$PORT}
	if [ "$IS_ROOT" = 1 ]; then export TOOLGATE_USER=${TOOLGATE_USER:-nobody}; fi
	# third-party package trees (docs/packages.md)
	export TOOLGATE_PACKAGES_DIR=${TOOLGATE_PACKAGES_DIR:-$VAR/packages}
}

ensure_database() {
	local psql=("$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$PGRUN" -p "$PG_PORT" -U postgres)
	if [ "$("${psql[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'toolgate'")" != 1 ]; then
		say "creating database toolgate"
		"${psql[@]}" -d postgres -c 'CREATE DATABASE toolgate' >/dev/null
	fi
}

ensure_admin() {
	[ -f "$CREDS" ] && return 0
	local pwfile="$RUN/.admin-password.$$" password
	password=$(od -An -vtx1 -N18 /dev/urandom | tr -d ' \n')
	(umask 077; printf '%s' "$password" >"$pwfile")
	if ! "$TOOLGATE" user add --username "$ADMIN_USER" --role admin --password-file "$pwfile" \
		>>"$LOG/toolgate.log" 2>&1; then
		rm -f "$pwfile"
		tail -n 5 "$LOG/toolgate.log" >&2 || true
		die "could not create the admin user ('$TOOLGATE user add' failed; log: $LOG/toolgate.log)"
	fi
	rm -f "$pwfile"
	(
		umask 077
		printf 'username=%s\npassword=%s\n' "$ADMIN_USER" "$password" >"$CREDS.tmp"
		mv "$CREDS.tmp" "$CREDS"
	)
	NEW_ADMIN_PASSWORD=$password
}

start_toolgate() {
	local msg
	stop_service toolgate "$TG_PIDFILE" TERM 20
	rm -f "$SOCKET" "$SOCKET.stream"
	if ! msg=$("$TOOLGATE" check-config 2>&1); then
		die "toolgate check-config: $(printf '%s\n' "$msg" | grep -m 1 'configuration error' || printf '%s\n' "$msg" | tail -n 1) (settings: $ENV_FILE)"
	fi
	TG_LOG_OFFSET=$(stat -c %s "$LOG/toolgate.log" 2>/dev/null || echo 0)
	setsid "$TOOLGATE" serve </dev/null >>"$LOG/toolgate.log" 2>&1 &
	TG_LAUNCH_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "$TG_LAUNCH_PID" 2>/dev/null; then
			tail -n 20 "$LOG/toolgate.log" >&2 || true
			die "toolgate exited during start (log: $LOG/toolgate.log)"
		fi
		[ -S "$SOCKET" ] && [ "$(read_pid "$TG_PIDFILE")" = "$TG_LAUNCH_PID" ] && return 0
		sleep 0.1
	done
	# The master did not write its pid file: record the pid ourselves so that
	# stop (and the rollback of a failed start) still finds it.
	if [ "$(read_pid "$TG_PIDFILE")" != "$TG_LAUNCH_PID" ]; then
		say "warning: toolgate did not write $TG_PIDFILE; recording pid $TG_LAUNCH_PID"
		echo "$TG_LAUNCH_PID" >"$TG_PIDFILE"
	fi
	[ -S "$SOCKET" ] || { tail -n 20 "$LOG/toolgate.log" >&2 || true; die "toolgate did not create $SOCKET within 10s"; }
}

start_nginx() {
	stop_service nginx "$NGINX_PIDFILE" QUIT 10
	local user_line=""
	[ "$IS_ROOT" = 1 ] && user_line="user nobody nogroup;"
	sed -e "s|@USER_LINE@|$user_line|g" -e "s|@VAR@|$VAR|g" -e "s|@ROOT@|$ROOT|g" \
		-e "s|@PORT@|$PORT|g" -e "s|@SOCKET@|$SOCKET|g" -e "s|@STREAM_SOCKET@|$SOCKET.stream|g" \
		-e "s|@RATE@|${NGINX_RATE:-50r/s}|g" -e "s|@BURST@|${NGINX_BURST:-100}|g" \
		"$ROOT/nginx/dev.conf.in" >"$VAR/nginx/nginx.conf.tmp"
	mv "$VAR/nginx/nginx.conf.tmp" "$VAR/nginx/nginx.conf"
	if ! nginx -t -q -p "$VAR/nginx/" -c nginx.conf -e stderr 2>>"$LOG/nginx.log"; then
		tail -n 5 "$LOG/nginx.log" >&2 || true
		die "nginx rejected $VAR/nginx/nginx.conf (log: $LOG/nginx.log)"
	fi
	setsid nginx -p "$VAR/nginx/" -c nginx.conf -e stderr </dev/null >>"$LOG/nginx.log" 2>&1 &
	local launch=$! i
	for ((i = 0; i < 50; i++)); do
		if ! kill -0 "$launch" 2>/dev/null; then
			tail -n 5 "$LOG/nginx.log" >&2 || true
			die "nginx exited during start (port $PORT in use? log: $LOG/nginx.log)"
		fi
		[ "$(read_pid "$NGINX_PIDFILE")" = "$launch" ] && return 0
		sleep 0.1
	done
	die "nginx did not write $NGINX_PIDFILE within 5s (log: $LOG/nginx.log)"
}

wait_healthy() {
	local i out
	for ((i = 0; i < 60; i++)); do
		if out=$(curl -fsS -m 2 "$BASE_URL/health" 2>/dev/null); then
			return 0
		fi
		if ! pid_alive "$(read_pid "$TG_PIDFILE")" toolgate; then
			tail -n 20 "$LOG/toolgate.log" >&2 || true
			die "toolgate died during start (log: $LOG/toolgate.log)"
		fi
		sleep 0.25
	done
	curl -sS -m 2 -o /dev/null -w 'last answer: HTTP %{http_code}\n' "$BASE_URL/health" >&2 || true
	tail -n 10 "$LOG/toolgate.log" >&2 || true
	die "$BASE_URL/health did not answer 200 within 15s (logs: $LOG/)"
}

do_start() {
	load_ports fresh
	check_paths
	[ -x "$TOOLGATE" ] || die "$TOOLGATE not found; build it first (make all)"
	"$ROOT/scripts/deps.sh"
	[ -x "$PGBIN/initdb" ] || die "PostgreSQL binaries not found in $PGBIN"
	command -v nginx >/dev/null || die "nginx not installed"

	install -d -m 0755 "$VAR" "$RUN" "$LOG" "$VAR/nginx" "$VAR/nginx/tmp"
	[ -w "$VAR" ] || die "$VAR is not writable by $(id -un) (created by another user? remove it or set VAR)"
	if [ "$IS_ROOT" = 1 ]; then
		install -d -m 0755 -o postgres -g postgres "$VAR/pg" "$PGRUN"
		touch "$LOG/postgres.log"
		chown postgres:postgres "$LOG/postgres.log"
		check_traverse postgres "$PGRUN" "PostgreSQL server"
		check_traverse nobody "$RUN" "nginx workers"
	else
		install -d -m 0755 "$VAR/pg" "$PGRUN"
	fi
	printf 'PORT=%s\nPG_PORT=%s\n' "$PORT" "$PG_PORT" >"$STACK_RECORD"

	# Roll back whatever this start got going if a later step fails.
	trap 'rc=$?; if [ $rc -ne 0 ]; then say "start failed; stopping what was started"; do_stop >/dev/null 2>&1 || true; fi' EXIT
	trap 'exit 130' INT TERM HUP

	if [ ! -f "$PGDATA/PG_VERSION" ]; then
		say "initialising PostgreSQL cluster in $PGDATA"
		"${AS_PG[@]}" "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
			--no-sync --no-instructions >"$LOG/initdb.log" 2>&1 ||
			{ tail -n 20 "$LOG/initdb.log" >&2; die "initdb failed (log: $LOG/initdb.log)"; }
	fi
	pg_start
	ensure_database

	make_env_file
	export_app_env
	if [ "$IS_ROOT" = 1 ]; then
		id -u "$TOOLGATE_USER" >/dev/null 2>&1 || die "TOOLGATE_USER '$TOOLGATE_USER' does not exist"
		check_traverse "$TOOLGATE_USER" "$PGRUN" "toolgate workers"
		if [ -e "$TOOLGATE_SANDBOX_HELPER" ] &&
			! runuser -u "$TOOLGATE_USER" -- test -x "$TOOLGATE_SANDBOX_HELPER" 2>/dev/null; then
			say "warning: $TOOLGATE_USER cannot execute $TOOLGATE_SANDBOX_HELPER; tool runs will fail"
		fi
	fi
	mkdir -p "$TOOLGATE_PACKAGES_DIR"
	if [ "$IS_ROOT" = 1 ]; then chown "$TOOLGATE_USER" "$TOOLGATE_PACKAGES_DIR"; fi
	"$TOOLGATE" migrate >>"$LOG/toolgate.log" 2>&1 ||
		{ tail -n 10 "$LOG/toolgate.log" >&2; die "migrations failed (log: $LOG/toolgate.log)"; }
	NEW_ADMIN_PASSWORD=""
	ensure_admin

	start_toolgate
	start_nginx
	wait_healthy
	trap - EXIT INT TERM HUP

	cat >&2 <<EOF

toolgate is running: $BASE_URL   (health: $BASE_URL/health, MCP: $BASE_URL/mcp)
  admin credentials  $CREDS
  settings/secrets   $ENV_FILE
  logs               $LOG/toolgate.log  $LOG/access.log  $LOG/nginx.log  $LOG/postgres.log
  database           psql -h $PGRUN -p $PG_PORT -U postgres toolgate
  stop               $0 stop   (or: make stop)
EOF
	if [ -n "$NEW_ADMIN_PASSWORD" ]; then
		cat >&2 <<EOF

  First start: admin account created (shown once; also in $CREDS)
    username: $ADMIN_USER
    password: $NEW_ADMIN_PASSWORD
EOF
	fi
	echo >&2
}

do_stop() {
	[ -d "$VAR" ] || return 0
	load_ports
	stop_service nginx "$NGINX_PIDFILE" QUIT 10
	stop_service toolgate "$TG_PIDFILE" TERM 20
	rm -f "$SOCKET"
	pg_stop
}

do_run() {
	do_start
	local tg_pid stopping=0
	tg_pid=$(read_pid "$TG_PIDFILE")
	on_signal() {
		[ "$stopping" = 1 ] && return
		stopping=1
		echo >&2
		[ -n "${TAIL_PID:-}" ] && kill "$TAIL_PID" 2>/dev/null || true
		do_stop
		exit 0
	}
	trap on_signal INT TERM HUP
	say "following $LOG/toolgate.log (Ctrl-C stops everything)"
	tail -c "+$((TG_LOG_OFFSET + 1))" -F "$LOG/toolgate.log" &
	TAIL_PID=$!
	while pid_alive "$tg_pid" toolgate; do
		sleep 1 &
		wait $! || true
	done
	kill "$TAIL_PID" 2>/dev/null || true
	say "toolgate (pid $tg_pid) exited; stopping the rest"
	stopping=1
	do_stop
	exit 1
}

do_env() {
	load_ports
	local q
	(
		export_app_env
		export TG_BASE_URL="$BASE_URL" TG_VAR="$VAR" TG_STACK="$SELF"
		if [ -r "$CREDS" ]; then
			TG_ADMIN_USER=$(sed -n 's/^username=//p' "$CREDS")
			TG_ADMIN_PASSWORD=$(sed -n 's/^password=//p' "$CREDS")
			export TG_ADMIN_USER TG_ADMIN_PASSWORD
		fi
		for q in PGHOST PGPORT PGUSER PGDATABASE TG_BASE_URL TG_VAR TG_STACK \
			TG_ADMIN_USER TG_ADMIN_PASSWORD $(compgen -e | grep '^TOOLGATE_' | sort); do
			[ -n "${!q+x}" ] || continue
			printf 'export %s=%q\n' "$q" "${!q}"
		done
	)
}

do_status() {
	load_ports
	local pid
	pid=$(read_pid "$TG_PIDFILE")
	if pid_alive "$pid" toolgate; then echo "toolgate   running (pid $pid, socket $SOCKET)"; else echo "toolgate   stopped"; fi
	pid=$(read_pid "$NGINX_PIDFILE")
	if pid_alive "$pid" nginx; then echo "nginx      running (pid $pid, $BASE_URL)"; else echo "nginx      stopped"; fi
	if pg_running; then echo "postgresql running (pid $(read_pid "$PGDATA/postmaster.pid"), socket $PGRUN port $PG_PORT)"; else echo "postgresql stopped"; fi
}

case "${1:-}" in
start) do_start ;;
stop) do_stop ;;
run) do_run ;;
pg-stop) load_ports; pg_stop ;;
pg-start) load_ports; check_paths; pg_start ;;
env) do_env ;;
status) do_status ;;
*)
	echo "usage: $0 start|stop|run|pg-stop|pg-start|env|status" >&2
	echo "  settings: VAR=$VAR PORT PG_PORT PG_FSYNC NGINX_RATE NGINX_BURST TOOLGATE_*" >&2
	exit 2
	;;
esac
