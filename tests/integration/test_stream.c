/*
 * test_stream.c - the output path (docs/architecture.md "FastCGI output").
 * An SSE response to tools/call is streamed through nginx, not buffered:
 * the first progress event reaches the client while the tool is still
 * running. /mcp has fastcgi_buffering on (plain JSON replies leave the
 * worker in one piece); the app turns it off per response with
 * X-Accel-Buffering: no when it starts a stream (handlers/mcp_sse.c). And a
 * reply larger than one FastCGI record (65,528 bytes) arrives intact.
 */
#include "tests/integration/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

static char admin[4096];

struct seen {
	double start, first_progress, end;
	char buf[16384];
	size_t len;
};

static size_t
on_data(char *p, size_t sz, size_t n, void *u)
{
	struct seen *s = u;
	size_t k = sz * n, room = sizeof(s->buf) - 1 - s->len;

	memcpy(s->buf + s->len, p, k < room ? k : room);
	s->len += k < room ? k : room;
	s->buf[s->len] = '\0';
	if (s->first_progress == 0 && strstr(s->buf, "notifications/progress") != NULL)
		s->first_progress = it_now();
	return k;
}

static void
t_progress_streams(void **state)
{
	char auth[4200], hs[200];
	struct curl_slist *h = NULL;
	struct it_resp r;
	struct seen s;
	long long sid, tid;
	const char *v;
	CURL *c;
	long st = 0;
	const char *init = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
	    "\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
	    "\"clientInfo\":{\"name\":\"stream\",\"version\":\"1\"}}}";
	const char *call = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"streamtest__slow\",\"arguments\":{},"
	    "\"_meta\":{\"progressToken\":\"p1\"}}}";

	(void)state;
	assert_int_equal(it_login_admin(admin, sizeof(admin)), 0);
	sid = it_server_create(admin, "streamtest", NULL);
	tid = it_tool_create(admin, "streamtest", "slow",
	    "import time\nimport toolgate\n\ndef main() -> str:\n"
	    "    toolgate.progress(1, 2, \"started\")\n"
	    "    time.sleep(2)\n"
	    "    toolgate.progress(2, 2, \"done\")\n"
	    "    return \"ok\"\n", NULL);
	it_tool_submit(admin, tid);
	it_act(admin, "tools", tid, "approve", "{\"reason\":\"stream test\",\"version\":1}");
	it_server_start(admin, sid);

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", admin);
	{
		const char *hh[] = {auth, "Content-Type: application/json",
		    "Accept: application/json, text/event-stream", NULL};

		assert_int_equal(it_request("POST", "/mcp", hh, init, strlen(init), &r), 0);
		assert_int_equal(r.status, 200);
		v = it_header(&r, "Mcp-Session-Id");
		assert_non_null(v);
		snprintf(hs, sizeof(hs), "Mcp-Session-Id: %s", v);
		it_resp_free(&r);
	}
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Accept: application/json, text/event-stream");
	h = curl_slist_append(h, "MCP-Protocol-Version: 2025-11-25");
	h = curl_slist_append(h, hs);
	memset(&s, 0, sizeof(s));
	c = it_curl("/mcp", h, call, on_data, &s);
	s.start = it_now();
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	s.end = it_now();
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	assert_int_equal(st, 200);
	assert_non_null(strstr(s.buf, "event: message"));
	assert_non_null(strstr(s.buf, "\"result\""));
	assert_true(s.first_progress > 0);
	/* The tool sleeps 2 s after its first progress event: a buffered
	 * stream would deliver everything at the end. */
	if (s.end - s.first_progress < 1.0)
		fail_msg("first progress event %.3f s before the end of the stream; "
		    "the SSE response was buffered", s.end - s.first_progress);

	it_act(admin, "servers", sid, "stop", NULL);
}

/* A ~200 KB reply (a tool's code) spans four FastCGI records written
 * directly by the worker; it must arrive byte for byte. */
static void
t_large_reply(void **state)
{
	struct it_resp r;
	char path[128], *code;
	size_t cap = 210 * 1024, len = 0;
	long long tid;
	int i;

	(void)state;
	if (admin[0] == '\0')
		assert_int_equal(it_login_admin(admin, sizeof(admin)), 0);
	code = malloc(cap);
	assert_non_null(code);
	for (i = 0; len + 100 < 200 * 1024; i++)
		len += (size_t)snprintf(code + len, cap - len,
		    "# line %06d: the quick brown fox jumps over the lazy dog %d\n", i, i * 7919);
	len += (size_t)snprintf(code + len, cap - len, "def main() -> str:\n    return 'ok'\n");
	(void)it_server_create(admin, "bigreply", NULL);
	tid = it_tool_create(admin, "bigreply", "big", code, NULL);
	snprintf(path, sizeof(path), "/api/v1/tools/%lld", tid);
	assert_int_equal(it_get("GET", path, admin, &r), 0);
	assert_int_equal(r.status, 200);
	assert_true(r.len > 3 * 65528);
	assert_non_null(r.json);
	assert_string_equal(json_string_value(json_object_get(r.json, "code")), code);
	it_resp_free(&r);
	free(code);
}

TG_TEST_MAIN_WITH(curl_global_init(CURL_GLOBAL_DEFAULT), "tests", NULL, NULL,
    t_progress_streams, t_large_reply)
