/*
 * test_reliability.c - slow or hostile tool calls never take the service
 * down (issue #15; docs/architecture.md "Tool slots", docs/operations.md).
 *
 * Against the test stack:
 *   - with every tool slot busy and the queue full, /health, /ready, REST
 *     and tools/list still answer at once; extra calls get "busy" (a tool
 *     error over MCP, 503 + Retry-After over REST);
 *   - a call's log row exists while it runs ("running"); a SIGKILLed worker
 *     leaves it "lost", and the master frees the worker's slot;
 *   - a call whose row cannot be written is not run;
 *   - a client that stops reading an SSE stream does not hold the call past
 *     its end;
 *   - invalid UTF-8 after percent-decoding is a 400 problem document;
 *   - a table lock held in psql costs a 503 after lock_timeout, not a hang,
 *     and /health stays free of database work;
 *   - a serialization failure or deadlock (40001, 40P01) is a 503 to retry;
 *   - COMMIT of a transaction an earlier failure aborted is a 503, not a
 *     success of which nothing was kept;
 *   - the package-job process takes up work again after its connection
 *     is killed and after PostgreSQL restarts;
 *   - a worker whose connection was killed right after it was made serves
 *     the next request (no second-long 503).
 * Against a private master (own socket, spoken to in FastCGI directly):
 *   - SIGTERM serves the connections already queued on the socket;
 *   - the crash-loop back-off is kept to the millisecond (100, 200, 400 ms).
 * Timing checks use bounds several times what they measure.
 */
#include "tests/integration/it.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

static char admin[4096];
static long long nap_id, chatty_id, srv_id;
static char tmpdir[128];
static char srv[32], nap[64], chatty[64];	/* server and exposed tool names */

static void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Starts n tools/call of tool (arguments args) in the background with curl;
 * answers go to tmpdir/tag.N, tmpdir/tag.done appears when all are back. */
static void
calls_in_background(const char *sid, const char *tool, const char *args,
    int n, const char *tag)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.sh", tmpdir, tag);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "for i in $(seq 1 %d); do\n"
	    " curl -s -m 60 -o '%s/%s.'$i -X POST '%s/mcp'"
	    " -H 'Authorization: Bearer %s' -H 'Mcp-Session-Id: %s'"
	    " -H 'Content-Type: application/json'"
	    " -H 'Accept: application/json, text/event-stream'"
	    " -H 'MCP-Protocol-Version: 2025-11-25'"
	    " -d '{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"%s\",\"arguments\":%s}}' &\n"
	    "done\nwait\ntouch '%s/%s.done'\n", n, tmpdir, tag, it_base(), admin,
	    sid, tool, args, tmpdir, tag);
	fclose(f);
	assert_int_equal(it_sh("sh '%s' >/dev/null 2>&1 &", path), 0);
}

static void
wait_done(const char *tag, int timeout_s)
{
	char path[256];
	struct stat st;
	double end = it_now() + timeout_s;

	snprintf(path, sizeof(path), "%s/%s.done", tmpdir, tag);
	while (stat(path, &st) != 0) {
		assert_true(it_now() < end);
		sleep_ms(100);
	}
}

static int
file_has(const char *tag, int i, const char *needle)
{
	char path[256], buf[8192];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s.%d", tmpdir, tag, i);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strstr(buf, needle) != NULL;
}

static int
setup(void **state)
{
	char path[128];
	long long sid;

	(void)state;
	if (it_login_admin(admin, sizeof(admin)) != 0)
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/tg-relia-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	sid = it_server_own(admin, "relia", srv, sizeof(srv), path, sizeof(path));
	srv_id = sid;
	snprintf(nap, sizeof(nap), "%s__nap", srv);
	snprintf(chatty, sizeof(chatty), "%s__chatty", srv);
	nap_id = it_tool_approved(admin, path, "nap",
	    "import time\n\ndef main(s: float = 1) -> str:\n"
	    "    time.sleep(s)\n    return \"rested\"\n", NULL);
	chatty_id = it_tool_approved(admin, path, "chatty",
	    "import toolgate\n\ndef main(n: int = 8000) -> str:\n"
	    "    for i in range(n):\n"
	    "        toolgate.progress(i + 1, n, \"x\" * 900)\n"
	    "    return \"said\"\n", NULL);
	it_server_start(admin, sid);
	return 0;
}

static void master_reap(void);

static int
teardown(void **state)
{
	(void)state;
	master_reap();
	if (tmpdir[0])
		(void)it_sh("rm -rf '%s'", tmpdir);
	return 0;
}

/* GET path (admin token unless no_auth) and its wall time. */
static double
timed_get(const char *path, int auth, long *status)
{
	struct it_resp r;
	double t0 = it_now();

	assert_int_equal(it_get("GET", path, auth ? admin : NULL, &r), 0);
	*status = r.status;
	it_resp_free(&r);
	return it_now() - t0;
}

static void
t_control_plane_while_tools_busy(void **state)
{
	char sid[256], path[128];
	struct it_resp r;
	double slots, queue, busy0, t, t0;
	long st;
	int n, i, ok = 0, busy = 0;

	(void)state;
	slots = it_metric("toolgate_tool_slots");
	queue = it_metric("toolgate_tool_queue_capacity");
	busy0 = it_metric("toolgate_tool_busy_total{reason=\"queue_full\"}");
	assert_true(slots >= 1);
	assert_true(queue >= 0);
	n = (int)(slots + queue) + 3;
	it_mcp_init(admin, IT_MCP_VERSION, sid, sizeof(sid));
	calls_in_background(sid, nap, "{\"s\":10}", n, "cp");
	/* Until every slot runs a nap and the queue is full (the calls
	 * start in the background: no guess of how long that takes). */
	t0 = it_now();
	while (it_metric("toolgate_tool_slots_busy") < slots ||
	    it_metric("toolgate_tool_queue_waiting") < queue) {
		assert_true(it_now() - t0 < 60);
		sleep_ms(20);
	}

	/* REST test run: 503 + Retry-After, at once (first, while the
	 * queue is surely full). */
	snprintf(path, sizeof(path), "/api/v1/tools/%lld/test", nap_id);
	t0 = it_now();
	assert_int_equal(it_json("POST", path, admin, "{\"arguments\":{\"s\":0}}", &r), 0);
	assert_int_equal(r.status, 503);
	assert_non_null(it_header(&r, "Retry-After"));
	assert_true(atoi(it_header(&r, "Retry-After")) >= 1);
	assert_non_null(strstr(r.body, "urn:toolgate:problem:busy"));
	it_resp_free(&r);
	assert_true(it_now() - t0 < 2.0);

	/* Every slot runs a 10 s nap and the queue is full (its callers give
	 * up after 5 s): the control plane answers at once (milliseconds; 2 s
	 * is a generous bound). */
	t = timed_get("/health", 0, &st);
	assert_int_equal(st, 200);
	assert_true(t < 2.0);
	t = timed_get("/ready", 0, &st);
	assert_int_equal(st, 200);
	assert_true(t < 2.0);
	t = timed_get("/api/v1/servers", 1, &st);
	assert_int_equal(st, 200);
	assert_true(t < 2.0);
	t0 = it_now();
	it_mcp_post(admin, sid, IT_MCP_VERSION,
	    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\"}", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, nap));
	it_resp_free(&r);
	assert_true(it_now() - t0 < 2.0);
	wait_done("cp", 60);
	for (i = 1; i <= n; i++) {
		if (file_has("cp", i, "rested"))
			ok++;
		else if (file_has("cp", i, "busy") && file_has("cp", i, "\"isError\":true") &&
		    file_has("cp", i, "retry after"))
			busy++;
	}
	/* Every call got an answer: ran, or busy with a retry hint. */
	assert_int_equal(ok + busy, n);
	assert_true(ok >= (int)slots);
	assert_true(busy >= 1);
	assert_true(it_metric("toolgate_tool_busy_total{reason=\"queue_full\"}") > busy0);
	assert_true(it_metric("toolgate_tool_slots_busy") == 0);
}

/* psql -At helper: the first field of the first row, or "". */
static void
sql1(char *out, size_t cap, const char *q)
{
	(void)it_capture(out, cap, "psql -X -At -c \"%s\"", q);
}

static void
t_log_row_before_run_and_lost_on_kill(void **state)
{
	char sid[256], q[512], v[128], wpid[32], id[32];
	double end, reclaimed0;
	int running = 0;

	(void)state;
	reclaimed0 = it_metric("toolgate_tool_slots_reclaimed_total");
	it_mcp_init(admin, IT_MCP_VERSION, sid, sizeof(sid));
	calls_in_background(sid, nap, "{\"s\":8}", 1, "kill");
	/* The row is there while the tool runs. */
	end = it_now() + 10;
	snprintf(q, sizeof(q), "SELECT id || ' ' || worker_pid FROM execution_logs"
	    " WHERE tool_id = %lld AND status = 'running' ORDER BY id DESC LIMIT 1",
	    nap_id);
	while (it_now() < end) {
		sql1(v, sizeof(v), q);
		if (sscanf(v, "%31s %31s", id, wpid) == 2) {
			running = 1;
			break;
		}
		sleep_ms(100);
	}
	assert_true(running);
	sleep_ms(300);
	assert_int_equal(it_sh("kill -KILL %s", wpid), 0);
	/* The master reaps the worker, frees its slot and runs maintenance,
	 * which marks the row lost. */
	end = it_now() + 30;
	snprintf(q, sizeof(q), "SELECT status FROM execution_logs WHERE id = %s", id);
	for (;;) {
		sql1(v, sizeof(v), q);
		if (strcmp(v, "lost") == 0)
			break;
		assert_string_equal(v, "running");
		assert_true(it_now() < end);
		sleep_ms(250);
	}
	wait_done("kill", 30);
	assert_true(it_metric("toolgate_tool_slots_reclaimed_total") >= reclaimed0 + 1);
	assert_true(it_metric("toolgate_tool_slots_busy") == 0);
}

static void
t_unrecordable_call_is_not_run(void **state)
{
	char sid[256], body[256], path[96], out[64];
	struct it_resp r, tr;
	double t0, t, tt;

	(void)state;
	it_mcp_init(admin, IT_MCP_VERSION, sid, sizeof(sid));
	assert_int_equal(it_sh("psql -X -q -c 'REVOKE INSERT ON execution_logs FROM toolgate_app'"), 0);
	t0 = it_now();
	snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"%s\",\"arguments\":{\"s\":3}}}", nap);
	it_mcp_post(admin, sid, IT_MCP_VERSION, body, &r);
	t = it_now() - t0;
	/* A REST test run is a call too: not run either (503, not a result). */
	snprintf(path, sizeof(path), "/api/v1/tools/%lld/test", nap_id);
	t0 = it_now();
	assert_int_equal(it_json("POST", path, admin, "{\"arguments\":{\"s\":3}}", &tr), 0);
	tt = it_now() - t0;
	(void)it_sh("psql -X -q -c 'GRANT INSERT ON execution_logs TO toolgate_app'");
	assert_int_equal(tr.status, 503);
	assert_non_null(strstr(tr.body, "cannot be recorded"));
	assert_null(strstr(tr.body, "rested"));
	it_resp_free(&tr);
	assert_true(tt < 2.5);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "cannot be recorded"));
	assert_non_null(strstr(r.body, "\"isError\":true"));
	assert_null(strstr(r.body, "rested"));
	it_resp_free(&r);
	/* Not run: the nap takes 3 s. */
	assert_true(t < 2.5);
	/* And with the grant back, calls run and are recorded again. */
	snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"%s\",\"arguments\":{\"s\":0}}}", nap);
	it_mcp_post(admin, sid, IT_MCP_VERSION, body, &r);
	assert_non_null(strstr(r.body, "rested"));
	it_resp_free(&r);
	/* ... and a test run has its row, completed after the run (it was
	 * written after the run before: a killed worker left none). */
	assert_int_equal(it_json("POST", path, admin, "{\"arguments\":{\"s\":0}}", &tr), 0);
	assert_int_equal(tr.status, 200);
	it_resp_free(&tr);
	assert_int_equal(it_capture(out, sizeof(out), "psql -X -A -t -c \"SELECT status ||"
	    " ' ' || (worker_pid IS NOT NULL) || ' ' || (finished_at IS NOT NULL) FROM"
	    " execution_logs WHERE tool_id = %lld AND kind = 'test' ORDER BY id DESC"
	    " LIMIT 1\"", nap_id), 0);
	assert_string_equal(out, "ok true true");
}

/* A raw HTTP client that sends one request and never reads. */
static int
stalled_client(const char *sid)
{
	struct sockaddr_in sa;
	char req[8192], body[512];
	const char *base = it_base(), *p;
	int fd, rcv = 4096, port, n;

	p = strrchr(base, ':');
	assert_non_null(p);
	port = atoi(p + 1);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"%s\",\"arguments\":{\"n\":8000},"
	    "\"_meta\":{\"progressToken\":\"slow\"}}}", chatty);
	n = snprintf(req, sizeof(req), "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Authorization: Bearer %s\r\nMcp-Session-Id: %s\r\n"
	    "MCP-Protocol-Version: 2025-11-25\r\nContent-Type: application/json\r\n"
	    "Accept: application/json, text/event-stream\r\nContent-Length: %zu\r\n\r\n%s",
	    admin, sid, strlen(body), body);
	assert_true(n > 0 && (size_t)n < sizeof(req));
	assert_int_equal(write(fd, req, (size_t)n), n);
	return fd;
}

static void
t_sse_client_not_reading(void **state)
{
	char sid[256], q[512], v[64], before[32];
	double end;
	int fd;

	(void)state;
	it_mcp_init(admin, IT_MCP_VERSION, sid, sizeof(sid));
	snprintf(q, sizeof(q), "SELECT coalesce(max(id), 0) FROM execution_logs WHERE tool_id = %lld",
	    chatty_id);
	sql1(before, sizeof(before), q);
	fd = stalled_client(sid);
	/* The call ends (its row is completed) while the client still holds
	 * the connection and reads nothing; nginx would only give up on the
	 * client after send_timeout (60 s). */
	snprintf(q, sizeof(q), "SELECT status FROM execution_logs WHERE tool_id = %lld"
	    " AND id > %s ORDER BY id DESC LIMIT 1", chatty_id, before);
	end = it_now() + 30;
	for (;;) {
		sql1(v, sizeof(v), q);
		if (v[0] && strcmp(v, "running") != 0)
			break;
		assert_true(it_now() < end);
		sleep_ms(250);
	}
	assert_true(strcmp(v, "ok") == 0 || strcmp(v, "cancelled") == 0);
	close(fd);
	/* And the worker is back (the control plane answers). */
	assert_int_equal(it_wait_status("/health", 200, 5000), 0);
}

static void
t_invalid_utf8_is_400(void **state)
{
	struct it_resp r;
	json_t *j;

	(void)state;
	j = it_call("GET", "/api/v1/tools/%FF", admin, NULL, 400);
	it_match(j, "{\"type\":\"urn:toolgate:problem:bad_request\"}");
	json_decref(j);
	assert_int_equal(it_status("GET", "/api/v1/servers/%C3%28", admin, NULL), 400);
	/* the actor's bytes are refused, not mistaken for a time range */
	it_expect("GET", "/api/v1/audit?actor=%FF", admin, NULL, 400, &r);
	assert_non_null(r.json);
	assert_null(strstr(r.body, "since/until"));
	it_resp_free(&r);
	/* Valid UTF-8 still passes (a 404 for a name that is not an id). */
	assert_int_equal(it_status("GET", "/api/v1/audit?actor=%C3%A9", admin, NULL), 200);
}

static void
t_lock_timeout_and_db_free_health(void **state)
{
	double t, t0;
	long st;
	struct it_resp r;
	FILE *psql;

	(void)state;
	/* Someone holds servers in psql until we say so: the test waits on
	 * the lock itself, never on a guess of how long psql takes. */
	psql = it_lock_table("servers");
	/* /health reads no table: it answers while servers is locked (a
	 * wait on the lock would take lock_timeout, 5 s). */
	t = timed_get("/health", 0, &st);
	assert_int_equal(st, 200);
	assert_true(t < 4.0);
	/* A read of servers gives up at lock_timeout (5 s): a 503 with
	 * Retry-After, not the statement timeout (30 s) or a hang. */
	t0 = it_now();
	assert_int_equal(it_get("GET", "/api/v1/servers", admin, &r), 0);
	t = it_now() - t0;
	st = r.status;
	if (st == 503)
		assert_non_null(it_header(&r, "Retry-After"));
	it_resp_free(&r);
	/* The lock goes; reads work again. */
	it_unlock_table(psql);
	assert_int_equal(st, 503);
	assert_true(t < 25.0);
	assert_int_equal(it_wait_status("/health", 200, 5000), 0);
	t0 = it_now();
	for (;;) {
		assert_int_equal(it_get("GET", "/api/v1/servers", admin, &r), 0);
		st = r.status;
		it_resp_free(&r);
		if (st == 200)
			break;
		assert_true(it_now() - t0 < 20);
		sleep_ms(500);
	}
}

/* A serialization failure or a deadlock victim (SQLSTATE 40001, 40P01) is
 * a transient failure: 503 + Retry-After, never a 409 (callers read a
 * conflict as "exists already" and would name a wrong reason) or a 500. */
static void
t_serialization_failure_is_retryable(void **state)
{
	static const char *codes[] = {"40001", "40P01"};
	struct it_resp r;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/api/v1/_test/sqlstate?code=%s", codes[i]);
		assert_int_equal(it_get("GET", path, NULL, &r), 0);
		if (r.status != 503 || it_header(&r, "Retry-After") == NULL ||
		    r.body == NULL || strstr(r.body, "retry") == NULL)
			fail_msg("%s: %ld %s", codes[i], r.status, r.body ? r.body : "");
		it_resp_free(&r);
	}
	assert_int_equal(it_status("GET", "/api/v1/_test/sqlstate?code=23505", NULL, NULL), 400);
	assert_int_equal(it_status("GET", "/api/v1/servers", admin, NULL), 200);
}

/* A transaction that an earlier (swallowed) failure aborted: its COMMIT
 * is a failure (503 + Retry-After), never a success of which nothing was
 * kept; the worker's connection serves the next request. */
static void
t_aborted_commit_is_a_failure(void **state)
{
	struct it_resp r;

	(void)state;
	for (int i = 0; i < 4; i++) {	/* whichever worker answers */
		assert_int_equal(it_get("GET", "/api/v1/_test/aborted-commit", NULL, &r), 0);
		if (r.status != 503 || it_header(&r, "Retry-After") == NULL)
			fail_msg("aborted commit: %ld %s", r.status, r.body ? r.body : "");
		it_resp_free(&r);
		assert_int_equal(it_status("GET", "/api/v1/servers", admin, NULL), 200);
		/* the connection lost mid-transaction: the statement after
		 * it must not run on a new connection in autocommit, and the
		 * COMMIT is no success; the worker then reconnects */
		assert_int_equal(it_get("GET", "/api/v1/_test/aborted-commit?how=lost", NULL, &r), 0);
		if (r.status != 503 || it_header(&r, "Retry-After") == NULL)
			fail_msg("commit after a lost connection: %ld %s", r.status,
			    r.body ? r.body : "");
		it_resp_free(&r);
		assert_int_equal(it_status("GET", "/api/v1/servers", admin, NULL), 200);
	}
}

/* A package request for the test server, then until the package-job
 * process has claimed it (attempts >= 1; whether the index then answers
 * does not matter here): a generous minute per wait. */
static void
pkg_request_claimed(const char *name)
{
	char body[256], q[160], v[32];
	long long id;
	double t0;
	json_t *j;

	snprintf(body, sizeof(body), "{\"server_id\":%lld,\"name\":\"%s\"}", srv_id, name);
	j = it_call("POST", "/api/v1/package-requests", admin, body, 202);
	id = it_jint(j, "id");
	json_decref(j);
	snprintf(q, sizeof(q), "SELECT attempts FROM package_requests WHERE id = %lld", id);
	t0 = it_now();
	for (;;) {
		sql1(v, sizeof(v), q);
		if (atoi(v) >= 1)
			return;
		if (it_now() - t0 > 120)
			fail_msg("package request %s never claimed (attempts '%s')", name, v);
		sleep_ms(200);
	}
}

/*
 * The package-job process outlives database faults and takes up work
 * again: its connection killed, then PostgreSQL stopped and started; a
 * request made after each is still claimed (by the same process, or by
 * the one the master starts again).
 */
static void
t_package_jobs_survive_database_faults(void **state)
{
	char v[32], name[64];
	double t0;

	(void)state;
	/* its connection, once it has one */
	t0 = it_now();
	for (;;) {
		sql1(v, sizeof(v), "SELECT count(*) FROM pg_stat_activity"
		    " WHERE application_name = 'toolgate-packages'");
		if (atoi(v) >= 1)
			break;
		assert_true(it_now() - t0 < 60);
		sleep_ms(200);
	}
	sql1(v, sizeof(v), "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
	    " WHERE application_name = 'toolgate-packages'");
	assert_true(atoi(v) >= 1);
	snprintf(name, sizeof(name), "relia-dropped-%ld", (long)getpid());
	pkg_request_claimed(name);
	assert_int_equal(it_sh("bash %s pg-stop >/dev/null 2>&1", it_env("TG_STACK")), 0);
	assert_int_equal(it_sh("bash %s pg-start >/dev/null 2>&1", it_env("TG_STACK")), 0);
	assert_int_equal(it_wait_status("/ready", 200, 30000), 0);
	snprintf(name, sizeof(name), "relia-restart-%ld", (long)getpid());
	pkg_request_claimed(name);
}

/* ---- a private master, spoken to in FastCGI ------------------------ */

/* The private master of the test running (0: none). A failed assert
 * leaves the test at once: the group's teardown stops the master then
 * (its workers follow it, PR_SET_PDEATHSIG), so it does not outlive the
 * suite holding the test stack's lock. */
static pid_t live_master;

static void
master_reap(void)
{
	if (live_master > 0) {
		(void)kill(live_master, SIGKILL);
		(void)waitpid(live_master, NULL, 0);
	}
	live_master = 0;
}

static pid_t
master_start(const char *sock, const char *log, int workers)
{
	char w[16];
	pid_t pid;
	int fd;

	master_reap(); /* one a failed test left behind */
	snprintf(w, sizeof(w), "%d", workers);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("TOOLGATE_SOCKET", sock, 1);
		setenv("TOOLGATE_WORKERS", w, 1);
		setenv("TOOLGATE_TEST_ROUTES", "1", 1);
		setenv("TOOLGATE_MAINTENANCE_INTERVAL", "0", 1);
		/* no package-job process (lib/pkg_jobs.c): workers only */
		unsetenv("TOOLGATE_PIP_INDEX_URL");
		unsetenv("TOOLGATE_PIDFILE");
		unsetenv("GATEWAY_INTERFACE");
		unsetenv("TOOLGATE_TOOL_SLOTS");
		unsetenv("TOOLGATE_TOOL_QUEUE");
		/* observability: no telemetry process, so the master's only
		 * children are its workers (worker_of) */
		unsetenv("TOOLGATE_OTLP_ENDPOINT");
		setenv("TOOLGATE_DB_HEALTH_INTERVAL_S", "0", 1);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl("build/toolgate", "toolgate", "serve", (char *)NULL);
		_exit(127);
	}
	live_master = pid;
	return pid;
}

static int
fcgi_connect(const char *sock)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
wait_socket(const char *sock)
{
	double end = it_now() + 15;
	int fd;

	while ((fd = fcgi_connect(sock)) < 0) {
		assert_true(it_now() < end);
		sleep_ms(50);
	}
	close(fd);
}

/* A private master named name (socket and log in tmpdir) with workers
 * workers, once its socket answers; sock (cap bytes): its socket. */
static pid_t
private_master(const char *name, int workers, char *sock, size_t cap)
{
	char log[200];
	pid_t m;

	snprintf(sock, cap, "%s/%s.sock", tmpdir, name);
	snprintf(log, sizeof(log), "%s/%s.log", tmpdir, name);
	m = master_start(sock, log, workers);
	wait_socket(sock);
	return m;
}

/* Stops a private master (SIGTERM) and reaps it. */
static void
private_master_stop(pid_t m)
{
	(void)kill(m, SIGTERM);
	(void)waitpid(m, NULL, 0);
	live_master = 0;
}

static size_t
rec(unsigned char *out, int type, const void *content, size_t len)
{
	out[0] = 1;
	out[1] = (unsigned char)type;
	out[2] = 0;
	out[3] = 1;
	out[4] = (unsigned char)(len >> 8);
	out[5] = (unsigned char)(len & 0xff);
	out[6] = 0;
	out[7] = 0;
	if (len)
		memcpy(out + 8, content, len);
	return 8 + len;
}

/* A FastCGI name-value length: one byte below 128, else four. */
static size_t
nv_len(unsigned char *out, size_t n)
{
	if (n < 128) {
		out[0] = (unsigned char)n;
		return 1;
	}
	out[0] = (unsigned char)(0x80 | (n >> 24));
	out[1] = (unsigned char)(n >> 16);
	out[2] = (unsigned char)(n >> 8);
	out[3] = (unsigned char)n;
	return 4;
}

static size_t
nv(unsigned char *out, const char *k, const char *v)
{
	size_t kl = strlen(k), vl = strlen(v), o;

	o = nv_len(out, kl);
	o += nv_len(out + o, vl);
	memcpy(out + o, k, kl);
	memcpy(out + o + kl, v, vl);
	return o + kl + vl;
}

/* Sends GET path?query as one FastCGI request (id 1) from client
 * address remote, with Authorization: Bearer token (NULL: none). */
static void
fcgi_send_as(int fd, const char *path, const char *query, const char *remote,
    const char *token)
{
	unsigned char buf[4096], params[2048];
	static const unsigned char begin[8] = {0, 1, 0, 0, 0, 0, 0, 0};
	char uri[512];
	size_t n = 0, p = 0;

	snprintf(uri, sizeof(uri), "%s%s%s", path, query[0] ? "?" : "", query);
	p += nv(params + p, "REQUEST_METHOD", "GET");
	p += nv(params + p, "REQUEST_URI", uri);
	p += nv(params + p, "DOCUMENT_URI", path);
	p += nv(params + p, "SCRIPT_NAME", path);
	p += nv(params + p, "QUERY_STRING", query);
	p += nv(params + p, "SERVER_PROTOCOL", "HTTP/1.1");
	p += nv(params + p, "REMOTE_ADDR", remote);
	p += nv(params + p, "GATEWAY_INTERFACE", "CGI/1.1");
	if (token != NULL) {
		char auth[1200];

		snprintf(auth, sizeof(auth), "Bearer %s", token);
		p += nv(params + p, "HTTP_AUTHORIZATION", auth);
	}
	n += rec(buf + n, 1, begin, sizeof(begin));
	n += rec(buf + n, 4, params, p);
	n += rec(buf + n, 4, NULL, 0);
	n += rec(buf + n, 5, NULL, 0);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
}

static void
fcgi_send(int fd, const char *path, const char *query)
{
	fcgi_send_as(fd, path, query, "127.0.0.1", NULL);
}

/* Reads records until FCGI_END_REQUEST; returns the Status of the reply
 * (200 without a Status header), or -1 when the connection ended first. */
static int
fcgi_status(int fd, int timeout_ms)
{
	unsigned char hdr[8], content[65536 + 256];
	char out[4096];
	size_t have = 0, len = 0, pad = 0;
	struct pollfd pf = {fd, POLLIN, 0};
	double end = it_now() + timeout_ms / 1000.0;
	const char *s;

	out[0] = '\0';
	for (;;) {
		size_t got = 0, want;

		/* header, then content + padding */
		for (int part = 0; part < 2; part++) {
			want = part == 0 ? 8 : len + pad;
			got = 0;
			while (got < want) {
				ssize_t r;

				if (poll(&pf, 1, (int)((end - it_now()) * 1000)) <= 0)
					return -1;
				r = read(fd, part == 0 ? hdr + got : content + got, want - got);
				if (r <= 0)
					return -1;
				got += (size_t)r;
			}
			if (part == 0) {
				len = (size_t)hdr[4] << 8 | hdr[5];
				pad = hdr[6];
			}
		}
		if (hdr[1] == 6 && len > 0 && have < sizeof(out) - 1) {
			size_t k = len < sizeof(out) - 1 - have ? len : sizeof(out) - 1 - have;

			memcpy(out + have, content, k);
			have += k;
			out[have] = '\0';
		}
		if (hdr[1] == 3)
			break;
	}
	if ((s = strstr(out, "Status: ")) != NULL)
		return atoi(s + 8);
	return have > 0 ? 200 : -1;
}

static void
t_stop_serves_queued_connections(void **state)
{
	char sock[200];
	int fd[6], i, ws = 0;
	pid_t m;
	double end;

	(void)state;
	m = private_master("drain", 1, sock, sizeof(sock));
	/* One worker: the first request holds it 1.5 s, five more queue on
	 * the socket behind it. */
	fd[0] = fcgi_connect(sock);
	assert_true(fd[0] >= 0);
	fcgi_send(fd[0], "/api/v1/_test/sleep", "ms=1500");
	sleep_ms(300);
	for (i = 1; i < 6; i++) {
		fd[i] = fcgi_connect(sock);
		assert_true(fd[i] >= 0);
		fcgi_send(fd[i], "/health", "");
	}
	sleep_ms(100);
	assert_int_equal(kill(m, SIGTERM), 0);
	/* From the stop on, a new connection is refused at once (the master
	 * shuts the listening socket down), not queued to be reset later. */
	end = it_now() + 3;
	for (;;) {
		int late = fcgi_connect(sock);

		if (late < 0)
			break;
		close(late);
		assert_true(it_now() < end);
		sleep_ms(20);
	}
	/* Every connection that reached the socket before the stop is served. */
	for (i = 0; i < 6; i++) {
		assert_int_equal(fcgi_status(fd[i], 15000), 200);
		close(fd[i]);
	}
	end = it_now() + 20;
	while (waitpid(m, &ws, WNOHANG) == 0) {
		assert_true(it_now() < end);
		sleep_ms(50);
	}
	live_master = 0;
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
}

/* The pid of the master's one worker (0 while there is none). */
static pid_t
worker_of(pid_t m)
{
	char path[64], buf[1024], comm[64];
	const char *q;
	FILE *f;
	long p = 0;
	int n;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)m, (long)m);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	/* a worker, not the master's other children (the stream process is
	 * "toolgate-strm") */
	for (q = buf; sscanf(q, "%ld%n", &p, &n) == 1; q += n) {
		snprintf(path, sizeof(path), "/proc/%ld/comm", p);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) != NULL && strcmp(comm, "toolgate\n") == 0) {
			fclose(f);
			return (pid_t)p;
		}
		fclose(f);
	}
	return 0;
}

/* A private master with one worker, killed three times in a row as soon as
 * each replacement is up; d: how long each replacement took (s). */
static void
respawn_delays(int run, double d[3])
{
	char name[32], sock[200];
	pid_t m, w, w2;
	double t_kill, end;
	int i;

	snprintf(name, sizeof(name), "backoff%d", run);
	m = private_master(name, 1, sock, sizeof(sock));
	end = it_now() + 30;
	while ((w = worker_of(m)) == 0) {
		assert_true(it_now() < end);
		sleep_ms(5);
	}
	for (i = 0; i < 3; i++) {
		t_kill = it_now();
		assert_int_equal(kill(w, SIGKILL), 0);
		end = t_kill + 30;
		while ((w2 = worker_of(m)) == 0 || w2 == w) {
			assert_true(it_now() < end);
			sleep_ms(2);
		}
		d[i] = it_now() - t_kill;
		w = w2;
	}
	private_master_stop(m);
}

static void
t_respawn_backoff_is_precise(void **state)
{
	double d[3];
	int run, ok = 0;

	(void)state;
	/* Three deaths, each within 2 s of the worker's start: back-offs of
	 * 100, 200 and 400 ms, 0.7 s in all. A master that ticks once a
	 * second makes each about 1 s, 3 s in all; one that ignores the
	 * back-off makes them shorter than it. A loaded host only adds to a
	 * delay (or, stalling a worker's start past 2 s, resets its back-off):
	 * so up to three runs, and one must have each delay at least its
	 * back-off and all three well under the ticking master's 3 s (2.4 s:
	 * 1.7 s to spare). */
	for (run = 0; run < 3 && !ok; run++) {
		respawn_delays(run, d);
		print_message("respawn delays: %.0f %.0f %.0f ms\n", d[0] * 1000,
		    d[1] * 1000, d[2] * 1000);
		ok = d[0] >= 0.09 && d[1] >= 0.19 && d[2] >= 0.39 &&
		    d[0] + d[1] + d[2] < 2.4;
	}
	assert_true(ok);
}

/*
 * Anonymous MCP callers (TOOLGATE_MCP_AUTH=none, loopback) are counted per
 * client address like any principal (the viewer limit): with a limit of 3,
 * seven requests from one address meet a 429 in any split across two
 * windows. Another address has its own count. A private master with
 * anonymous access, spoken to in FastCGI (the client address is ours).
 */
static void
t_anonymous_mcp_rate_limited(void **state)
{
	char sock[200], saved[512], remote[32], other[32];
	int i, st, limited = 0, bad = 0, fd;
	pid_t m;

	(void)state;
	/* fresh addresses per run: counts of an earlier run do not matter */
	snprintf(remote, sizeof(remote), "127.9.%d.%d", (int)(getpid() / 250 % 250) + 1,
	    (int)(getpid() % 250) + 1);
	snprintf(other, sizeof(other), "127.10.%d.%d", (int)(getpid() / 250 % 250) + 1,
	    (int)(getpid() % 250) + 1);
	setenv("TOOLGATE_MCP_AUTH", "none", 1);
	m = private_master("anon", 2, sock, sizeof(sock));
	unsetenv("TOOLGATE_MCP_AUTH");
	it_rate_limit_set("viewer", 3, saved, sizeof(saved));
	for (i = 0; i < 7; i++) {
		fd = fcgi_connect(sock);
		assert_true(fd >= 0);
		fcgi_send_as(fd, "/mcp", "", remote, NULL);
		st = fcgi_status(fd, 15000);
		close(fd);
		print_message("anonymous request %d: %d\n", i + 1, st);
		if (st == 429)
			limited++;
		else if (st < 0 || st >= 500)
			bad = st;
	}
	/* another address is not limited by that count */
	fd = fcgi_connect(sock);
	assert_true(fd >= 0);
	fcgi_send_as(fd, "/mcp", "", other, NULL);
	st = fcgi_status(fd, 15000);
	close(fd);
	it_rate_limit_restore(saved);
	private_master_stop(m);
	if (bad != 0)
		fail_msg("an anonymous request was answered %d", bad);
	if (limited < 1)
		fail_msg("7 anonymous requests under a limit of 3: no 429");
	if (st <= 0 || st == 429 || st >= 500)
		fail_msg("another address: %d", st);
}

/* GET path as the admin on the private master's socket: the status. */
static int
fcgi_admin_get(const char *sock, const char *path)
{
	int fd = fcgi_connect(sock), st;

	assert_true(fd >= 0);
	fcgi_send_as(fd, path, "", "127.0.0.1", admin);
	st = fcgi_status(fd, 60000);
	close(fd);
	return st;
}

/*
 * A worker's database connection lost in the middle of a request (killed
 * while a statement waits on a lock), right after it was made: that
 * request is a 503, and the next one is served (the worker connects
 * again at once), never a 503 for the rest of a second: only a failed
 * connect attempt holds the next one off. A private master with one
 * worker, so every request meets the same connection.
 */
static void
t_lost_connection_replaced_at_once(void **state)
{
	char sock[200], v[32];
	double t0;
	FILE *lk;
	pid_t m;
	int fd;

	(void)state;
	m = private_master("lost", 1, sock, sizeof(sock));
	assert_int_equal(fcgi_admin_get(sock, "/api/v1/servers"), 200);
	/* its connection goes (the test stack's workers reconnect the same
	 * way at their next request), so the next request makes a new one */
	it_sql(v, sizeof(v), "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
			     " WHERE application_name = 'toolgate-worker'");
	t0 = it_now();
	do {
		assert_true(it_now() - t0 < 60);
		it_sql(v, sizeof(v), "SELECT count(*) FROM pg_stat_activity"
				     " WHERE application_name = 'toolgate-worker'");
	} while (strcmp(v, "0") != 0);
	/* that request reads users, which we hold; its new connection is
	 * killed while it waits */
	lk = it_lock_table("users");
	fd = fcgi_connect(sock);
	assert_true(fd >= 0);
	fcgi_send_as(fd, "/api/v1/users", "", "127.0.0.1", admin);
	it_sql(v, sizeof(v), "SELECT pg_terminate_backend(%ld)", it_lock_waiter("users"));
	assert_int_equal(fcgi_status(fd, 60000), 503);
	close(fd);
	it_unlock_table(lk);
	/* the next request: served at once */
	assert_int_equal(fcgi_admin_get(sock, "/api/v1/servers"), 200);
	private_master_stop(m);
}

TG_TEST_MAIN("reliability", setup, teardown, t_invalid_utf8_is_400,
    t_control_plane_while_tools_busy, t_log_row_before_run_and_lost_on_kill,
    t_unrecordable_call_is_not_run, t_sse_client_not_reading,
    t_lock_timeout_and_db_free_health, t_aborted_commit_is_a_failure,
    t_serialization_failure_is_retryable,
    t_package_jobs_survive_database_faults, t_anonymous_mcp_rate_limited,
    t_lost_connection_replaced_at_once,
    t_stop_serves_queued_connections,
    t_respawn_backoff_is_precise)
