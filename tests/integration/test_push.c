/*
 * test_push.c - streams held by the stream process (fcgi/stream.c,
 * docs/mcp.md "Streams"): a 2025 session's GET /mcp and the 2026-07-28
 * subscriptions/listen, handed over by a worker (X-Accel-Redirect and a
 * signed ticket), through nginx.
 *
 * Also: MCP-Protocol-Version on GET, CORS on streams, the stream metrics
 * on /metrics, and a PostgreSQL restart under open streams.
 *
 * Each stream is a curl process in the background (-N, headers and body
 * into files under TG_VAR), so a test can watch several at once and see
 * when one ends. The test stack runs with TOOLGATE_STREAMS_PER_PRINCIPAL=4,
 * TOOLGATE_STREAMS_MAX=12 and TOOLGATE_STREAM_COALESCE_MS=200 (tests/run.sh).
 * Every wait has a generous bound (15 s); nothing asserts a latency.
 */
#include "tests/integration/it.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 15000
#define CHANGED "notifications/tools/list_changed"

struct strm {
	char hdr[320], out[320], pidf[320];
};

static int nstreams;
static const char *base; /* NULL: the test stack's nginx */

static void
nap_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Opens a stream: curl in the background. extra: more curl arguments
 * (headers as -H '...'), method GET or POST with body (JSON, no single
 * quotes). */
static void
strm_open(struct strm *s, const char *token, const char *method,
    const char *extra, const char *body)
{
	const char *var = it_env("TG_VAR");
	int n = ++nstreams;

	snprintf(s->hdr, sizeof(s->hdr), "%s/push-%d-%d.hdr", var, (int)getpid(), n);
	snprintf(s->out, sizeof(s->out), "%s/push-%d-%d.out", var, (int)getpid(), n);
	snprintf(s->pidf, sizeof(s->pidf), "%s/push-%d-%d.pid", var, (int)getpid(), n);
	unlink(s->hdr);
	unlink(s->out);
	assert_int_equal(it_sh("curl -sN --max-time 120 -D '%s' -o '%s' -X %s "
			       "%s%s%s %s %s%s%s '%s/mcp' >/dev/null 2>&1 & echo $! > '%s'",
			     s->hdr, s->out, method, token ? "-H 'Authorization: Bearer " : "",
			     token ? token : "", token ? "'" : "", extra ? extra : "",
			     body ? "-H 'Content-Type: application/json' --data-binary '" : "",
			     body ? body : "", body ? "'" : "", base ? base : it_base(), s->pidf),
	    0);
}

/* The whole of a file ("" when missing), into a static buffer. */
static const char *
slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	buf[0] = '\0';
	if (f != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static int
count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* Waits until path holds needle at least n times; fails after WAIT_MS. */
static void
wait_for(const char *path, const char *needle, int n)
{
	double end = it_now() + WAIT_MS / 1000.0;

	while (count_of(slurp(path), needle) < n) {
		if (it_now() > end)
			fail_msg("%s: no %d x '%s' within %d ms; it holds: %s", path, n,
			    needle, WAIT_MS, slurp(path));
		nap_ms(20);
	}
}

static pid_t
strm_pid(const struct strm *s)
{
	double end = it_now() + 5;
	long p = 0;

	while ((p = atol(slurp(s->pidf))) <= 0 && it_now() < end)
		nap_ms(10);
	assert_true(p > 0);
	return (pid_t)p;
}

/* 1 while the stream's curl runs. */
static int
strm_alive(const struct strm *s)
{
	return kill(strm_pid(s), 0) == 0;
}

/* Waits until the stream has ended (the server closed it). */
static void
wait_closed(const struct strm *s)
{
	double end = it_now() + WAIT_MS / 1000.0;

	while (strm_alive(s)) {
		if (it_now() > end)
			fail_msg("stream %s still open after %d ms", s->out, WAIT_MS);
		nap_ms(20);
	}
}

static void
strm_close(const struct strm *s)
{
	pid_t p = strm_pid(s);

	if (kill(p, 0) == 0)
		(void)kill(p, SIGTERM);
}

/* The HTTP status of a stream's response (waits for the headers). */
static int
strm_status(const struct strm *s)
{
	const char *h;

	wait_for(s->hdr, "\r\n\r\n", 1);
	h = slurp(s->hdr);
	return strncmp(h, "HTTP/1.1 ", 9) == 0 ? atoi(h + 9) : -1;
}

/* A developer API key of a new user (into key). */
static void
dev_key(const char *name, char *key, size_t cap, long long *kid)
{
	char tok[4096];
	struct it_resp r;

	char uname[64];

	snprintf(uname, sizeof(uname), "%s_%d", name, (int)getpid() % 100000);
	it_user_token(it_admin(), uname, "push-test-password-1", "developer", tok,
	    sizeof(tok));
	assert_int_equal(it_json("POST", "/api/v1/api-keys", tok,
			     "{\"name\":\"push\"}", &r),
	    0);
	assert_int_equal(r.status, 201);
	snprintf(key, cap, "%s", json_string_value(json_object_get(r.json, "key")));
	if (kid != NULL)
		*kid = json_integer_value(json_object_get(r.json, "id"));
	it_resp_free(&r);
}

/* A session's GET stream, open (headers and the retry field in). */
static void
get_stream(struct strm *s, const char *key, const char *sid, const char *more)
{
	char extra[1024];

	snprintf(extra, sizeof(extra), "-H 'Accept: text/event-stream' "
				       "-H 'Mcp-Session-Id: %s' -H 'MCP-Protocol-Version: " IT_MCP_VERSION "' %s",
	    sid, more ? more : "");
	strm_open(s, key, "GET", extra, NULL);
}

/* A 2026-07-28 subscriptions/listen stream for toolsListChanged; id: the
 * request id as JSON (a string with its quotes, or a number). */
static void
listen_stream(struct strm *s, const char *key, const char *id)
{
	char body[512];

	snprintf(body, sizeof(body),
	    "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"subscriptions/listen\","
	    "\"params\":{\"notifications\":{\"toolsListChanged\":true},\"_meta\":{"
	    "\"io.modelcontextprotocol/protocolVersion\":\"" IT_MCP26_VERSION "\","
	    "\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
	    id);
	strm_open(s, key, "POST", "-H 'Accept: application/json, text/event-stream' "
				  "-H 'MCP-Protocol-Version: " IT_MCP26_VERSION "' "
				  "-H 'Mcp-Method: subscriptions/listen'",
	    body);
}

/* A stopped server with one approved tool: served once it starts. */
static char uniq[64]; /* the name of the last server made */

static long long
stopped_server_with_tool(const char *name)
{
	long long id;
	char sid[32];

	snprintf(uniq, sizeof(uniq), "%s_%d", name, (int)getpid() % 100000);
	id = it_server_create(it_admin(), uniq, NULL);

	snprintf(sid, sizeof(sid), "%lld", id);
	it_tool_approved(it_admin(), sid, "t", "def main():\n    return 1\n", "push");
	return id;
}

/* Refusals happen in the worker, exactly as for POST; the internal
 * location and the stream socket take no request without a valid ticket. */
static void
t_refusals(void **state)
{
	char key[256], sid[128], cmd[1024], out[2048];
	const char *h[5];
	struct it_resp r;

	(void)state;
	dev_key("push_ref", key, sizeof(key), NULL);
	it_mcp_init(key, IT_MCP_VERSION, sid, sizeof(sid));
	h[0] = "Accept: text/event-stream";
	h[1] = NULL;
	assert_int_equal(it_hstatus("GET", "/mcp", h), 401);
	h[0] = it_bearer(key);
	h[1] = "Accept: text/event-stream";
	h[2] = NULL;
	assert_int_equal(it_hstatus("GET", "/mcp", h), 400); /* no session */
	h[2] = "Mcp-Session-Id: 0000000000000000000000000000000000000000000000000000000000000000";
	h[3] = NULL;
	assert_int_equal(it_hstatus("GET", "/mcp", h), 404);
	h[1] = "Accept: application/json";
	h[2] = NULL;
	assert_int_equal(it_request("GET", "/mcp", h, NULL, 0, &r), 0);
	assert_int_equal(r.status, 406);
	it_resp_free(&r);
	/* another caller's session: 404, as for POST */
	{
		char other[256];

		dev_key("push_ref2", other, sizeof(other), NULL);
		snprintf(cmd, sizeof(cmd), "Mcp-Session-Id: %s", sid);
		h[0] = it_bearer(other);
		h[1] = "Accept: text/event-stream";
		h[2] = cmd;
		h[3] = NULL;
		assert_int_equal(it_hstatus("GET", "/mcp", h), 404);
	}
	/* the stream location is internal */
	assert_int_equal(it_hstatus("GET", "/_toolgate/stream?t=x.y", NULL), 404);
	/* a forged ticket straight at the stream socket */
	snprintf(cmd, sizeof(cmd), "curl -s -o /dev/null -w '%%{http_code}' --unix-socket "
				   "'%s.stream' 'http://x/_toolgate/stream?t=eyJlIjoxfQ.%064d'",
	    it_env("TOOLGATE_SOCKET"), 0);
	assert_int_equal(it_capture(out, sizeof(out), "%s", cmd), 0);
	assert_string_equal(out, "403");
}

/* The capability, and list_changed after a visible change only. */
static void
t_list_changed(void **state)
{
	char key[256], sid[128];
	struct strm s;
	json_t *j;
	long long srv;

	(void)state;
	dev_key("push_lc", key, sizeof(key), NULL);
	it_mcp_init(key, IT_MCP_VERSION, sid, sizeof(sid));
	srv = stopped_server_with_tool("push_lc_srv");
	get_stream(&s, key, sid, NULL);
	assert_int_equal(strm_status(&s), 200);
	assert_non_null(strstr(slurp(s.hdr), "text/event-stream"));
	wait_for(s.out, "retry:", 1);
	/* invisible: a draft tool, a description of a stopped server */
	it_tool_create(it_admin(), uniq, "draft1", "def main():\n    return 2\n", NULL);
	it_callvf("PATCH", it_admin(), "{\"description\":\"x\"}", 200, "/api/v1/servers/%lld", srv);
	nap_ms(1000);
	assert_int_equal(count_of(slurp(s.out), CHANGED), 0);
	/* visible: the server starts, its approved tool is served */
	it_server_start(it_admin(), srv);
	wait_for(s.out, CHANGED, 1);
	assert_non_null(strstr(slurp(s.out), "\nid: "));
	/* and the list really changed */
	{
		char exposed[96];

		snprintf(exposed, sizeof(exposed), "%s__t", uniq);
		j = it_mcp_tool(key, sid, IT_MCP_VERSION, exposed);
	}
	assert_non_null(j);
	json_decref(j);
	nap_ms(1000);
	assert_int_equal(count_of(slurp(s.out), CHANGED), 1);
	assert_true(strm_alive(&s));
	strm_close(&s);
}

/* Sends sig to every backend of the stream process's database session
 * (application_name toolgate-stream, lib/stream_db.c); how many. */
static int
signal_stream_backends(int sig)
{
	char pids[256];
	const char *p;
	long pid;
	int n = 0, k;

	if (it_capture(pids, sizeof(pids),
		"psql -qAt -c \"SELECT string_agg(pid::text, ' ') FROM pg_stat_activity"
		" WHERE application_name = 'toolgate-stream'\"") != 0)
		return 0;
	for (p = pids; sscanf(p, "%ld%n", &pid, &k) == 1; p += k)
		if (pid > 1 && kill((pid_t)pid, sig) == 0)
			n++;
	return n;
}

/* Three changes in a burst (psql, separate transactions, as another host
 * would make them): one notification. The burst falls in one coalescing
 * window for certain, however loaded the host: the stream process's
 * database session is stopped while the three commit, so it hands over
 * the three NOTIFYs together when it continues (before, a commit that
 * came 200 ms after the first could make a second event). */
static void
t_burst_coalesced(void **state)
{
	char key[256], sid[128];
	long long a, b, c;
	struct strm s;
	int stopped, rc;

	(void)state;
	dev_key("push_burst", key, sizeof(key), NULL);
	it_mcp_init(key, IT_MCP_VERSION, sid, sizeof(sid));
	a = stopped_server_with_tool("push_b1");
	b = stopped_server_with_tool("push_b2");
	c = stopped_server_with_tool("push_b3");
	get_stream(&s, key, sid, NULL);
	wait_for(s.out, "retry:", 1);
	stopped = signal_stream_backends(SIGSTOP);
	/* bounded: a session stopped while it held the notify queue's lock
	 * would block the commits until it is continued */
	rc = it_sh("timeout 30 psql -qAt -v ON_ERROR_STOP=1"
		   " -c \"UPDATE servers SET status = 'running' WHERE id = %lld\""
		   " -c \"UPDATE servers SET status = 'running' WHERE id = %lld\""
		   " -c \"UPDATE servers SET status = 'running' WHERE id = %lld\" >/dev/null",
	    a, b, c);
	/* continued before any assertion can end the test */
	assert_int_equal(signal_stream_backends(SIGCONT), stopped);
	assert_true(stopped >= 1);
	assert_int_equal(rc, 0);
	wait_for(s.out, CHANGED, 1);
	nap_ms(1500); /* a second event would come within the window */
	assert_int_equal(count_of(slurp(s.out), CHANGED), 1);
	strm_close(&s);
}

/* Last-Event-ID: a client that missed a change while reconnecting hears
 * of it at once. */
static void
t_resume(void **state)
{
	char key[256], sid[128], lei[200], more[300];
	const char *p, *e;
	struct strm s, s2;
	long long a, b;

	(void)state;
	dev_key("push_resume", key, sizeof(key), NULL);
	it_mcp_init(key, IT_MCP_VERSION, sid, sizeof(sid));
	a = stopped_server_with_tool("push_r1");
	b = stopped_server_with_tool("push_r2");
	get_stream(&s, key, sid, NULL);
	wait_for(s.out, "retry:", 1);
	it_server_start(it_admin(), a);
	wait_for(s.out, CHANGED, 1);
	p = strstr(slurp(s.out), "\nid: ");
	assert_non_null(p);
	p += 5;
	e = strchr(p, '\n');
	assert_non_null(e);
	snprintf(lei, sizeof(lei), "%.*s", (int)(e - p), p);
	strm_close(&s);
	wait_closed(&s);
	it_server_start(it_admin(), b); /* missed */
	snprintf(more, sizeof(more), "-H 'Last-Event-ID: %s'", lei);
	get_stream(&s2, key, sid, more);
	wait_for(s2.out, CHANGED, 1);
	strm_close(&s2);
}

/* A revoked API key and an ended session close their streams. */
static void
t_revocation(void **state)
{
	char key[256], sid[128], path[96], sidh[200];
	const char *h[4];
	struct strm s1, s2;
	long long kid;

	(void)state;
	dev_key("push_rev", key, sizeof(key), &kid);
	it_mcp_init(key, IT_MCP_VERSION, sid, sizeof(sid));
	get_stream(&s1, key, sid, NULL);
	wait_for(s1.out, "retry:", 1);
	snprintf(path, sizeof(path), "/api/v1/api-keys/%lld", kid);
	assert_int_equal(it_status("DELETE", path, it_admin(), NULL), 204);
	wait_closed(&s1);

	dev_key("push_rev2", key, sizeof(key), NULL);
	it_mcp_init(key, IT_MCP_VERSION, sid, sizeof(sid));
	get_stream(&s2, key, sid, NULL);
	wait_for(s2.out, "retry:", 1);
	snprintf(sidh, sizeof(sidh), "Mcp-Session-Id: %s", sid);
	h[0] = it_bearer(key);
	h[1] = sidh;
	h[2] = NULL;
	assert_int_equal(it_hstatus("DELETE", "/mcp", h), 204);
	wait_closed(&s2);
}

/* Per principal (4 here) and in total (12 here): clear refusals. */
static void
t_limits(void **state)
{
	char key[256], sid[128], name[32];
	struct strm s[20];
	int i, n = 0, k, got503 = 0;

	(void)state;
	dev_key("push_lim0", key, sizeof(key), NULL);
	it_mcp_init(key, IT_MCP_VERSION, sid, sizeof(sid));
	for (i = 0; i < 4; i++) {
		get_stream(&s[n], key, sid, NULL);
		assert_int_equal(strm_status(&s[n]), 200);
		n++;
	}
	get_stream(&s[n], key, sid, NULL);
	assert_int_equal(strm_status(&s[n]), 429);
	assert_non_null(strstr(slurp(s[n].hdr), "Retry-After: "));
	wait_closed(&s[n]);
	assert_non_null(strstr(slurp(s[n].out), "TOOLGATE_STREAMS_PER_PRINCIPAL"));
	/* other callers until the host is full: a 503 naming the limit */
	for (k = 1; k <= 3 && !got503; k++) {
		snprintf(name, sizeof(name), "push_lim%d", k);
		dev_key(name, key, sizeof(key), NULL);
		it_mcp_init(key, IT_MCP_VERSION, sid, sizeof(sid));
		for (i = 0; i < 4 && !got503; i++) {
			int st;

			get_stream(&s[++n], key, sid, NULL);
			st = strm_status(&s[n]);
			if (st == 503) {
				got503 = 1;
				wait_closed(&s[n]);
				assert_non_null(strstr(slurp(s[n].out), "TOOLGATE_STREAMS_MAX"));
				assert_non_null(strstr(slurp(s[n].hdr), "Retry-After: "));
			} else
				assert_int_equal(st, 200);
		}
	}
	assert_true(got503);
	for (i = 0; i <= n; i++)
		strm_close(&s[i]);
}

/* The stream process's SIGTERM (the master sends it on stop): a listen
 * stream gets its subscriptions/listen result, then it closes; the master
 * starts a new stream process. */
static void
t_shutdown(void **state)
{
	char key[256], master[32], child[32];
	struct strm s, s2;

	(void)state;
	dev_key("push_stop", key, sizeof(key), NULL);
	listen_stream(&s, key, "\"L-77\"");
	assert_int_equal(strm_status(&s), 200);
	wait_for(s.out, "notifications/subscriptions/acknowledged", 1);
	assert_non_null(strstr(slurp(s.out), "\"toolsListChanged\":true"));
	assert_non_null(strstr(slurp(s.out), "\"io.modelcontextprotocol/subscriptionId\":\"L-77\""));
	assert_int_equal(it_capture(master, sizeof(master), "head -n 1 '%s'",
			     it_env("TOOLGATE_PIDFILE")),
	    0);
	assert_int_equal(it_capture(child, sizeof(child), "pgrep -P %s -x toolgate-strm",
			     master),
	    0);
	assert_true(atoi(child) > 1);
	assert_int_equal(kill((pid_t)atoi(child), SIGTERM), 0);
	wait_closed(&s);
	assert_non_null(strstr(slurp(s.out), "\"id\":\"L-77\",\"result\":{"));
	/* respawned: a new stream works */
	{
		double end = it_now() + WAIT_MS / 1000.0;

		for (;;) {
			listen_stream(&s2, key, "\"L-77\"");
			if (strm_status(&s2) == 200)
				break;
			wait_closed(&s2);
			assert_true(it_now() < end);
			nap_ms(200);
		}
		wait_for(s2.out, "notifications/subscriptions/acknowledged", 1);
		strm_close(&s2);
	}
}

/* RAW_CONNECT path n: opens n connections to a unix socket at once,
 * sends nothing, and prints what each received within 3 s (one line
 * each, the 503s' problem details). */
#define RAW_CONNECT \
	"python3 -c 'import socket,sys,time\n" \
	"ss=[]\n" \
	"for i in range(int(sys.argv[2])):\n" \
	"  x=socket.socket(socket.AF_UNIX); x.connect(sys.argv[1]); ss.append(x)\n" \
	"end=time.time()+3\n" \
	"for x in ss:\n" \
	"  x.settimeout(max(0.01,end-time.time()))\n" \
	"  try: print(x.recv(4096).decode(errors=\"replace\").replace(\"\\n\",\" \"))\n" \
	"  except Exception: print(\"-\")\n" \
	"' "

/* A new developer's API key (key, 256) and a 2025 session of it (sid, 128). */
static void
caller(const char *name, char *key, char *sid)
{
	dev_key(name, key, 256, NULL);
	it_mcp_init(key, IT_MCP_VERSION, sid, 128);
}

/* Opens n GET streams of the session (more: extra curl arguments), each
 * answered 200, then one more, refused with status (it has ended then). */
static void
fill(struct strm *s, int n, const char *key, const char *sid, const char *more,
    int status)
{
	int i;

	for (i = 0; i <= n; i++) {
		get_stream(&s[i], key, sid, more);
		assert_int_equal(strm_status(&s[i]), i < n ? 200 : status);
	}
	wait_closed(&s[n]);
}

/*
 * MCP-Protocol-Version on GET: another version we speak than the
 * session's opens the stream (the session's governs); an unsupported one
 * is 400 -32022. The Last-Event-ID of a POST stream (SEP-1699 ids,
 * "<16 hex>-<n>") opens the session's GET stream and replays nothing from
 * that other stream.
 */
static void
t_versions(void **state)
{
	char key[256], sid[128], sh[200];
	const char *h[5];
	struct it_resp r;
	struct strm s, s2;

	(void)state;
	caller("push_ver", key, sid);
	snprintf(sh, sizeof(sh), "Mcp-Session-Id: %s", sid);
	h[0] = it_bearer(key);
	h[1] = "Accept: text/event-stream";
	h[2] = sh;
	h[3] = "MCP-Protocol-Version: 2031-01-01";
	h[4] = NULL;
	assert_int_equal(it_request("GET", "/mcp", h, NULL, 0, &r), 0);
	assert_int_equal(r.status, 400);
	assert_int_equal(it_rpc_code(&r), -32022);
	it_resp_free(&r);
	{
		char extra[512];

		snprintf(extra, sizeof(extra), "-H 'Accept: text/event-stream' "
					       "-H 'Mcp-Session-Id: %s' -H 'MCP-Protocol-Version: 2025-03-26'",
		    sid);
		strm_open(&s2, key, "GET", extra, NULL);
	}
	assert_int_equal(strm_status(&s2), 200);
	wait_for(s2.out, "retry:", 1);
	strm_close(&s2);
	get_stream(&s, key, sid, "-H 'Last-Event-ID: 0123456789abcdef-3'");
	assert_int_equal(strm_status(&s), 200);
	wait_for(s.out, "retry:", 1);
	nap_ms(1000);
	assert_int_equal(count_of(slurp(s.out), CHANGED), 0);
	assert_true(strm_alive(&s));
	strm_close(&s);
}

/* The CORS lines of a response head: exactly one Access-Control-Allow-
 * Origin naming origin (or none when origin is NULL), and Vary: Origin. */
static void
assert_cors(const char *hdr, const char *origin)
{
	char want[256];

	snprintf(want, sizeof(want), "Access-Control-Allow-Origin: %s\r\n", origin ? origin : "");
	if (origin == NULL) {
		assert_null(strcasestr(hdr, "Access-Control-Allow-Origin"));
		return;
	}
	assert_non_null(strstr(hdr, want));
	assert_int_equal(count_of(hdr, "Access-Control-Allow-Origin"), 1);
	assert_non_null(strstr(hdr, "Access-Control-Expose-Headers: Mcp-Session-Id"));
	assert_non_null(strstr(hdr, "Vary: Origin"));
}

/*
 * TOOLGATE_ALLOWED_ORIGINS on streams, as on POST /mcp: another Origin is
 * refused (403) before the hand-over; an allowed one gets the CORS headers
 * on the GET stream, the listen stream and the stream process's own
 * refusals (429).
 */
static void
t_cors(void **state)
{
	char key[256], sid[128], more[512], origin[128];
	struct strm s[6];
	int i;

	(void)state;
	snprintf(origin, sizeof(origin), "%s", it_base());
	caller("push_cors", key, sid);
	get_stream(&s[0], key, sid, "-H 'Origin: http://evil.example'");
	assert_int_equal(strm_status(&s[0]), 403);
	wait_closed(&s[0]);
	assert_cors(slurp(s[0].hdr), NULL);
	snprintf(more, sizeof(more), "-H 'Origin: %s'", origin);
	/* without an Origin: none */
	get_stream(&s[0], key, sid, NULL);
	assert_int_equal(strm_status(&s[0]), 200);
	assert_cors(slurp(s[0].hdr), NULL);
	/* three more with it, then the fifth of this caller: the stream
	 * process's 429, with CORS */
	fill(&s[1], 3, key, sid, more, 429);
	assert_cors(slurp(s[1].hdr), origin);
	assert_cors(slurp(s[4].hdr), origin);
	for (i = 0; i < 4; i++)
		strm_close(&s[i]);
	for (i = 0; i < 4; i++)
		wait_closed(&s[i]);
	/* a 2026-07-28 listen stream */
	{
		char body[512], extra[1024];

		snprintf(body, sizeof(body),
		    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"subscriptions/listen\","
		    "\"params\":{\"notifications\":{\"toolsListChanged\":true},\"_meta\":{"
		    "\"io.modelcontextprotocol/protocolVersion\":\"" IT_MCP26_VERSION "\","
		    "\"io.modelcontextprotocol/clientCapabilities\":{}}}}");
		snprintf(extra, sizeof(extra), "-H 'Accept: application/json, text/event-stream' "
					       "-H 'MCP-Protocol-Version: " IT_MCP26_VERSION "' "
					       "-H 'Mcp-Method: subscriptions/listen' %s",
		    more);
		strm_open(&s[5], key, "POST", extra, body);
		assert_int_equal(strm_status(&s[5]), 200);
		wait_for(s[5].out, "notifications/subscriptions/acknowledged", 1);
		assert_cors(slurp(s[5].hdr), origin);
		strm_close(&s[5]);
		strm_open(&s[5], key, "POST", "-H 'Accept: application/json, text/event-stream' "
					      "-H 'MCP-Protocol-Version: " IT_MCP26_VERSION "' "
					      "-H 'Mcp-Method: subscriptions/listen' "
					      "-H 'Origin: http://evil.example'",
		    body);
		assert_int_equal(strm_status(&s[5]), 403);
		wait_closed(&s[5]);
	}
}

/* /metrics: open streams, opened/closed by reason, notifications and the
 * fan-out histogram. */
static void
t_metrics(void **state)
{
	char key[256], sid[128];
	double open0, opened0, gone0, notif0, fan0, lim0;
	struct strm s[5];
	long long srv;
	int i;

	(void)state;
	caller("push_met", key, sid);
	srv = stopped_server_with_tool("push_met_srv");
	open0 = it_metric("toolgate_streams_open");
	opened0 = it_metric("toolgate_streams_opened_total");
	gone0 = it_metric("toolgate_streams_closed_total{reason=\"client_gone\"}");
	notif0 = it_metric("toolgate_stream_notifications_total");
	fan0 = it_metric("toolgate_stream_fanout_seconds_count");
	lim0 = it_metric("toolgate_streams_refused_total{reason=\"per_principal\"}");
	assert_true(open0 >= 0 && opened0 >= 0 && gone0 >= 0 && notif0 >= 0 && fan0 >= 0 &&
	    lim0 >= 0);
	assert_true(it_metric("toolgate_stream_db_up") == 1);
	fill(s, 4, key, sid, NULL, 429);
	assert_true(it_metric("toolgate_streams_open") >= open0 + 4);
	assert_true(it_metric("toolgate_streams_opened_total") >= opened0 + 4);
	assert_true(it_metric("toolgate_streams_refused_total{reason=\"per_principal\"}") >= lim0 + 1);
	it_server_start(it_admin(), srv);
	for (i = 0; i < 4; i++)
		wait_for(s[i].out, CHANGED, 1);
	assert_true(it_metric("toolgate_stream_notifications_total") >= notif0 + 4);
	assert_true(it_metric("toolgate_stream_fanout_seconds_count") >= fan0 + 1);
	for (i = 0; i < 4; i++)
		strm_close(&s[i]);
	for (i = 0; i < 4; i++)
		wait_closed(&s[i]);
	{
		double end = it_now() + WAIT_MS / 1000.0;

		while (it_metric("toolgate_streams_closed_total{reason=\"client_gone\"}") < gone0 + 4) {
			assert_true(it_now() < end);
			nap_ms(50);
		}
	}
}

/*
 * PostgreSQL restarted while streams are open: they stay open, the
 * stream process reconnects (LISTEN again) and a change made while it
 * could not listen still reaches them (the digests are recomputed on
 * reconnect).
 */
static void
t_db_restart(void **state)
{
	char key[256], sid[128];
	struct strm s;
	long long srv;
	double rec0;

	(void)state;
	caller("push_pg", key, sid);
	srv = stopped_server_with_tool("push_pg_srv");
	get_stream(&s, key, sid, NULL);
	assert_int_equal(strm_status(&s), 200);
	wait_for(s.out, "retry:", 1);
	rec0 = it_metric("toolgate_stream_db_reconnects_total");
	assert_true(rec0 >= 0);
	assert_int_equal(it_sh("bash %s pg-stop >/dev/null 2>&1", it_env("TG_STACK")), 0);
	nap_ms(1500);
	assert_true(strm_alive(&s));
	assert_int_equal(it_sh("bash %s pg-start >/dev/null 2>&1", it_env("TG_STACK")), 0);
	/* at once, before the stream process can have LISTENed again: the
	 * NOTIFY of this change may never reach it */
	assert_int_equal(it_sh("for i in $(seq 1 100); do psql -qAt -v ON_ERROR_STOP=1 "
			       "-c \"UPDATE servers SET status = 'running' WHERE id = %lld\" "
			       ">/dev/null 2>&1 && exit 0; sleep 0.1; done; exit 1",
			     srv),
	    0);
	{
		double end = it_now() + 45;

		while (count_of(slurp(s.out), CHANGED) < 1) {
			if (it_now() > end)
				fail_msg("no list_changed after the database restart: %s", slurp(s.out));
			nap_ms(100);
		}
	}
	assert_true(strm_alive(&s));
	assert_int_equal(it_wait_status("/ready", 200, 20000), 0);
	usleep(1200 * 1000);
	assert_true(it_metric("toolgate_stream_db_up") == 1);
	assert_true(it_metric("toolgate_stream_db_reconnects_total") >= rec0 + 1);
	strm_close(&s);
}

static char host2[400], host3[400];

/* Starts "another host" (second_host.sh) in TG_VAR/name on a free port
 * from first; env: assignments for it (or ""); its URL into url. */
static void
host_start(char *dir, size_t cap, const char *name, int first, const char *env,
    char *url, size_t ucap)
{
	char port[16];

	snprintf(dir, cap, "%s/%s", it_env("TG_VAR"), name);
	assert_int_equal(it_capture(port, sizeof(port), "for p in $(seq %d %d); do "
							"(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; break; }; done",
			     first, first + 99),
	    0);
	assert_true(atoi(port) > 0);
	assert_int_equal(it_sh("%s bash \"$(dirname '%s')/../tests/integration/second_host.sh\" start '%s' %s",
			     env, it_env("TG_STACK"), dir, port),
	    0);
	snprintf(url, ucap, "http://127.0.0.1:%s", port);
}

/* Teardown: stops the hosts host_start started (safe to repeat). */
static int
stop_hosts(void **state)
{
	const char *d[2] = {host2, host3};
	int i;

	(void)state;
	base = NULL;
	for (i = 0; i < 2; i++)
		if (d[i][0])
			(void)it_sh("bash \"$(dirname '%s')/../tests/integration/second_host.sh\" stop '%s' >/dev/null 2>&1",
			    it_env("TG_STACK"), d[i]);
	return 0;
}

/*
 * Two masters on one database ("two hosts", tests/integration/
 * second_host.sh): streams held by the second host's stream process get
 * list_changed for a change made over REST on the first, by PostgreSQL's
 * NOTIFY alone; stopping the second master (SIGTERM) ends its listen
 * stream with the subscriptions/listen result.
 */
static void
t_two_hosts(void **state)
{
	char key[256], sid[128], url[64];
	struct strm g, l;
	long long srv;

	(void)state;
	host_start(host2, sizeof(host2), "host2", 18700, "", url, sizeof(url));

	dev_key("push_hosts", key, sizeof(key), NULL);
	it_mcp_init(key, IT_MCP_VERSION, sid, sizeof(sid)); /* on host 1 */
	srv = stopped_server_with_tool("push_hosts_srv");
	base = url;
	get_stream(&g, key, sid, NULL); /* the same session, host 2 */
	assert_int_equal(strm_status(&g), 200);
	listen_stream(&l, key, "5");
	wait_for(l.out, "notifications/subscriptions/acknowledged", 1);
	wait_for(g.out, "retry:", 1);
	base = NULL;
	it_server_start(it_admin(), srv); /* REST on host 1 */
	wait_for(g.out, CHANGED, 1);
	wait_for(l.out, CHANGED, 1);
	assert_non_null(strstr(slurp(l.out), "\"io.modelcontextprotocol/subscriptionId\":5"));
	/* the second master stops: its streams close, the listen one with
	 * its result */
	assert_int_equal(it_sh("bash \"$(dirname '%s')/../tests/integration/second_host.sh\" stop '%s'",
			     it_env("TG_STACK"), host2),
	    0);
	wait_closed(&l);
	wait_closed(&g);
	assert_non_null(strstr(slurp(l.out), "\"id\":5,\"result\":{"));
}

/*
 * A stream process whose descriptor limit is below TOOLGATE_STREAMS_MAX
 * (a host started with `ulimit -n 64`, TOOLGATE_STREAMS_MAX 10000): it
 * holds limit - 32 streams and refuses the next with a clear 503 naming
 * the descriptor limit, instead of failing accept() with EMFILE; and it
 * keeps serving once one closes.
 */
static void
t_fd_limit(void **state)
{
	char key[256], sid[128], url[64];
	struct strm s[34];
	int i;

	(void)state;
	host_start(host3, sizeof(host3), "host3", 18800, "TG_HOST_NOFILE=64", url, sizeof(url));
	assert_int_equal(it_sh("grep -q 'ev=stream.fd_limit nofile=64 streams_max=10000 effective=32' '%s/log/toolgate.log'",
			     host3),
	    0);
	caller("push_fds", key, sid);
	base = url;
	fill(s, 32, key, sid, NULL, 503);
	assert_non_null(strstr(slurp(s[32].out), "descriptor limit"));
	assert_non_null(strstr(slurp(s[32].hdr), "Retry-After: "));
	strm_close(&s[0]);
	wait_closed(&s[0]);
	{
		double end = it_now() + WAIT_MS / 1000.0;

		for (;;) {
			get_stream(&s[33], key, sid, NULL);
			if (strm_status(&s[33]) == 200)
				break;
			wait_closed(&s[33]);
			assert_true(it_now() < end);
			nap_ms(200);
		}
	}
	/* out of descriptors (silent connections straight at its socket,
	 * beyond the 64): each is accepted on the spare descriptor and
	 * refused with 503, the loop does not spin, and it still serves */
	assert_int_equal(it_sh("%s '%s/run/toolgate.sock.stream' 80 >/dev/null", RAW_CONNECT, host3), 0);
	assert_int_equal(it_sh("grep -q 'ev=stream.refused status=503 reason=\"no descriptor left' '%s/log/toolgate.log'",
			     host3),
	    0);
	for (i = 1; i < 34; i++)
		if (i != 32)
			strm_close(&s[i]);
	for (i = 1; i < 34; i++)
		if (i != 32)
			wait_closed(&s[i]);
	get_stream(&s[0], key, sid, NULL);
	assert_int_equal(strm_status(&s[0]), 200);
	strm_close(&s[0]);
	base = NULL;
}

/* More than 256 connections that send nothing (only nginx should connect,
 * and it sends its request at once): the next is refused with 503 at
 * once; streams still open afterwards. */
static void
t_heads_cap(void **state)
{
	char key[256], sid[128];
	struct strm s;

	(void)state;
	assert_int_equal(it_sh("%s '%s.stream' 300 | grep -q 'too many connections are opening'",
			     RAW_CONNECT, it_env("TOOLGATE_SOCKET")),
	    0);
	caller("push_heads", key, sid);
	get_stream(&s, key, sid, NULL);
	assert_int_equal(strm_status(&s), 200);
	strm_close(&s);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(t_refusals),
    cmocka_unit_test(t_list_changed),
    cmocka_unit_test(t_burst_coalesced),
    cmocka_unit_test(t_resume),
    cmocka_unit_test(t_revocation),
    cmocka_unit_test(t_limits),
    cmocka_unit_test(t_shutdown),
    cmocka_unit_test(t_versions),
    cmocka_unit_test(t_cors),
    cmocka_unit_test(t_metrics),
    cmocka_unit_test(t_db_restart),
    cmocka_unit_test_teardown(t_two_hosts, stop_hosts),
    cmocka_unit_test_teardown(t_fd_limit, stop_hosts),
    cmocka_unit_test(t_heads_cap),
};

TG_TEST_RUN("tests", tests, NULL, NULL)
