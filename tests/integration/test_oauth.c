/*
 * test_oauth.c - issue 21, OAuth 2.1 for remote MCP clients, the negative
 * side, end to end through nginx on the test stack (TOOLGATE_PUBLIC_URL =
 * TG_BASE_URL, set by scripts/stack.sh): discovery headers and documents,
 * bad registrations (RFC 7591 errors), authorization requests that must not
 * redirect (unknown client, unregistered or look-alike redirect URIs) and
 * ones that must (PKCE missing, another server's resource), the code
 * exchange (wrong verifier, reused code, another client's code, another
 * redirect URI), audience binding (/api/v1 refuses the token), refresh
 * reuse, revoked consent, RFC 7009 revocation, the role ceiling, and the
 * consent page's framing and CSRF properties. The positive flow with the
 * official SDK and a browser: tests/ui/oauth.test.mjs.
 */
#include "tests/integration/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#define PW "oauth-integration-pw-1"
#define REDIR "http://127.0.0.1:7777/cb"
#define VERIFIER "verifier-0123456789-0123456789-0123456789-abcdef"

static char suffix[32];
static char resource[512];

/* ------------------------------------------------------------ helpers */

static void
b64url(const unsigned char *in, size_t n, char *out)
{
	char tmp[256];
	int len, i, o = 0;

	len = EVP_EncodeBlock((unsigned char *)tmp, in, (int)n);
	for (i = 0; i < len && tmp[i] != '='; i++)
		out[o++] = tmp[i] == '+' ? '-' : tmp[i] == '/' ? '_' :
								 tmp[i];
	out[o] = '\0';
}

/* BASE64URL(SHA256(v)) */
static void
challenge(const char *v, char *out)
{
	unsigned char md[32];
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(v, strlen(v), md, &n, EVP_sha256(), NULL), 1);
	b64url(md, n, out);
}

static char *
esc(const char *s)
{
	static char buf[8][1024];
	static int next;
	char *e = curl_easy_escape(NULL, s, 0);
	char *b = buf[next++ % 8];

	assert_non_null(e);
	snprintf(b, sizeof(buf[0]), "%s", e);
	curl_free(e);
	return b;
}

/* POST a form body to path; the caller frees out. */
static void
form(const char *path, const char *body, struct it_resp *out)
{
	const char *h[] = {"Content-Type: application/x-www-form-urlencoded", NULL};

	assert_int_equal(it_request("POST", path, h, body, strlen(body), out), 0);
}

/* An OAuth error response: status and error code. */
static void
oauth_err(struct it_resp *r, long status, const char *error)
{
	if (r->status != status || r->json == NULL ||
	    strcmp(it_jstr(r->json, "error"), error) != 0 ||
	    !json_is_string(json_object_get(r->json, "error_description")))
		fail_msg("want %ld {\"error\":\"%s\"}, got %ld %s", status, error, r->status,
		    r->body ? r->body : "");
}

/*
 * The registration limit (20 an hour per client address, lib/oauth.c) is
 * t_register_rate's alone: every other registration of this suite starts
 * from an empty count, whatever ran before it in this run or an earlier
 * run on the same stack within the hour.
 */
static void
reg_count_reset(void)
{
	char n[32];

	it_sql(n, sizeof(n), "WITH d AS (DELETE FROM rate_limits WHERE bucket LIKE 'oauth-reg:%%'"
			     " RETURNING 1) SELECT count(*) FROM d");
}

/* Registers a client with redirect_uris (JSON array text); its client_id. */
static void
reg(const char *name, const char *uris, char *cid, size_t cap)
{
	char body[1024];
	json_t *j;

	reg_count_reset();
	snprintf(body, sizeof(body), "{\"client_name\":\"%s\",\"redirect_uris\":%s}", name, uris);
	j = it_call("POST", "/oauth/register", NULL, body, 201);
	assert_string_equal(it_jstr(j, "token_endpoint_auth_method"), "none");
	snprintf(cid, cap, "%s", it_jstr(j, "client_id"));
	assert_true(strncmp(cid, "tgc_", 4) == 0);
	json_decref(j);
}

/* GET /oauth/authorize with query q; the response (no redirect followed). */
static void
authorize(const char *q, struct it_resp *r)
{
	char path[4096];

	snprintf(path, sizeof(path), "/oauth/authorize?%s", q);
	assert_int_equal(it_get("GET", path, NULL, r), 0);
}

static void
std_query(char *q, size_t cap, const char *cid, const char *redir, const char *chal,
    const char *extra)
{
	snprintf(q, cap, "response_type=code&client_id=%s&redirect_uri=%s&code_challenge=%s"
			 "&code_challenge_method=S256&state=st-1&resource=%s%s",
	    esc(cid), esc(redir), chal,
	    esc(resource), extra ? extra : "");
}

/* A refused authorization request: 400, no Location, nothing redirected. */
static void
refused(const char *q, const char *why)
{
	struct it_resp r;

	authorize(q, &r);
	if (r.status != 400 || it_header(&r, "Location") != NULL)
		fail_msg("%s: want 400 without Location, got %ld (Location %s)", why, r.status,
		    it_header(&r, "Location") ? it_header(&r, "Location") : "-");
	it_resp_free(&r);
}

/* An authorization request answered with an error at the client: the
 * Location starts with redir and holds error=<error> and the state. */
static void
redirected_error(const char *q, const char *redir, const char *error)
{
	struct it_resp r;
	const char *loc;
	char want[128];

	authorize(q, &r);
	loc = it_header(&r, "Location");
	snprintf(want, sizeof(want), "error=%s", error);
	if (r.status != 302 || loc == NULL || strncmp(loc, redir, strlen(redir)) != 0 ||
	    strstr(loc, want) == NULL || strstr(loc, "state=st-1") == NULL)
		fail_msg("want 302 to %s with %s, got %ld %s", redir, want, r.status, loc ? loc : "-");
	it_resp_free(&r);
}

/* The pending request's handle from a successful authorization request. */
static void
pending(const char *q, char *handle, size_t cap)
{
	struct it_resp r;
	const char *loc, *h;
	char want[600];

	authorize(q, &r);
	loc = it_header(&r, "Location");
	snprintf(want, sizeof(want), "%s/ui/consent.html#request=", it_base());
	if (r.status != 302 || loc == NULL || strncmp(loc, want, strlen(want)) != 0)
		fail_msg("want 302 to the consent page, got %ld %s %s", r.status, loc ? loc : "-",
		    r.body ? r.body : "");
	h = loc + strlen(want);
	snprintf(handle, cap, "%s", h);
	it_resp_free(&r);
}

/* body (a JSON object's text) with "request": handle first: the consent
 * API takes the handle in the body, never the path. A static buffer (one
 * of four). */
static const char *
with_request(const char *handle, const char *body)
{
	static char buf[4][1024];
	static int next;
	char *b = buf[next++ % 4];

	snprintf(b, sizeof(buf[0]), "{\"request\":\"%s\"%s%s", handle,
	    body[1] == '}' ? "" : ",", body + 1);
	return b;
}

/* The consent page's view of pending request handle (status want). */
static json_t *
view(const char *token, const char *handle, long want)
{
	return it_call("POST", "/api/v1/oauth/consent", token, with_request(handle, "{}"), want);
}

/* The status of a decision (body without the handle). */
static long
decision_status(const char *token, const char *handle, const char *body)
{
	return it_status("POST", "/api/v1/oauth/consent/decision", token,
	    with_request(handle, body));
}

/* The person's decision with their console token; the redirect_to. */
static void
decide(const char *token, const char *handle, const char *body, char *to, size_t cap)
{
	json_t *j = it_call("POST", "/api/v1/oauth/consent/decision", token,
	    with_request(handle, body), 200);

	snprintf(to, cap, "%s", it_jstr(j, "redirect_to"));
	json_decref(j);
}

/* The value of name in a redirect URL's query ("" when absent). */
static void
qparam(const char *url, const char *name, char *out, size_t cap)
{
	char key[64];
	const char *p;
	size_t n;

	snprintf(key, sizeof(key), "%s=", name);
	out[0] = '\0';
	for (p = strchr(url, '?'); p != NULL; p = strchr(p + 1, '&')) {
		if (strncmp(p + 1, key, strlen(key)) == 0) {
			p += 1 + strlen(key);
			n = strcspn(p, "&");
			snprintf(out, cap, "%.*s", (int)n, p);
			return;
		}
	}
}

/* The whole authorization for client cid as the user of token: a code. */
static void
get_code(const char *token, const char *cid, const char *redir, const char *verifier,
    const char *decision, char *code, size_t cap)
{
	char chal[64], q[2048], handle[128], to[2048];

	challenge(verifier, chal);
	std_query(q, sizeof(q), cid, redir, chal, NULL);
	pending(q, handle, sizeof(handle));
	decide(token, handle, decision, to, sizeof(to));
	qparam(to, "code", code, cap);
	assert_true(strlen(code) == 43);
}

/* POST /oauth/token for a code; the response. */
static void
exchange(const char *cid, const char *code, const char *redir, const char *verifier,
    struct it_resp *r)
{
	char body[2048];

	snprintf(body, sizeof(body), "grant_type=authorization_code&client_id=%s&code=%s"
				     "&redirect_uri=%s&code_verifier=%s&resource=%s",
	    esc(cid), esc(code), esc(redir),
	    esc(verifier), esc(resource));
	form("/oauth/token", body, r);
}

/* A complete grant: access and refresh token of client cid. */
static void
tokens(const char *token, const char *cid, const char *decision, char *at, size_t acap,
    char *rt, size_t rcap)
{
	char code[64];
	struct it_resp r;

	get_code(token, cid, REDIR, VERIFIER, decision, code, sizeof(code));
	exchange(cid, code, REDIR, VERIFIER, &r);
	if (r.status != 200 || r.json == NULL)
		fail_msg("token exchange: %ld %s", r.status, r.body);
	snprintf(at, acap, "%s", it_jstr(r.json, "access_token"));
	if (rt)
		snprintf(rt, rcap, "%s", it_jstr(r.json, "refresh_token"));
	assert_string_equal(it_jstr(r.json, "token_type"), "Bearer");
	it_resp_free(&r);
}

/* A GET /mcp stream opened with token (an OAuth token whose role was
 * lowered at consent) stays open when the stream process re-checks its
 * credential (an "auth" NOTIFY: any change of api_keys): the re-check
 * compares the token's role with the user's as "not above", not "equal". */
static void
lowered_stream_survives(const char *token)
{
	char sid[128], out[512], pidf[512], buf[64];
	const char *var = it_env("TG_VAR");
	json_t *j;
	long pid = 0;
	double before;
	FILE *f;
	int i;

	it_mcp_init(token, "2025-11-25", sid, sizeof(sid));
	snprintf(out, sizeof(out), "%s/oauth-strm-%d.out", var, (int)getpid());
	snprintf(pidf, sizeof(pidf), "%s/oauth-strm-%d.pid", var, (int)getpid());
	unlink(out);
	assert_int_equal(it_sh("curl -sN --max-time 60 -o '%s' -H 'Authorization: Bearer %s' "
			       "-H 'Accept: text/event-stream' -H 'Mcp-Session-Id: %s' "
			       "-H 'MCP-Protocol-Version: 2025-11-25' '%s/mcp' >/dev/null 2>&1 & "
			       "echo $! > '%s'",
			     out, token, sid, it_base(), pidf),
	    0);
	for (i = 0; i < 600 && pid == 0; i++) { /* the pid file, then "retry:" */
		if ((f = fopen(pidf, "r")) != NULL) {
			if (fgets(buf, sizeof(buf), f) != NULL)
				pid = strtol(buf, NULL, 10);
			fclose(f);
		}
		usleep(50000);
	}
	assert_true(pid > 0);
	for (i = 0; i < 600; i++) {
		char txt[256] = "";

		if ((f = fopen(out, "r")) != NULL) {
			size_t n = fread(txt, 1, sizeof(txt) - 1, f);

			txt[n] = '\0';
			fclose(f);
		}
		if (strstr(txt, "retry:") != NULL)
			break;
		usleep(50000);
	}
	assert_true(i < 600);
	/* an auth NOTIFY: a key made and revoked; then wait until the stream
	 * process has completed a credential re-check with the stream open
	 * (its counter moved), so the stream's survival proves something */
	before = it_metric("toolgate_stream_credential_rechecks_total");
	assert_true(before >= 0);
	j = it_call("POST", "/api/v1/api-keys", it_admin(), "{\"name\":\"oauth-recheck\"}", 201);
	it_callf("DELETE", it_admin(), NULL, 204, "/api/v1/api-keys/%lld", it_jint(j, "id"));
	json_decref(j);
	for (i = 0; i < 1200 && it_metric("toolgate_stream_credential_rechecks_total") <= before; i++)
		usleep(50000); /* generous: it runs within milliseconds of it */
	assert_true(it_metric("toolgate_stream_credential_rechecks_total") > before);
	assert_int_equal(kill((pid_t)pid, 0), 0);
	kill((pid_t)pid, SIGTERM);
	unlink(out);
	unlink(pidf);
}

/* The status of an MCP initialize with token. */
static long
mcp_status(const char *token)
{
	struct it_resp r;
	long st;

	it_mcp_post(token, NULL, NULL,
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
	    "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
	    "\"clientInfo\":{\"name\":\"oauth-it\",\"version\":\"1\"}}}",
	    &r);
	st = r.status;
	it_resp_free(&r);
	return st;
}

static void
refresh(const char *cid, const char *rt, struct it_resp *r)
{
	char body[1024];

	snprintf(body, sizeof(body), "grant_type=refresh_token&client_id=%s&refresh_token=%s",
	    esc(cid), esc(rt));
	form("/oauth/token", body, r);
}

/* RFC 7009: client cid revokes token (hint: its token_type_hint, NULL:
 * none); the answer is 200 whatever the token. */
static void
oauth_revoke(const char *token, const char *cid, const char *hint)
{
	char body[8192];
	struct it_resp r;

	snprintf(body, sizeof(body), "token=%s&client_id=%s%s%s", esc(token), esc(cid),
	    hint ? "&token_type_hint=" : "", hint ? hint : "");
	form("/oauth/revoke", body, &r);
	assert_int_equal(r.status, 200);
	it_resp_free(&r);
}

/* ------------------------------------------------------------ tests */

static void
t_discovery(void **state)
{
	struct it_resp r;
	const char *wa;
	char want[600];
	json_t *j, *a;

	(void)state;
	snprintf(want, sizeof(want), "resource_metadata=\"%s/.well-known/oauth-protected-resource/mcp\"",
	    it_base());
	for (int i = 0; i < 2; i++) {
		/* no token; a bad one (invalid_token, and still the metadata) */
		it_mcp_post(i ? "not-a-token" : NULL, NULL, NULL,
		    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &r);
		assert_int_equal(r.status, 401);
		wa = it_header(&r, "WWW-Authenticate");
		assert_non_null(wa);
		assert_non_null(strstr(wa, i ? "error=\"invalid_token\"" : "Bearer realm=\"toolgate\""));
		assert_non_null(strstr(wa, want));
		it_resp_free(&r);
	}
	/* the REST API's 401 does not advertise the MCP resource */
	assert_int_equal(it_get("GET", "/api/v1/auth/me", NULL, &r), 0);
	assert_int_equal(r.status, 401);
	assert_null(strstr(it_header(&r, "WWW-Authenticate"), "resource_metadata"));
	it_resp_free(&r);
	for (int i = 0; i < 2; i++) {
		j = it_call("GET", i ? "/.well-known/oauth-protected-resource" : "/.well-known/oauth-protected-resource/mcp", NULL, NULL, 200);
		assert_string_equal(it_jstr(j, "resource"), resource);
		a = json_object_get(j, "authorization_servers");
		assert_true(json_is_array(a) && json_array_size(a) == 1);
		assert_string_equal(json_string_value(json_array_get(a, 0)), it_base());
		json_decref(j);
	}
	for (int i = 0; i < 2; i++) {
		j = it_call("GET", i ? "/.well-known/openid-configuration" : "/.well-known/oauth-authorization-server", NULL, NULL, 200);
		assert_string_equal(it_jstr(j, "issuer"), it_base());
		it_match(j, "{\"code_challenge_methods_supported\":[\"S256\"],"
			    "\"token_endpoint_auth_methods_supported\":[\"none\"],"
			    "\"grant_types_supported\":[\"authorization_code\",\"refresh_token\"],"
			    "\"response_types_supported\":[\"code\"]}");
		snprintf(want, sizeof(want), "%s/oauth/token", it_base());
		assert_string_equal(it_jstr(j, "token_endpoint"), want);
		json_decref(j);
	}
}

static void
t_register_bad(void **state)
{
	/* each refused with 400 and its error */
	static const char *const bad_uri[] = {
	    "{\"client_name\":\"x\"}",
	    "{\"redirect_uris\":[]}",
	    "{\"redirect_uris\":\"https://a.example/cb\"}",
	    "{\"redirect_uris\":[\"http://evil.example/cb\"]}",
	    "{\"redirect_uris\":[\"http://127.0.0.1.evil.example/cb\"]}",
	    "{\"redirect_uris\":[\"javascript:alert(1)\"]}",
	    "{\"redirect_uris\":[\"data:text/html,x\"]}",
	    "{\"redirect_uris\":[\"https://a.example/cb#frag\"]}",
	    "{\"redirect_uris\":[\"https://user@a.example/cb\"]}",
	    "{\"redirect_uris\":[\"https://a.example/c b\"]}",
	    "{\"redirect_uris\":[\"/relative\"]}",
	    "{\"redirect_uris\":[1]}",
	    "{\"redirect_uris\":[\"https://a/1\",\"https://a/2\",\"https://a/3\",\"https://a/4\","
	    "\"https://a/5\",\"https://a/6\",\"https://a/7\",\"https://a/8\",\"https://a/9\","
	    "\"https://a/10\",\"https://a/11\"]}",
	    NULL};
	static const char *const bad_meta[] = {
	    "[1,2]",
	    "{\"redirect_uris\":[\"https://a.example/cb\"],\"client_name\":\"bad\\u0001name\"}",
	    "{\"redirect_uris\":[\"https://a.example/cb\"],\"client_name\":\"\"}",
	    /* invisible characters that change how the name reads on the
	     * consent page: right-to-left override, zero-width space, C1
	     * control, isolate, BOM, a tag character */
	    "{\"redirect_uris\":[\"https://a.example/cb\"],\"client_name\":\"ppa\\u202edoog\"}",
	    "{\"redirect_uris\":[\"https://a.example/cb\"],\"client_name\":\"Cl\\u200baude\"}",
	    "{\"redirect_uris\":[\"https://a.example/cb\"],\"client_name\":\"a\\u0085b\"}",
	    "{\"redirect_uris\":[\"https://a.example/cb\"],\"client_name\":\"a\\u2067b\"}",
	    "{\"redirect_uris\":[\"https://a.example/cb\"],\"client_name\":\"\\ufeffapp\"}",
	    "{\"redirect_uris\":[\"https://a.example/cb\"],\"client_name\":\"app\\udb40\\udc41\"}",
	    "{\"redirect_uris\":[\"https://a.example/cb\"],\"grant_types\":[\"implicit\"]}",
	    "{\"redirect_uris\":[\"https://a.example/cb\"],\"grant_types\":[\"refresh_token\"]}",
	    "{\"redirect_uris\":[\"https://a.example/cb\"],\"response_types\":[\"token\"]}",
	    "{\"redirect_uris\":[\"https://a.example/cb\"],\"client_uri\":\"javascript:x\"}",
	    "{\"redirect_uris\":[\"https://a.example/cb\"]",
	    NULL};
	static const struct {
		const char *const *bodies;
		const char *error;
	} bad[] = {{bad_uri, "invalid_redirect_uri"}, {bad_meta, "invalid_client_metadata"}};
	struct it_resp r;
	const char *h[] = {"Content-Type: text/plain", NULL};
	char cid[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (const char *const *b = bad[i].bodies; *b != NULL; b++) {
			assert_int_equal(it_json("POST", "/oauth/register", NULL, *b, &r), 0);
			if (r.status != 400 || r.json == NULL ||
			    strcmp(it_jstr(r.json, "error"), bad[i].error) != 0)
				fail_msg("registration %s: want 400 %s, got %ld %s", *b, bad[i].error,
				    r.status, r.body);
			oauth_err(&r, 400, bad[i].error);
			it_resp_free(&r);
		}
	assert_int_equal(it_request("POST", "/oauth/register", h, "{}", 2, &r), 0);
	oauth_err(&r, 400, "invalid_client_metadata");
	it_resp_free(&r);
	/* accepted: https, loopback http on any port, a native app's scheme */
	reg("Caf\u00e9 \u30a2\u30d7\u30ea", "[\"https://app.example/cb\"]", cid, sizeof(cid));
	reg("Good app", "[\"https://app.example/cb\",\"http://127.0.0.1/cb\","
			"\"http://[::1]:3000/cb\",\"http://localhost:1234/x?y=1\",\"com.example.app:/oauth\"]",
	    cid, sizeof(cid));
}

static void
t_authorize_refusals(void **state)
{
	static const struct {
		const char *uri, *why;
	} bad[] = {
	    {"https://evil.example/cb", "another host"},
	    {"https://app.example/cb/../../evil", "path traversal"},
	    {"https://app.example/cbx", "longer path"},
	    {"https://app.example/cb?next=https://evil.example", "extra query"},
	    {"https://app.example.evil.example/cb", "suffix host"},
	    {"http://127.0.0.1:7777/cb2", "loopback, other path"},
	    {"http://localhost:7777/cb", "loopback, other host name"},
	    {"https://other.example/cb", "another client's redirect URI"},
	};
	char cid[128], other[128], chal[64], q[2048];
	size_t i;

	(void)state;
	reg("Redirect test", "[\"" REDIR "\",\"https://app.example/cb\"]", cid, sizeof(cid));
	reg("Other app", "[\"https://other.example/cb\"]", other, sizeof(other));
	challenge(VERIFIER, chal);
	/* unknown client, unregistered or look-alike redirect URIs: shown,
	 * never redirected (no open redirect) */
	std_query(q, sizeof(q), "tgc_nosuchclientnosuchclientnosuchclientnosuchc", REDIR, chal, NULL);
	refused(q, "unknown client");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		std_query(q, sizeof(q), cid, bad[i].uri, chal, NULL);
		refused(q, bad[i].why);
	}
	/* the loopback port rule only lets the port change: nothing else may
	 * follow the host (userinfo would send the browser to evil.example) */
	{
		static const char *const lb[] = {"http://127.0.0.1:1@evil.example/cb",
		    "http://127.0.0.1:7777@evil.example/cb", "http://127.0.0.1:@evil.example/cb",
		    "http://127.0.0.1:77x/cb", "http://127.0.0.1:7777#@evil.example/cb",
		    "http://127.0.0.1:123456/cb", "http://127.0.0.1:7777\\@evil.example/cb",
		    "http://127.0.0.1:7777\r\nX-Injected: 1/cb", NULL};

		for (int k = 0; lb[k] != NULL; k++) {
			std_query(q, sizeof(q), cid, lb[k], chal, NULL);
			refused(q, lb[k]);
			/* nor an error redirect there (no PKCE: an error at the client) */
			snprintf(q, sizeof(q), "response_type=code&client_id=%s&redirect_uri=%s&state=st-1",
			    esc(cid), esc(lb[k]));
			refused(q, lb[k]);
		}
	}
	snprintf(q, sizeof(q), "response_type=code&client_id=%s&client_id=%s&redirect_uri=%s"
			       "&code_challenge=%s&code_challenge_method=S256",
	    esc(cid), esc(other), esc(REDIR), chal);
	refused(q, "client_id twice");
	/* known client and URI: errors go back to it, with the state */
	std_query(q, sizeof(q), cid, REDIR, chal, NULL);
	q[strstr(q, "&code_challenge_method") - q] = '\0';
	strcat(q, "&state=st-1");
	redirected_error(q, REDIR, "invalid_request"); /* no method: plain is not allowed */
	snprintf(q, sizeof(q), "response_type=code&client_id=%s&redirect_uri=%s&code_challenge=%s"
			       "&code_challenge_method=plain&state=st-1",
	    esc(cid), esc(REDIR), chal);
	redirected_error(q, REDIR, "invalid_request");
	snprintf(q, sizeof(q), "response_type=code&client_id=%s&redirect_uri=%s&state=st-1",
	    esc(cid), esc(REDIR));
	redirected_error(q, REDIR, "invalid_request");
	snprintf(q, sizeof(q), "response_type=token&client_id=%s&redirect_uri=%s&code_challenge=%s"
			       "&code_challenge_method=S256&state=st-1",
	    esc(cid), esc(REDIR), chal);
	redirected_error(q, REDIR, "unsupported_response_type");
	snprintf(q, sizeof(q), "response_type=code&client_id=%s&redirect_uri=%s&code_challenge=%s"
			       "&code_challenge_method=S256&state=st-1&resource=%s",
	    esc(cid), esc(REDIR), chal,
	    esc("https://other-server.example/mcp"));
	redirected_error(q, REDIR, "invalid_target");
	/* a loopback redirect URI may change its port (RFC 8252) */
	{
		char h[128];

		std_query(q, sizeof(q), cid, "http://127.0.0.1:40123/cb", chal, NULL);
		pending(q, h, sizeof(h));
	}
}

/* The consent page's "Sends you back to" names an http(s) host only for
 * http(s) itself: a native app's scheme that starts with "https" is an app. */
static void
t_display_host(void **state)
{
	char cid[128], chal[64], q[2048], h[128];
	const char *redir = "https.bank.example://bank.example/cb";
	json_t *j;

	(void)state;
	/* no client_name: the registration names it after the redirect URI */
	reg_count_reset();
	j = it_call("POST", "/oauth/register", NULL,
	    "{\"redirect_uris\":[\"https.bank.example://bank.example/cb\"]}", 201);
	snprintf(cid, sizeof(cid), "%s", it_jstr(j, "client_id"));
	json_decref(j);
	challenge(VERIFIER, chal);
	std_query(q, sizeof(q), cid, redir, chal, NULL);
	pending(q, h, sizeof(h));
	j = view(it_admin(), h, 200);
	if (strcmp(it_jstr(j, "redirect_host"), "https.bank.example (an app on this device)") != 0 ||
	    strcmp(it_jstr(j, "client_name"), "https.bank.example (an app on this device)") != 0)
		fail_msg("shown as redirect_host %s, client_name %s", it_jstr(j, "redirect_host"),
		    it_jstr(j, "client_name"));
	json_decref(j);
}

/* Anybody may start authorization requests, each a row until it expires:
 * per client and address they are limited (60 per 10-minute window), with a
 * page, never a redirect; another client is not affected. */
static void
t_authorize_rate(void **state)
{
	char cid[128], other[128], chal[64], q[2048], h[128];
	struct it_resp r;
	int i, admitted = 0, refused_at = 0;

	(void)state;
	reg("Rate test", "[\"" REDIR "\"]", cid, sizeof(cid));
	reg("Rate other", "[\"" REDIR "\"]", other, sizeof(other));
	challenge(VERIFIER, chal);
	std_query(q, sizeof(q), cid, REDIR, chal, NULL);
	/* two windows admit at most 120: a refusal comes by the 121st */
	for (i = 1; i <= 121 && refused_at == 0; i++) {
		authorize(q, &r);
		if (r.status == 302)
			admitted++;
		else if (r.status == 429 && it_header(&r, "Location") == NULL &&
		    it_header(&r, "Retry-After") != NULL && r.body != NULL &&
		    strstr(r.body, "too many sign-in requests") != NULL)
			refused_at = i;
		else
			fail_msg("authorization request %d: %ld %s", i, r.status, r.body ? r.body : "");
		it_resp_free(&r);
	}
	if (refused_at == 0 || admitted < 60)
		fail_msg("admitted %d, refused at %d", admitted, refused_at);
	std_query(q, sizeof(q), other, REDIR, chal, NULL);
	pending(q, h, sizeof(h));
}

/* Concurrent exchanges of one code: exactly one gets tokens (the row lock
 * of the exchange), whatever the interleaving. */
#define RACERS 8
struct racer {
	pthread_barrier_t *go;
	const char *body;
	long status;
};

static void *
race(void *arg)
{
	struct racer *rc = arg;
	const char *h[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
	struct it_resp r;

	(void)pthread_barrier_wait(rc->go);
	if (it_request("POST", "/oauth/token", h, rc->body, strlen(rc->body), &r) == 0) {
		rc->status = r.status;
		it_resp_free(&r);
	}
	return NULL;
}

static void
t_code_race(void **state)
{
	char cid[128], code[64], body[2048];
	struct racer rs[RACERS];
	pthread_t th[RACERS];
	pthread_barrier_t go;
	int i, round, ok;

	(void)state;
	reg("Race test", "[\"" REDIR "\"]", cid, sizeof(cid));
	for (round = 0; round < 3; round++) {
		get_code(it_admin(), cid, REDIR, VERIFIER, "{\"decision\":\"allow\"}", code, sizeof(code));
		snprintf(body, sizeof(body), "grant_type=authorization_code&client_id=%s&code=%s"
					     "&redirect_uri=%s&code_verifier=%s",
		    esc(cid), esc(code), esc(REDIR), esc(VERIFIER));
		assert_int_equal(pthread_barrier_init(&go, NULL, RACERS), 0);
		for (i = 0; i < RACERS; i++) {
			rs[i].go = &go;
			rs[i].body = body;
			rs[i].status = 0;
			assert_int_equal(pthread_create(&th[i], NULL, race, &rs[i]), 0);
		}
		for (i = 0, ok = 0; i < RACERS; i++) {
			assert_int_equal(pthread_join(th[i], NULL), 0);
			if (rs[i].status == 200)
				ok++;
			else if (rs[i].status != 400)
				fail_msg("racer %d: %ld", i, rs[i].status);
		}
		pthread_barrier_destroy(&go);
		if (ok != 1)
			fail_msg("round %d: %d of %d concurrent exchanges of one code got tokens",
			    round, ok, RACERS);
	}
}

static void
t_code_exchange(void **state)
{
	char cid[128], other[128], code[64], at[4096];
	struct it_resp r;

	(void)state;
	reg("Exchange test", "[\"" REDIR "\"]", cid, sizeof(cid));
	reg("Exchange other", "[\"" REDIR "\"]", other, sizeof(other));
	/* wrong verifier: refused, and the code is burned */
	get_code(it_admin(), cid, REDIR, VERIFIER, "{\"decision\":\"allow\"}", code, sizeof(code));
	exchange(cid, code, REDIR, VERIFIER "-wrong", &r);
	oauth_err(&r, 400, "invalid_grant");
	it_resp_free(&r);
	exchange(cid, code, REDIR, VERIFIER, &r);
	oauth_err(&r, 400, "invalid_grant");
	it_resp_free(&r);
	/* a verifier outside RFC 7636's alphabet or length */
	get_code(it_admin(), cid, REDIR, VERIFIER, "{\"decision\":\"allow\"}", code, sizeof(code));
	exchange(cid, code, REDIR, "short", &r);
	oauth_err(&r, 400, "invalid_grant");
	it_resp_free(&r);
	/* another client's code */
	get_code(it_admin(), cid, REDIR, VERIFIER, "{\"decision\":\"allow\"}", code, sizeof(code));
	exchange(other, code, REDIR, VERIFIER, &r);
	oauth_err(&r, 400, "invalid_grant");
	it_resp_free(&r);
	/* another redirect URI than the request's */
	get_code(it_admin(), cid, REDIR, VERIFIER, "{\"decision\":\"allow\"}", code, sizeof(code));
	exchange(cid, code, "http://127.0.0.1:7777/cb?x", VERIFIER, &r);
	oauth_err(&r, 400, "invalid_grant");
	it_resp_free(&r);
	/* reuse: the second exchange fails and revokes the first's tokens */
	get_code(it_admin(), cid, REDIR, VERIFIER, "{\"decision\":\"allow\"}", code, sizeof(code));
	exchange(cid, code, REDIR, VERIFIER, &r);
	assert_int_equal(r.status, 200);
	snprintf(at, sizeof(at), "%s", it_jstr(r.json, "access_token"));
	it_resp_free(&r);
	assert_int_equal(mcp_status(at), 200);
	exchange(cid, code, REDIR, VERIFIER, &r);
	oauth_err(&r, 400, "invalid_grant");
	it_resp_free(&r);
	assert_int_equal(mcp_status(at), 401);
	/* an unknown code, an unknown client, a grant type we do not have,
	 * a resource of another server */
	exchange(cid, "no-such-code", REDIR, VERIFIER, &r);
	oauth_err(&r, 400, "invalid_grant");
	it_resp_free(&r);
	exchange("tgc_unknown", code, REDIR, VERIFIER, &r);
	oauth_err(&r, 401, "invalid_client");
	it_resp_free(&r);
	form("/oauth/token", "grant_type=password&username=a&password=b&client_id=x", &r);
	oauth_err(&r, 400, "unsupported_grant_type");
	it_resp_free(&r);
	get_code(it_admin(), cid, REDIR, VERIFIER, "{\"decision\":\"allow\"}", code, sizeof(code));
	{
		char body[2048];

		snprintf(body, sizeof(body), "grant_type=authorization_code&client_id=%s&code=%s"
					     "&redirect_uri=%s&code_verifier=%s&resource=%s",
		    esc(cid), esc(code), esc(REDIR),
		    esc(VERIFIER), esc("https://other-server.example/mcp"));
		form("/oauth/token", body, &r);
		oauth_err(&r, 400, "invalid_target");
		it_resp_free(&r);
		/* a request without redirect_uri (the client has one): the token
		 * request may leave it out too; one that named it may not */
		{
			char chal[64], q[2048], h[128], to[2048], c2[64];

			challenge(VERIFIER, chal);
			snprintf(q, sizeof(q), "response_type=code&client_id=%s&code_challenge=%s"
					       "&code_challenge_method=S256&state=st-1",
			    esc(cid), chal);
			pending(q, h, sizeof(h));
			decide(it_admin(), h, "{\"decision\":\"allow\"}", to, sizeof(to));
			assert_true(strncmp(to, REDIR "?code=", strlen(REDIR) + 6) == 0);
			qparam(to, "code", c2, sizeof(c2));
			snprintf(body, sizeof(body), "grant_type=authorization_code&client_id=%s&code=%s"
						     "&code_verifier=%s",
			    esc(cid), esc(c2), esc(VERIFIER));
			form("/oauth/token", body, &r);
			assert_int_equal(r.status, 200);
			it_resp_free(&r);
			get_code(it_admin(), cid, REDIR, VERIFIER, "{\"decision\":\"allow\"}", c2, sizeof(c2));
			snprintf(body, sizeof(body), "grant_type=authorization_code&client_id=%s&code=%s"
						     "&code_verifier=%s",
			    esc(cid), esc(c2), esc(VERIFIER));
			form("/oauth/token", body, &r);
			oauth_err(&r, 400, "invalid_grant");
			it_resp_free(&r);
		}
		/* JSON instead of a form: a clear 400 */
		assert_int_equal(it_json("POST", "/oauth/token", NULL, "{\"grant_type\":\"authorization_code\"}", &r), 0);
		oauth_err(&r, 400, "invalid_request");
		it_resp_free(&r);
	}
}

static void
t_audience(void **state)
{
	char cid[128], at[4096], key[256];
	struct it_resp r;
	json_t *j;

	(void)state;
	reg("Audience test", "[\"" REDIR "\"]", cid, sizeof(cid));
	tokens(it_admin(), cid, "{\"decision\":\"allow\"}", at, sizeof(at), NULL, 0);
	assert_int_equal(mcp_status(at), 200);
	/* the REST API refuses an OAuth access token, with a clear reason */
	assert_int_equal(it_get("GET", "/api/v1/auth/me", at, &r), 0);
	assert_int_equal(r.status, 401);
	assert_non_null(strstr(it_jstr(r.json, "detail"), "/mcp only"));
	it_resp_free(&r);
	assert_int_equal(it_get("GET", "/api/v1/oauth/grants", at, &r), 0);
	assert_int_equal(r.status, 401);
	it_resp_free(&r);
	/* it cannot answer a consent request either (no escalation) */
	assert_int_equal(it_json("POST", "/api/v1/oauth/consent/decision", at,
			     with_request("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "{\"decision\":\"allow\"}"), &r),
	    0);
	assert_int_equal(r.status, 401);
	it_resp_free(&r);
	/* console tokens and API keys keep working at /mcp */
	assert_int_equal(mcp_status(it_admin()), 200);
	j = it_call("POST", "/api/v1/api-keys", it_admin(), "{\"name\":\"oauth-it\",\"role\":\"viewer\"}", 201);
	snprintf(key, sizeof(key), "%s", it_jstr(j, "key"));
	json_decref(j);
	assert_int_equal(mcp_status(key), 200);
}

static void
t_refresh(void **state)
{
	char cid[128], other[128], at[4096], rt[128], at2[4096], rt2[128], crt[256], ctok[4096];
	struct it_resp r;
	char body[512];

	(void)state;
	reg("Refresh test", "[\"" REDIR "\"]", cid, sizeof(cid));
	reg("Refresh other", "[\"" REDIR "\"]", other, sizeof(other));
	tokens(it_admin(), cid, "{\"decision\":\"allow\"}", at, sizeof(at), rt, sizeof(rt));
	/* another client cannot use it */
	refresh(other, rt, &r);
	oauth_err(&r, 400, "invalid_grant");
	it_resp_free(&r);
	/* the console's refresh endpoint refuses an OAuth refresh token */
	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", rt);
	assert_int_equal(it_json("POST", "/api/v1/auth/refresh", NULL, body, &r), 0);
	assert_int_equal(r.status, 401);
	it_resp_free(&r);
	/* and the token endpoint a console refresh token */
	assert_int_equal(it_login_full(it_env("TG_ADMIN_USER"), it_env("TG_ADMIN_PASSWORD"), ctok,
			     sizeof(ctok), crt, sizeof(crt)),
	    0);
	refresh(cid, crt, &r);
	oauth_err(&r, 400, "invalid_grant");
	it_resp_free(&r);
	/* rotation */
	refresh(cid, rt, &r);
	assert_int_equal(r.status, 200);
	snprintf(at2, sizeof(at2), "%s", it_jstr(r.json, "access_token"));
	snprintf(rt2, sizeof(rt2), "%s", it_jstr(r.json, "refresh_token"));
	it_resp_free(&r);
	assert_string_not_equal(rt, rt2);
	assert_int_equal(mcp_status(at2), 200);
	/* rt2 used: rt is no longer a retry within the reuse interval */
	refresh(cid, rt2, &r);
	assert_int_equal(r.status, 200);
	snprintf(rt2, sizeof(rt2), "%s", it_jstr(r.json, "refresh_token"));
	it_resp_free(&r);
	/* reuse of the old one: refused, and the whole family is revoked */
	refresh(cid, rt, &r);
	oauth_err(&r, 400, "invalid_grant");
	it_resp_free(&r);
	refresh(cid, rt2, &r);
	oauth_err(&r, 400, "invalid_grant");
	it_resp_free(&r);
	assert_int_equal(mcp_status(at2), 401);
	assert_int_equal(mcp_status(at), 401);
}

static void
t_consent(void **state)
{
	char cid[128], at[4096], rt[128], user[64], tok[4096], chal[64], q[2048], h[128];
	char path[256];
	json_t *j, *items, *it;
	struct it_resp r;
	long long gid = 0;
	size_t i;

	(void)state;
	snprintf(user, sizeof(user), "oauthdev%s", suffix);
	it_user_token(it_admin(), user, PW, "developer", tok, sizeof(tok));
	reg("Consent test", "[\"" REDIR "\"]", cid, sizeof(cid));
	/* the role ceiling: a developer cannot grant admin */
	challenge(VERIFIER, chal);
	std_query(q, sizeof(q), cid, REDIR, chal, NULL);
	pending(q, h, sizeof(h));
	j = view(tok, h, 200);
	it_match(j, "{\"client_name\":\"Consent test\",\"redirect_host\":\"127.0.0.1:7777\","
		    "\"roles\":[\"viewer\",\"developer\"],\"remembered_role\":null}");
	json_decref(j);
	assert_int_equal(decision_status(tok, h, "{\"decision\":\"allow\",\"role\":\"admin\"}"), 422);
	/* without a console session (no cookie is ever enough): 401 */
	assert_int_equal(decision_status(NULL, h, "{\"decision\":\"allow\"}"), 401);
	json_decref(view(NULL, h, 401));
	/* the handle is a body member, never in a path: nginx's access log
	 * (which records paths) never holds it; the old form is gone, and a
	 * view needs exactly the handle */
	if (it_sh("grep -qF '%s' '%s/log/access.log'", h, it_env("TG_VAR")) == 0)
		fail_msg("the consent handle is in the access log");
	assert_int_equal(it_sh("test -s '%s/log/access.log'", it_env("TG_VAR")), 0);
	assert_int_equal(it_status("GET", "/api/v1/oauth/authorizations/"
					  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
			     tok, NULL),
	    404);
	assert_int_equal(it_status("POST", "/api/v1/oauth/consent", tok, "{}"), 422);
	assert_int_equal(it_status("POST", "/api/v1/oauth/consent", tok,
			     with_request(h, "{\"x\":1}")),
	    422);
	/* lowered at consent: viewer */
	tokens(tok, cid, "{\"decision\":\"allow\",\"role\":\"viewer\"}", at, sizeof(at), rt, sizeof(rt));
	assert_int_equal(mcp_status(at), 200);
	lowered_stream_survives(at);
	/* remembered */
	pending(q, h, sizeof(h));
	j = view(tok, h, 200);
	assert_string_equal(it_jstr(j, "remembered_role"), "viewer");
	json_decref(j);
	/* a decided request cannot be decided again */
	{
		char to[2048];

		decide(tok, h, "{\"decision\":\"deny\"}", to, sizeof(to));
		assert_non_null(strstr(to, "error=access_denied"));
		assert_non_null(strstr(to, "state=st-1"));
		assert_int_equal(decision_status(tok, h, "{\"decision\":\"allow\"}"), 404);
		json_decref(view(tok, h, 404));
	}
	/* connected apps: listed; withdrawing cuts the tokens off */
	j = it_call("GET", "/api/v1/oauth/grants", tok, NULL, 200);
	items = json_object_get(j, "items");
	json_array_foreach(items, i, it)
		if (strcmp(it_jstr(it, "client_id"), cid) == 0)
			gid = it_jint(it, "id");
	json_decref(j);
	assert_true(gid > 0);
	/* not someone else's */
	{
		char other[64], otok[4096];

		snprintf(other, sizeof(other), "oauthview%s", suffix);
		it_user_token(it_admin(), other, PW, "viewer", otok, sizeof(otok));
		snprintf(path, sizeof(path), "/api/v1/oauth/grants/%lld", gid);
		assert_int_equal(it_status("DELETE", path, otok, NULL), 404);
	}
	snprintf(path, sizeof(path), "/api/v1/oauth/grants/%lld", gid);
	assert_int_equal(it_status("DELETE", path, tok, NULL), 204);
	assert_int_equal(mcp_status(at), 401);
	refresh(cid, rt, &r);
	oauth_err(&r, 400, "invalid_grant");
	it_resp_free(&r);
	pending(q, h, sizeof(h));
	j = view(tok, h, 200);
	assert_true(json_is_null(json_object_get(j, "remembered_role")));
	json_decref(j);
	/* a role change of the user cuts tokens off too */
	tokens(tok, cid, "{\"decision\":\"allow\"}", at, sizeof(at), NULL, 0);
	assert_int_equal(mcp_status(at), 200);
	{
		char upath[128];
		json_t *u = it_call("GET", "/api/v1/users?limit=200", it_admin(), NULL, 200);
		long long uid = 0;

		json_array_foreach(json_object_get(u, "items"), i, it)
			if (strcmp(it_jstr(it, "username"), user) == 0)
				uid = it_jint(it, "id");
		json_decref(u);
		snprintf(upath, sizeof(upath), "/api/v1/users/%lld", uid);
		it_callv("PATCH", upath, it_admin(), "{\"role\":\"viewer\"}", 200);
	}
	assert_int_equal(mcp_status(at), 401);
}

static void
t_revoke(void **state)
{
	char cid[128], at[4096], rt[128], body[8192];
	struct it_resp r;
	json_t *j, *it;
	size_t i;
	long long id = 0;
	char path[128];

	(void)state;
	reg("Revoke test", "[\"" REDIR "\"]", cid, sizeof(cid));
	tokens(it_admin(), cid, "{\"decision\":\"allow\"}", at, sizeof(at), rt, sizeof(rt));
	/* RFC 7009: the refresh token (its family and access tokens) */
	oauth_revoke(rt, cid, NULL);
	assert_int_equal(mcp_status(at), 401);
	refresh(cid, rt, &r);
	oauth_err(&r, 400, "invalid_grant");
	it_resp_free(&r);
	/* an access token alone */
	tokens(it_admin(), cid, "{\"decision\":\"allow\"}", at, sizeof(at), rt, sizeof(rt));
	oauth_revoke(at, cid, "access_token");
	assert_int_equal(mcp_status(at), 401);
	/* unknown tokens: 200 all the same; no token: 400 */
	oauth_revoke("nonsense", "x", NULL);
	form("/oauth/revoke", "client_id=x", &r);
	oauth_err(&r, 400, "invalid_request");
	it_resp_free(&r);
	/* only the client's own tokens: not another client's, and never a
	 * console token (issued to no client; an empty client_id is none) */
	{
		char other[128], ctok[4096], crt[256];

		reg("Revoke other", "[\"" REDIR "\"]", other, sizeof(other));
		tokens(it_admin(), cid, "{\"decision\":\"allow\"}", at, sizeof(at), rt, sizeof(rt));
		oauth_revoke(at, other, NULL);
		oauth_revoke(rt, other, NULL);
		assert_int_equal(mcp_status(at), 200);
		refresh(cid, rt, &r);
		assert_int_equal(r.status, 200);
		it_resp_free(&r);
		assert_int_equal(it_login_full(it_env("TG_ADMIN_USER"), it_env("TG_ADMIN_PASSWORD"), ctok,
				     sizeof(ctok), crt, sizeof(crt)),
		    0);
		oauth_revoke(ctok, "", NULL);
		assert_int_equal(it_status("GET", "/api/v1/auth/me", ctok, NULL), 200);
	}
	/* the existing revoke-all cuts OAuth tokens too */
	tokens(it_admin(), cid, "{\"decision\":\"allow\"}", at, sizeof(at), rt, sizeof(rt));
	assert_int_equal(mcp_status(at), 200);
	snprintf(body, sizeof(body), "{\"token\":\"%s\"}", at);
	it_callv("POST", "/api/v1/auth/revoke", it_admin(), body, 200);
	assert_int_equal(mcp_status(at), 401);
	/* an admin deletes the client: its tokens stop at once */
	tokens(it_admin(), cid, "{\"decision\":\"allow\"}", at, sizeof(at), rt, sizeof(rt));
	j = it_call("GET", "/api/v1/oauth/clients?limit=200", it_admin(), NULL, 200);
	json_array_foreach(json_object_get(j, "items"), i, it)
		if (strcmp(it_jstr(it, "client_id"), cid) == 0)
			id = it_jint(it, "id");
	json_decref(j);
	assert_true(id > 0);
	snprintf(path, sizeof(path), "/api/v1/oauth/clients/%lld", id);
	assert_int_equal(it_status("DELETE", path, it_admin(), NULL), 204);
	assert_int_equal(mcp_status(at), 401);
	refresh(cid, rt, &r);
	oauth_err(&r, 401, "invalid_client");
	it_resp_free(&r);
}

static void
t_framing(void **state)
{
	struct it_resp r;
	const char *csp, *xfo;

	(void)state;
	/* the consent page cannot be framed */
	assert_int_equal(it_get("GET", "/ui/consent.html", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	csp = it_header(&r, "Content-Security-Policy");
	assert_non_null(csp);
	assert_non_null(strstr(csp, "frame-ancestors 'none'"));
	xfo = it_header(&r, "X-Frame-Options");
	assert_non_null(xfo);
	assert_string_equal(xfo, "DENY");
	assert_non_null(strstr(r.body, "/ui/consent.js"));
	it_resp_free(&r);
	assert_int_equal(it_get("GET", "/ui/consent.js", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	it_resp_free(&r);
	/* nor the authorization endpoint's own error page */
	assert_int_equal(it_get("GET", "/oauth/authorize?client_id=nope", NULL, &r), 0);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(it_header(&r, "Content-Security-Policy"), "frame-ancestors 'none'"));
	assert_string_equal(it_header(&r, "X-Frame-Options"), "DENY");
	assert_non_null(strstr(it_header(&r, "Content-Type"), "text/html"));
	it_resp_free(&r);
}

static void
t_admin_only(void **state)
{
	char user[64], tok[4096];

	(void)state;
	snprintf(user, sizeof(user), "oauthv2%s", suffix);
	it_user_token(it_admin(), user, PW, "viewer", tok, sizeof(tok));
	assert_int_equal(it_status("GET", "/api/v1/oauth/clients", tok, NULL), 403);
	assert_int_equal(it_status("DELETE", "/api/v1/oauth/clients/1", tok, NULL), 403);
	assert_int_equal(it_status("GET", "/api/v1/oauth/grants", tok, NULL), 200);
	assert_int_equal(it_status("DELETE", "/api/v1/oauth/grants/999999999", tok, NULL), 404);
	assert_int_equal(it_status("DELETE", "/api/v1/oauth/grants/abc", tok, NULL), 404);
	/* the operation table's MCP side: an admin's management tools */
	{
		char sid[128], cid[128], args[256];
		json_t *res, *sc, *it;
		long long id = 0;
		size_t i;

		reg("MCP delete test", "[\"" REDIR "\"]", cid, sizeof(cid));
		it_mcp_init(it_admin(), IT_MCP_VERSION, sid, sizeof(sid));
		res = it_mcp_call(it_admin(), sid, IT_MCP_VERSION, "toolgate_list_oauth_clients",
		    "{\"limit\":200}", NULL);
		it_tool_ok(res);
		sc = json_object_get(json_object_get(res, "structuredContent"), "items");
		json_array_foreach(sc, i, it)
			if (strcmp(it_jstr(it, "client_id"), cid) == 0)
				id = it_jint(it, "id");
		json_decref(res);
		assert_true(id > 0);
		snprintf(args, sizeof(args), "{\"id\":%lld}", id);
		res = it_mcp_call(it_admin(), sid, IT_MCP_VERSION, "toolgate_delete_oauth_client", args, NULL);
		it_tool_ok(res);
		json_decref(res);
		it_sql_expect("0", "SELECT count(*) FROM oauth_clients WHERE client_id = '%s'", cid);
	}
}

static void
t_register_rate(void **state)
{
	struct it_resp r;
	char n[32];

	(void)state;
	/* the address's registrations at the limit (20), set here whatever
	 * the count was: in this hour's window and the next one (the hour
	 * may turn before the request) */
	it_sql(n, sizeof(n), "WITH w AS (INSERT INTO rate_limits AS r (bucket, window_start, hits)"
			     " SELECT 'oauth-reg:127.0.0.1', s, 20 FROM (SELECT extract(epoch FROM"
			     " clock_timestamp())::bigint / 3600 * 3600 AS h) t, generate_series(h, h + 3600, 3600) s"
			     " ON CONFLICT (bucket, window_start) DO UPDATE SET hits = 20 RETURNING hits)"
			     " SELECT count(*) FROM w");
	assert_string_equal(n, "2");
	assert_int_equal(it_json("POST", "/oauth/register", NULL,
			     "{\"redirect_uris\":[\"https://rate.example/cb\"]}", &r),
	    0);
	oauth_err(&r, 429, "invalid_request");
	assert_non_null(it_header(&r, "Retry-After"));
	it_resp_free(&r);
	it_sql(n, sizeof(n), "DELETE FROM rate_limits WHERE bucket = 'oauth-reg:127.0.0.1'");
	assert_int_equal(it_json("POST", "/oauth/register", NULL,
			     "{\"redirect_uris\":[\"https://rate.example/cb\"]}", &r),
	    0);
	assert_int_equal(r.status, 201);
	it_resp_free(&r);
}

/* An OAuth access token is counted by the rate limiter like the user's
 * other credentials (its bucket is the user's): a fresh viewer, a limit
 * of 3, seven MCP requests meet a 429 in any split across two windows. */
static void
t_oauth_token_rate_limited(void **state)
{
	char cid[128], user[64], tok[4096], at[4096], saved[512];
	struct it_resp r;
	int i, limited = 0;

	(void)state;
	snprintf(user, sizeof(user), "oauthrl%s", suffix);
	it_user_token(it_admin(), user, PW, "viewer", tok, sizeof(tok));
	reg("Rate test", "[\"" REDIR "\"]", cid, sizeof(cid));
	tokens(tok, cid, "{\"decision\":\"allow\"}", at, sizeof(at), NULL, 0);
	it_rate_limit_set("viewer", 3, saved, sizeof(saved));
	for (i = 0; i < 7; i++) {
		it_mcp_post(at, NULL, IT_MCP_VERSION, "{\"jsonrpc\":\"2.0\",\"id\":1,"
						      "\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"" IT_MCP_VERSION "\","
						      "\"capabilities\":{},\"clientInfo\":{\"name\":\"rl\",\"version\":\"1\"}}}",
		    &r);
		if (r.status == 429 && it_header(&r, "Retry-After") != NULL)
			limited++;
		else if (r.status != 200)
			fail_msg("initialize with an OAuth token: %ld %s", r.status, r.body);
		it_resp_free(&r);
	}
	it_rate_limit_restore(saved);
	if (limited < 1)
		fail_msg("7 requests with an OAuth token under a limit of 3: no 429");
}

/* ---- faults: a lock held, a connection dropped, the database down ---- */

/* A 503 problem document with Retry-After (never a 500, never a hang). */
static void
unavailable(const struct it_resp *r, const char *what)
{
	if (r->status != 503 || it_header(r, "Retry-After") == NULL ||
	    r->json == NULL || json_object_get(r->json, "type") == NULL)
		fail_msg("%s: want 503 problem + Retry-After, got %ld %s", what, r->status,
		    r->body ? r->body : "");
}

struct faulted {
	const char *path, *body;
	struct it_resp r;
};

static void *
faulted_post(void *arg)
{
	struct faulted *f = arg;
	const char *h[] = {"Content-Type: application/x-www-form-urlencoded", NULL};

	if (it_request("POST", f->path, h, f->body, strlen(f->body), &f->r) != 0)
		f->r.status = -1;
	return NULL;
}

/* POSTs body to path while table is locked; once the request waits on
 * the lock, its database connection is killed: 503, nothing half done. */
static void
dropped_mid_request(const char *table, const char *path, const char *body)
{
	struct faulted f = {path, body, {0}};
	pthread_t th;
	char v[32];
	FILE *lk = it_lock_table(table);

	assert_int_equal(pthread_create(&th, NULL, faulted_post, &f), 0);
	/* the worker's backend, waiting on our lock */
	it_sql(v, sizeof(v), "SELECT pg_terminate_backend(%ld)", it_lock_waiter(table));
	assert_int_equal(pthread_join(th, NULL), 0);
	it_unlock_table(lk);
	unavailable(&f.r, path);
	it_resp_free(&f.r);
}

/* The two faults on a token request (form body): its last statement (the
 * audit row) waits on a locked audit_log until lock_timeout, then its
 * connection is killed while it waits; 503 + Retry-After both times. */
static void
token_faults(const char *body)
{
	struct it_resp r;
	FILE *lk = it_lock_table("audit_log");

	form("/oauth/token", body, &r);
	it_unlock_table(lk);
	unavailable(&r, "token request, audit_log locked");
	it_resp_free(&r);
	dropped_mid_request("audit_log", "/oauth/token", body);
}

/* A token request (form body) that must succeed; its refresh token. */
static void
token_ok(const char *body, char *rt, size_t cap)
{
	struct it_resp r;

	form("/oauth/token", body, &r);
	if (r.status != 200)
		fail_msg("token request after the faults: %ld %s", r.status, r.body);
	snprintf(rt, cap, "%s", it_jstr(r.json, "refresh_token"));
	it_resp_free(&r);
}

/*
 * The token endpoint under faults: a statement that times out on a lock
 * (the last one of the exchange, its audit row) and a connection dropped
 * in the middle of the exchange or the refresh answer 503 + Retry-After,
 * and leave nothing half done: the code is not burned (the same code
 * then gets its tokens), the refresh token is not rotated (the same one
 * then works, and its successor too).
 */
static void
t_token_faults(void **state)
{
	char cid[128], code[64], body[2048], rt[128];

	(void)state;
	reg("Fault test", "[\"" REDIR "\"]", cid, sizeof(cid));
	get_code(it_admin(), cid, REDIR, VERIFIER, "{\"decision\":\"allow\"}", code, sizeof(code));
	snprintf(body, sizeof(body), "grant_type=authorization_code&client_id=%s&code=%s"
				     "&redirect_uri=%s&code_verifier=%s&resource=%s",
	    esc(cid), esc(code), esc(REDIR), esc(VERIFIER), esc(resource));
	token_faults(body);
	/* the code was never used: it still gets its tokens (once) */
	token_ok(body, rt, sizeof(rt));
	/* the refresh: the same two faults; not rotated: the same refresh
	 * token works (no reuse detected), and the one it returns too */
	snprintf(body, sizeof(body), "grant_type=refresh_token&client_id=%s&refresh_token=%s",
	    esc(cid), esc(rt));
	token_faults(body);
	token_ok(body, rt, sizeof(rt));
	snprintf(body, sizeof(body), "grant_type=refresh_token&client_id=%s&refresh_token=%s",
	    esc(cid), esc(rt));
	token_ok(body, rt, sizeof(rt));
}

/*
 * PostgreSQL down: every OAuth endpoint and the consent API answer 503 +
 * Retry-After (a problem document), never a 500 or a hang; after the
 * restart the pending authorization and the code flow work again.
 */
static void
t_database_down(void **state)
{
	char cid[128], chal[64], q[2048], h[128], to[2048], code[64], path[256];
	struct it_resp r;

	(void)state;
	reg("Down test", "[\"" REDIR "\"]", cid, sizeof(cid));
	challenge(VERIFIER, chal);
	std_query(q, sizeof(q), cid, REDIR, chal, NULL);
	pending(q, h, sizeof(h));
	(void)it_admin(); /* signed in before the database goes */
	assert_int_equal(it_sh("bash %s pg-stop >/dev/null 2>&1", it_env("TG_STACK")), 0);
	assert_int_equal(it_json("POST", "/oauth/register", NULL,
			     "{\"redirect_uris\":[\"" REDIR "\"]}", &r),
	    0);
	unavailable(&r, "register");
	it_resp_free(&r);
	authorize(q, &r);
	unavailable(&r, "authorize");
	it_resp_free(&r);
	exchange(cid, "x123", REDIR, VERIFIER, &r);
	unavailable(&r, "token");
	it_resp_free(&r);
	form("/oauth/revoke", "token=abc&client_id=x", &r);
	unavailable(&r, "revoke");
	it_resp_free(&r);
	snprintf(path, sizeof(path), "/api/v1/oauth/consent/decision");
	assert_int_equal(it_json("POST", "/api/v1/oauth/consent", it_admin(),
			     with_request(h, "{}"), &r),
	    0);
	unavailable(&r, "consent view");
	it_resp_free(&r);
	assert_int_equal(it_json("POST", path, it_admin(),
			     with_request(h, "{\"decision\":\"allow\"}"), &r),
	    0);
	unavailable(&r, "consent decision");
	it_resp_free(&r);
	assert_int_equal(it_sh("bash %s pg-start >/dev/null 2>&1", it_env("TG_STACK")), 0);
	assert_int_equal(it_wait_status("/ready", 200, 30000), 0);
	/* the pending request survived; the flow completes */
	for (int i = 0; i < 60; i++) { /* each worker reconnects at its next request */
		assert_int_equal(it_json("POST", path, it_admin(),
				     with_request(h, "{\"decision\":\"allow\"}"), &r),
		    0);
		if (r.status != 503)
			break;
		it_resp_free(&r);
		usleep(500 * 1000);
	}
	if (r.status != 200)
		fail_msg("decision after the restart: %ld %s", r.status, r.body);
	snprintf(to, sizeof(to), "%s", it_jstr(r.json, "redirect_to"));
	it_resp_free(&r);
	qparam(to, "code", code, sizeof(code));
	exchange(cid, code, REDIR, VERIFIER, &r);
	assert_int_equal(r.status, 200);
	it_resp_free(&r);
}

static int
group_setup(void **state)
{
	(void)state;
	snprintf(suffix, sizeof(suffix), "%ld%d", (long)time(NULL) % 1000000, rand() % 1000);
	snprintf(resource, sizeof(resource), "%s/mcp", it_base());
	return 0;
}

/* A refresh at the token endpoint that must succeed: the new pair. */
static void
refresh_ok(const char *cid, const char *rt, char *at2, char *rt2)
{
	struct it_resp r;

	refresh(cid, rt, &r);
	if (r.status != 200)
		fail_msg("refresh: %ld %s", r.status, r.body);
	snprintf(at2, 4096, "%s", it_jstr(r.json, "access_token"));
	snprintf(rt2, 128, "%s", it_jstr(r.json, "refresh_token"));
	it_resp_free(&r);
}

/*
 * The reuse interval (docs/security.md) at the token endpoint, with the
 * default setting: a retry of a rotated refresh token whose successor is
 * unused gets a fresh pair and kills that successor (its access token
 * too); the superseded token presented later is reuse (RFC 9700 4.14.2):
 * the family is revoked. A reused code: the revocation of its tokens and
 * its audit row ("reuse_detected") commit together: with the audit row
 * failing (audit_log locked) it is a 503 and the tokens stay alive.
 */
static void
t_refresh_retry(void **state)
{
	char cid[128], at[4096], rt[128], at2[4096], rt2[128], at3[4096], rt3[128], code[64];
	struct it_resp r;
	FILE *lk;
	int i;

	(void)state;
	reg("Retry test", "[\"" REDIR "\"]", cid, sizeof(cid));
	tokens(it_admin(), cid, "{\"decision\":\"allow\"}", at, sizeof(at), rt, sizeof(rt));
	refresh_ok(cid, rt, at2, rt2);
	/* the answer was lost: the client retries */
	refresh_ok(cid, rt, at3, rt3);
	assert_string_not_equal(rt2, rt3);
	assert_int_equal(mcp_status(at2), 401);
	assert_int_equal(mcp_status(at3), 200);
	/* the superseded one comes back: two holders; the family dies */
	refresh(cid, rt2, &r);
	oauth_err(&r, 400, "invalid_grant");
	it_resp_free(&r);
	assert_int_equal(mcp_status(at3), 401);
	refresh(cid, rt3, &r);
	oauth_err(&r, 400, "invalid_grant");
	it_resp_free(&r);
	/* one code exchanged three times: 200; again with the audit row
	 * failing: 503, the first tokens alive; again: 400 and revoked */
	get_code(it_admin(), cid, REDIR, VERIFIER, "{\"decision\":\"allow\"}", code, sizeof(code));
	for (i = 0; i < 3; i++) {
		lk = i == 1 ? it_lock_table("audit_log") : NULL;
		exchange(cid, code, REDIR, VERIFIER, &r);
		if (lk != NULL)
			it_unlock_table(lk);
		if (i == 0 && r.status == 200)
			snprintf(at, sizeof(at), "%s", it_jstr(r.json, "access_token"));
		else if (i == 1)
			unavailable(&r, "code reuse, audit_log locked");
		else
			oauth_err(&r, 400, "invalid_grant");
		it_resp_free(&r);
		assert_int_equal(mcp_status(at), i < 2 ? 200 : 401);
	}
	it_sql_expect("1", "SELECT count(*) FROM audit_log WHERE action = 'oauth.token'"
			   " AND outcome = 'reuse_detected' AND target = '%s'",
	    cid);
}

TG_TEST_MAIN("oauth", group_setup, NULL, t_discovery, t_register_bad,
    t_authorize_refusals, t_display_host, t_authorize_rate, t_code_exchange,
    t_code_race, t_audience, t_refresh, t_consent, t_revoke, t_framing,
    t_admin_only, t_register_rate, t_token_faults, t_database_down,
    t_oauth_token_rate_limited, t_refresh_retry)
