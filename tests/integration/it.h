/*
 * it.h - integration test helpers: real HTTP through the private nginx
 * (TG_BASE_URL, set by tests/run.sh) with libcurl, JSON bodies via jansson.
 *
 * The one helper set of every suite in tests/integration/ (a suite keeps
 * only what is particular to it):
 *   transport   it_request, it_json, it_get, it_header, it_burst, it_sink
 *   REST        it_call / it_callv / it_call_json (status asserted, JSON
 *               back), it_status (status only), it_jstr / it_jint,
 *               it_match, it_json_has / it_json_lacks (JSON text),
 *               it_forbid (a string no REST response may hold)
 *   identity    it_login*, it_user_create
 *   fixtures    it_server_create / it_server_start, it_tool_create /
 *               it_tool_submit / it_approve_current / it_tool_approved,
 *               it_act
 *   MCP 2025    it_mcp_post, it_mcp_init (session), it_mcp_rpc,
 *               it_mcp_call, it_rpc_code, it_first_text
 *   MCP 2026    it_mcp26_post (stateless, Mcp-Method / Mcp-Name headers)
 *   problems    it_has_field, IT_FIELDS (422 field paths)
 *   stack       it_env, it_sh, it_capture, it_sql / it_sql_expect,
 *               it_logs_scrubbed, it_wait_status, it_metric,
 *               it_rate_limit_set / it_rate_limit_restore
 * Helpers that assert fail the current cmocka test with the method, path,
 * status and body of the offending response.
 */
#ifndef TG_IT_H
#define TG_IT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdio.h>

#include <jansson.h>

#include "tests/test_main.h"

struct it_resp {
	long status;
	char *body;
	size_t len;
	char *headers;		/* raw header block of the last response */
	json_t *json;		/* parsed body when it is JSON, else NULL */
};

/* A growing, NUL-terminated buffer for libcurl's CURLOPT_WRITEFUNCTION
 * it_sink_write / CURLOPT_WRITEDATA &sink (for requests it_request cannot
 * make, e.g. from another source address); free(sink.p) afterwards. */
struct it_sink {
	char *p;
	size_t len;
};
size_t it_sink_write(char *ptr, size_t size, size_t nmemb, void *sink);
/* A libcurl handle for a request it_request cannot make: POST body (NULL:
 * GET) to path on the stack with the headers h (NULL: none), the answer
 * to write(ud); a 60 s timeout, no signals. The caller sets more options,
 * performs and cleans up. */
CURL *it_curl(const char *path, struct curl_slist *h, const char *body,
    curl_write_callback write, void *ud);

/* Base URL, e.g. http://127.0.0.1:18080 (TG_BASE_URL). */
const char *it_base(void);
/* Environment value or fail the test. */
const char *it_env(const char *name);

/* Performs method path with optional extra headers (NULL-terminated array
 * of "Name: value") and body (len bytes; NULL for none). Returns 0 on a
 * completed HTTP exchange, -1 on transport failure. */
int it_request(const char *method, const char *path, const char *const *headers,
    const char *body, size_t len, struct it_resp *out);
/* it_request without a body that keeps only the status (0: no response;
 * a 5xx prints its body). */
long it_hstatus(const char *method, const char *path, const char *const *headers);
/* JSON POST/PATCH/PUT shortcut with Content-Type: application/json and an
 * optional bearer token. */
int it_json(const char *method, const char *path, const char *token,
    const char *body, struct it_resp *out);
/* GET/DELETE with an optional bearer token. */
int it_get(const char *method, const char *path, const char *token,
    struct it_resp *out);
/* Header value (case-insensitive name), copied into a static buffer; NULL
 * when absent. */
const char *it_header(const struct it_resp *r, const char *name);
void it_resp_free(struct it_resp *r);

/* Seconds on the monotonic clock (for durations). */
double it_now(void);
/* Runs a shell command (stack control); returns its exit status. */
int it_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Polls GET path until it returns want_status or timeout_ms passes. */
int it_wait_status(const char *path, long want_status, int timeout_ms);
/* One sample of GET /metrics (from loopback): the value of the first line
 * that is name (with its labels, if any) and a space; -1 when absent. */
double it_metric(const char *name);

/* Signs in through POST /api/v1/auth/login and copies the access token into
 * token_out (cap bytes; 4096 is plenty). Returns 0, or -1 (the HTTP status
 * is printed). it_login_full also returns the refresh token (may be NULL). */
int it_login(const char *user, const char *pass, char *token_out, size_t cap);
int it_login_full(const char *user, const char *pass, char *token_out,
    size_t cap, char *refresh_out, size_t rcap);
/* The admin of the test stack (TG_ADMIN_USER / TG_ADMIN_PASSWORD). */
int it_login_admin(char *token_out, size_t cap);
/* That admin's access token, signed in once per process (fails the test
 * when the sign-in fails). */
const char *it_admin(void);
/* "Authorization: Bearer <token>" (a static buffer, one of four). */
const char *it_bearer(const char *token);
/* Creates a user through the API with an admin token (role admin,
 * developer or viewer); returns its id or -1. */
long long it_user_create(const char *admin_token, const char *username,
    const char *password, const char *role);
/* it_user_create (which must succeed) and a sign-in as that user, the
 * access token into token (cap bytes); returns the user's id. Fails the
 * test otherwise. */
long long it_user_token(const char *admin_token, const char *username,
    const char *password, const char *role, char *token, size_t cap);
/* Runs a shell command and captures its stdout (trimmed) into out. Returns
 * the exit status. */
int it_capture(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets the rate limit of role (requests per window, settings key
 * rate_limits) with SQL, keeping the previous value of the key in saved
 * (cap bytes; "" when there was none) for it_rate_limit_restore, which puts
 * it back (or removes the key when there was none). A test that fails
 * between the two has it put back at the next set or at exit. */
void it_rate_limit_set(const char *role, int limit, char *saved, size_t cap);
void it_rate_limit_restore(char *saved);

/* n concurrent requests (one connection each, so several workers serve
 * them): method path, "Authorization: Bearer token" (NULL: none), extra
 * headers (NULL-terminated, may be NULL), body (NULL: none). status[i] gets
 * each HTTP status (0: no response). */
#define IT_BURST_MAX 64
void it_burst(const char *method, const char *path, const char *token,
    const char *const *extra, const char *body, int n, long *status);

/*
 * REST helpers. Each fails the test (cmocka) on a transport error or an
 * unexpected status, printing the method, path, status and body.
 *
 * it_call: method path with an optional bearer token (NULL: none) and JSON
 * body (NULL: none, sent without Content-Type); fails unless the status is
 * want. Returns the parsed body (new reference; an empty object when the
 * body is not JSON), so json_object_get() on it is always safe.
 *
 * it_forbid(needle): from now on, it_call (the REST calls; not it_status,
 * meant for probes, nor the MCP helpers: a tool may return a secret to
 * its caller) fails the test when a response body contains needle (a
 * secret the API must never return); NULL turns the check off.
 */
void it_forbid(const char *needle);
json_t *it_call(const char *method, const char *path, const char *token,
    const char *body, long want);
/* it_call, dropping the body. */
void it_callv(const char *method, const char *path, const char *token,
    const char *body, long want);
/* it_call with a jansson body (serialised compactly). */
json_t *it_call_json(const char *method, const char *path, const char *token,
    const json_t *body, long want);
/* The HTTP status of method path (no status expectation); a 5xx prints the
 * body. Fails the test only on a transport error. */
long it_status(const char *method, const char *path, const char *token,
    const char *body);
/* it_call / it_callv with the path printed by fmt. */
json_t *it_callf(const char *method, const char *token, const char *body,
    long want, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void it_callvf(const char *method, const char *token, const char *body,
    long want, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* it_status that keeps the response: method path (token, body as in
 * it_call) into out, failing the test unless the status is want; the
 * caller reads and frees out. */
void it_expect(const char *method, const char *path, const char *token,
    const char *body, long want, struct it_resp *out);
/* Member key of object o as a string ("" when absent or not a string) or an
 * integer (0 when absent). */
const char *it_jstr(const json_t *o, const char *key);
long long it_jint(const json_t *o, const char *key);

/*
 * it_match(got, want): want is JSON text; fails the test (naming the path
 * and printing both) unless got holds it: every member of a want object
 * is present in got with a matching value (got may have more members),
 * arrays match item by item with the same length, other values are equal
 * (a want null needs a present null).
 */
void it_match(const json_t *got, const char *want);

/*
 * it_json_has / it_json_lacks: fail the test (printing the text) unless
 * the compact JSON text of j holds needle / when it does.
 */
void it_json_has(const json_t *j, const char *needle);
void it_json_lacks(const json_t *j, const char *needle);

/*
 * it_has: 1 when an object of obj's array member holds key: value (a
 * string).
 */
int it_has(const json_t *obj, const char *array, const char *key, const char *value);

/*
 * Problem documents. it_has_field: 1 when an entry of problem's "errors"
 * names field. it_fields / IT_FIELDS(problem, "a", "b.c", ...): fails the
 * test (printing the document) unless every listed field is named.
 */
int it_has_field(const json_t *problem, const char *field);
void it_fields(const json_t *problem, const char *const *fields);
#define IT_FIELDS(problem, ...) \
	it_fields((problem), (const char *const[]){__VA_ARGS__, NULL})

/*
 * SQL against the test stack's database (psql with the PG* settings,
 * the statement on its stdin, so no shell quoting). it_sql: the
 * unaligned, tuples-only output (trimmed) into out; fails the test when
 * psql fails. it_sql_expect: fails unless that output is want.
 */
void it_sql(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void it_sql_expect(const char *want, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * A psql session holding table in ACCESS EXCLUSIVE mode until
 * it_unlock_table() (its commands come from a pipe; should the test fail
 * first, the server ends the idle transaction after a minute). Returns
 * once the lock is granted (polled, a generous minute): no guess of how
 * long psql takes to start. it_lock_waiter: the pid of a backend waiting
 * on table's lock, polled up to a minute (fails the test otherwise).
 */
FILE *it_lock_table(const char *table);
void it_unlock_table(FILE *f);
long it_lock_waiter(const char *table);
/* The execution logs selected by the SQL condition where (e.g.
 * "tool_id = 12") after a tool that printed 'out:' + a secret, returned
 * it, and raised ValueError('err:' + secret), was run once returning and
 * once raising with kind kind: two rows of that kind, none holding leak
 * (a fragment of the secret), the ok row's result and stdout and the
 * error row's error hold "[REDACTED]" instead. */
void it_logs_scrubbed(const char *where, const char *kind, const char *leak);
/* That tool (Python source), for the secret named key: argument mode
 * "ret" (default) returns, "raise" raises. */
#define IT_LEAK_CODE(key) \
	"def main(mode: str = 'ret'):\n" \
	"    print('out:' + SECRETS['" key "'])\n" \
	"    if mode == 'raise':\n" \
	"        raise ValueError('err:' + SECRETS['" key "'])\n" \
	"    return {'v': SECRETS['" key "']}\n"

/*
 * Fixtures through the API (each fails the test unless the API agrees).
 * it_server_create: POST /api/v1/servers {"name":name} plus the members of
 * extra (a JSON object text without braces, e.g. "\"description\":\"d\"";
 * NULL: none); 201; returns the id. it_server_start: POST .../start, 200.
 * it_tool_create: POST /api/v1/servers/<server>/tools (server: id or name)
 * with name, code (plain Python source, JSON-escaped here) and description
 * (NULL: none); 201; returns the id. it_tool_submit: POST .../submit, 200.
 * it_approve_current: reads the tool's current_version and approves exactly
 * that version (approval names the version it approves), 200.
 * it_act: POST /api/v1/<kind>/<id>/<action> (e.g. "tools", 12, "submit")
 * with body (NULL: {}), 200.
 */
long long it_server_create(const char *token, const char *name, const char *extra);
/* A server of the suite's own, named prefix and the pid into name (so the
 * suite may run again on the same database); its id also as text into ids
 * (for it_tool_create's server). Returns the id. */
long long it_server_own(const char *token, const char *prefix, char *name,
    size_t cap, char *ids, size_t idcap);
void it_act(const char *token, const char *kind, long long id, const char *action,
    const char *body);
void it_server_start(const char *token, long long server_id);
long long it_tool_create(const char *token, const char *server, const char *name,
    const char *code, const char *description);
void it_tool_submit(const char *token, long long tool_id);
void it_approve_current(const char *admin_token, long long tool_id);
/* it_tool_create + it_tool_submit + it_approve_current, all with
 * admin_token: a tool that is served once its server runs. */
long long it_tool_approved(const char *admin_token, const char *server,
    const char *name, const char *code, const char *description);

/*
 * MCP helpers.
 *
 * 2025 era (sessions): it_mcp_post POSTs body to /mcp with Content-Type
 * application/json, "Accept: application/json, text/event-stream", the
 * bearer token (NULL: none), Mcp-Session-Id: sid (NULL or "": none) and
 * MCP-Protocol-Version: version (NULL: none). Fails the test only on a
 * transport error; the caller checks and frees out.
 * it_mcp_init: initialize (protocolVersion version, no session or version
 * header), expects 200, a result and a session id (copied into sid), then sends
 * notifications/initialized in the session and expects 202.
 * it_mcp_rpc: it_mcp_post in session sid with version, expects HTTP 200 and
 * returns the parsed JSON-RPC response (new reference, never NULL).
 * it_mcp_call: tools/call name with arguments args (JSON text, inserted
 * as is) in session sid, expects HTTP 200; returns the JSON-RPC result, or
 * the error object when there is none (new reference, never NULL); *raw
 * (optional) gets a malloc'd copy of the whole response body.
 */
#define IT_MCP_VERSION "2025-11-25"
/* Every header of a POST /mcp (each NULL: left out, but for accept and
 * content_type, whose NULL is "application/json, text/event-stream" and
 * "application/json"). */
struct it_mcp_req {
	const char *token;		/* Authorization: Bearer */
	const char *sid;		/* Mcp-Session-Id ("" too: none) */
	const char *version;		/* MCP-Protocol-Version */
	const char *method, *name;	/* Mcp-Method, Mcp-Name (2026 era) */
	const char *accept, *content_type;
	const char *const *extra;	/* more, NULL-terminated (at most 8) */
};
/* POST /mcp; fails the test only on a transport error. */
void it_mcp_send(const struct it_mcp_req *q, const char *body, struct it_resp *out);
void it_mcp_post(const char *token, const char *sid, const char *version,
    const char *body, struct it_resp *out);
void it_mcp_init(const char *token, const char *version, char *sid, size_t cap);
json_t *it_mcp_rpc(const char *token, const char *sid, const char *version,
    const char *body);
json_t *it_mcp_call(const char *token, const char *sid, const char *version,
    const char *name, const char *args, char **raw);
/*
 * 2026 era (stateless): it_mcp_send with the bearer token, Accept: accept,
 * MCP-Protocol-Version: version, Mcp-Method: method, Mcp-Name: name and
 * the extra headers.
 */
/* tools/list in session sid (expects 200 and a tools array): the entry
 * named name (new reference), or NULL when it is not listed. */
json_t *it_mcp_tool(const char *token, const char *sid, const char *version,
    const char *name);
/* Fails unless res (a tools/call answer as it_mcp_call returns it) is a
 * result with content that is not an isError one. */
void it_tool_ok(const json_t *res);
/* The JSON-RPC error code of a response (0: none). */
long it_rpc_code(const struct it_resp *r);
/* The first text content of a tools/call result ("" when there is none). */
const char *it_first_text(const json_t *result);
#define IT_MCP26_VERSION "2026-07-28"
void it_mcp26_post(const char *token, const char *version, const char *method,
    const char *name, const char *body, const char *accept,
    const char *const *extra, struct it_resp *out);

#endif
