/*
 * test_export.c - export/import end to end through nginx with real logins,
 * plus validate and test runs through the real sandbox helper.
 *
 *   - export over REST: servers, tools, full version history, settings,
 *     secret names; never a secret value (nor ciphertext or nonce)
 *   - round trip: delete the servers through the API, import the exported
 *     document (keep_status), export again and compare field by field
 *   - into an EMPTY database: CREATE DATABASE, `toolgate migrate`,
 *     `toolgate import` (tools arrive as drafts), `toolgate export`, compare
 *   - 409 on name conflicts (nothing changed), 422 with field paths,
 *     403 for a developer on both routes, 400 for a bad flag
 *   - POST /validate and POST /tools/{id}/test: a value, an exception, a
 *     syntax error (422 with line and column on save)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/it.h"

static char admin_tok[2048], dev_tok[2048];
static char sfx[32];
static char srv_a[64], srv_b[64];
static long long tool_val = 0, tool_raise = 0;

#define SECRET_VALUE "s3cr3t-value-never-exported-7f1c"

static json_t *
call(const char *method, const char *path, const char *tok, const char *body,
    long want)
{
	struct it_resp r = {0};
	json_t *j;

	if (body)
		assert_int_equal(it_json(method, path, tok, body, &r), 0);
	else
		assert_int_equal(it_get(method, path, tok, &r), 0);
	if (r.status != want)
		fail_msg("%s %s: want %ld, got %ld: %s", method, path, want, r.status,
		    r.body ? r.body : "");
	j = r.json ? json_incref(r.json) : NULL;
	it_resp_free(&r);
	return j;
}

static void
callv(const char *method, const char *path, const char *tok, const char *body,
    long want)
{
	json_decref(call(method, path, tok, body, want));
}

/* POST a JSON value (serialised here). */
static json_t *
post_json(const char *path, const char *tok, json_t *body, long want)
{
	char *txt = json_dumps(body, JSON_COMPACT);
	json_t *j;

	assert_non_null(txt);
	j = call("POST", path, tok, txt, want);
	free(txt);
	return j;
}

static void
login(const char *user, const char *pw, char *tok, size_t cap)
{
	char body[512];
	json_t *j;

	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}", user, pw);
	j = call("POST", "/api/v1/auth/login", NULL, body, 200);
	snprintf(tok, cap, "%s", json_string_value(json_object_get(j, "access_token")));
	json_decref(j);
}

static long long
mk_tool(const char *server, const char *name, const char *code, const char *desc)
{
	char path[160];
	json_t *body, *j;
	long long id;

	body = json_pack("{s:s, s:s, s:s}", "name", name, "code", code, "description", desc);
	snprintf(path, sizeof(path), "/api/v1/servers/%s/tools", server);
	j = post_json(path, dev_tok, body, 201);
	id = json_integer_value(json_object_get(j, "id"));
	json_decref(body);
	json_decref(j);
	return id;
}

static int
setup(void **state)
{
	char body[512], name[64], path[256];
	long long t;

	(void)state;
	snprintf(sfx, sizeof(sfx), "%ld%d", (long)time(NULL) % 100000, (int)getpid() % 1000);
	login(it_env("TG_ADMIN_USER"), it_env("TG_ADMIN_PASSWORD"), admin_tok,
	    sizeof(admin_tok));
	snprintf(name, sizeof(name), "ex_dev_%s", sfx);
	snprintf(body, sizeof(body),
	    "{\"username\":\"%s\",\"password\":\"export-pass-123\",\"role\":\"developer\"}", name);
	callv("POST", "/api/v1/users", admin_tok, body, 201);
	login(name, "export-pass-123", dev_tok, sizeof(dev_tok));

	/* Server A: two tools, one with three versions and approved; a secret
	 * with a value and a placeholder; an approved network host. */
	snprintf(srv_a, sizeof(srv_a), "exa_%s", sfx);
	snprintf(srv_b, sizeof(srv_b), "exb_%s", sfx);
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"description\":\"export A\"}", srv_a);
	callv("POST", "/api/v1/servers", dev_tok, body, 201);
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"tool_prefix\":\"b_%s_\"}", srv_b, sfx);
	callv("POST", "/api/v1/servers", dev_tok, body, 201);

	tool_val = mk_tool(srv_a, "add", "def main(a: int, b: int = 1):\n    return a + b\n", "adds");
	snprintf(path, sizeof(path), "/api/v1/tools/%lld", tool_val);
	callv("PATCH", path, dev_tok, "{\"description\":\"adds two numbers\"}", 200);
	callv("PATCH", path, dev_tok,
	    "{\"code\":\"def main(a: int, b: int = 2):\\n    return a + b\\n\","
	    "\"change_summary\":\"default b=2\"}", 200);
	snprintf(path, sizeof(path), "/api/v1/tools/%lld/submit", tool_val);
	callv("POST", path, dev_tok, NULL, 200);
	snprintf(path, sizeof(path), "/api/v1/tools/%lld/approve", tool_val);
	callv("POST", path, admin_tok, "{\"reason\":\"fine\"}", 200);
	tool_raise = mk_tool(srv_a, "boom", "def main():\n    raise ValueError('nope')\n", "raises");
	t = mk_tool(srv_b, "echo", "def main(text: str):\n    return text\n", "echo");
	(void)t;

	snprintf(path, sizeof(path), "/api/v1/servers/%s/secrets", srv_a);
	callv("POST", path, admin_tok, "{\"key\":\"API_KEY\",\"description\":\"k\",\"value\":\""
	    SECRET_VALUE "\"}", 201);
	callv("POST", path, dev_tok, "{\"key\":\"PLACEHOLDER\"}", 201);
	return 0;
}

/* The entry of the server named name in an export document (borrowed). */
static json_t *
find_server(json_t *doc, const char *name)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(doc, "servers"), i, s)
		if (strcmp(json_string_value(json_object_get(s, "name")), name) == 0)
			return s;
	return NULL;
}

/* A document with only our two servers (other tests share the stack). */
static json_t *
our_doc(json_t *full)
{
	json_t *d = json_pack("{s:s, s:O, s:O, s:[O, O]}", "format", "toolgate-export",
	    "format_version", json_object_get(full, "format_version"), "settings",
	    json_object_get(full, "settings"), "servers", find_server(full, srv_a),
	    find_server(full, srv_b));

	assert_non_null(d);
	return d;
}

/* What cannot survive an export: secret values and version authors
 * (user ids are per database); optionally statuses (draft import). */
static void
normalise(json_t *srv, int drafts)
{
	json_t *x, *t, *v;
	size_t i, j;

	json_array_foreach(json_object_get(srv, "secrets"), i, x)
		json_object_set_new(x, "has_value", json_false());
	json_array_foreach(json_object_get(srv, "tools"), i, t) {
		json_array_foreach(json_object_get(t, "versions"), j, v)
			json_object_set_new(v, "author", json_null());
		if (drafts) {
			json_object_set_new(t, "status", json_string("draft"));
			json_object_set_new(t, "approved_version", json_null());
			json_object_set_new(t, "review_reason", json_null());
		}
	}
	if (drafts)
		json_object_set_new(srv, "status", json_string("stopped"));
}

/* Field-by-field comparison with a useful message on the first difference. */
static void
same(json_t *a, json_t *b, const char *path)
{
	const char *k;
	json_t *v;
	size_t i;
	char p[512];

	if (json_is_object(a) && json_is_object(b)) {
		json_object_foreach(a, k, v) {
			snprintf(p, sizeof(p), "%s.%s", path, k);
			if (json_object_get(b, k) == NULL)
				fail_msg("%s: missing after import", p);
			same(v, json_object_get(b, k), p);
		}
		if (json_object_size(a) != json_object_size(b))
			fail_msg("%s: %zu members before, %zu after", path,
			    json_object_size(a), json_object_size(b));
	} else if (json_is_array(a) && json_is_array(b)) {
		if (json_array_size(a) != json_array_size(b))
			fail_msg("%s: %zu items before, %zu after", path,
			    json_array_size(a), json_array_size(b));
		for (i = 0; i < json_array_size(a); i++) {
			snprintf(p, sizeof(p), "%s[%zu]", path, i);
			same(json_array_get(a, i), json_array_get(b, i), p);
		}
	} else if (!json_equal(a, b)) {
		char *x = json_dumps(a, JSON_ENCODE_ANY), *y = json_dumps(b, JSON_ENCODE_ANY);

		fail_msg("%s: %s before, %s after", path, x ? x : "?", y ? y : "?");
	}
}

static void
test_export_contents(void **state)
{
	struct it_resp r = {0};
	json_t *doc, *a, *t, *vs;

	(void)state;
	assert_int_equal(it_get("GET", "/api/v1/export", admin_tok, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(r.json);
	/* no secret value anywhere in the raw body, no crypto material */
	assert_null(strstr(r.body, SECRET_VALUE));
	assert_null(strstr(r.body, "ciphertext"));
	assert_null(strstr(r.body, "nonce"));
	doc = r.json;
	assert_string_equal(json_string_value(json_object_get(doc, "format")), "toolgate-export");
	assert_int_equal(json_integer_value(json_object_get(doc, "format_version")), 1);
	assert_true(json_is_array(json_object_get(json_object_get(doc, "settings"),
	    "allowed_modules")));
	a = find_server(doc, srv_a);
	assert_non_null(a);
	assert_string_equal(json_string_value(json_object_get(a, "description")), "export A");
	assert_int_equal(json_array_size(json_object_get(a, "secrets")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(a, "secrets"), 0), "key")), "API_KEY");
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(a,
	    "secrets"), 0), "has_value")));
	assert_null(json_object_get(json_array_get(json_object_get(a, "secrets"), 0), "value"));
	/* tools by name: add, boom; add has 3 versions and is approved at 3 */
	t = json_array_get(json_object_get(a, "tools"), 0);
	assert_string_equal(json_string_value(json_object_get(t, "name")), "add");
	assert_string_equal(json_string_value(json_object_get(t, "status")), "approved");
	assert_int_equal(json_integer_value(json_object_get(t, "current_version")), 3);
	assert_int_equal(json_integer_value(json_object_get(t, "approved_version")), 3);
	vs = json_object_get(t, "versions");
	assert_int_equal(json_array_size(vs), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(vs, 0),
	    "description")), "adds");
	assert_string_equal(json_string_value(json_object_get(json_array_get(vs, 2),
	    "change_summary")), "default b=2");
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(vs, 2),
	    "code")), "b: int = 2"));
	assert_non_null(find_server(doc, srv_b));
	it_resp_free(&r);
}

static void
test_roles(void **state)
{
	(void)state;
	callv("GET", "/api/v1/export", dev_tok, NULL, 403);
	callv("POST", "/api/v1/import", dev_tok,
	    "{\"format\":\"toolgate-export\",\"format_version\":1,\"servers\":[]}", 403);
	callv("GET", "/api/v1/export", NULL, NULL, 401);
	callv("POST", "/api/v1/import?keep_status=maybe", admin_tok,
	    "{\"format\":\"toolgate-export\",\"format_version\":1,\"servers\":[]}", 400);
}

static int
has_field(json_t *problem, const char *field)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(problem, "errors"), i, e)
		if (strcmp(json_string_value(json_object_get(e, "field")), field) == 0)
			return 1;
	return 0;
}

static void
test_validation_422(void **state)
{
	json_t *j;
	char body[2048];

	(void)state;
	j = call("POST", "/api/v1/import", admin_tok,
	    "{\"format\":\"toolgate-export\",\"format_version\":2,\"servers\":[]}", 422);
	assert_true(has_field(j, "format_version"));
	json_decref(j);
	j = call("POST", "/api/v1/import", admin_tok,
	    "{\"format\":\"toolgate-export\",\"format_version\":1,\"servers\":[],\"x\":1}", 422);
	assert_true(has_field(j, "x"));
	json_decref(j);
	/* bad names, duplicate tool, version not increasing, current_version
	 * not the last, content mismatch, unknown member deep down */
	snprintf(body, sizeof(body),
	    "{\"format\":\"toolgate-export\",\"format_version\":1,\"servers\":["
	    "{\"name\":\"Bad Name\",\"tools\":[]},"
	    "{\"name\":\"ok_%s\",\"secrets\":[{\"key\":\"1bad\"}],\"tools\":["
	    "{\"name\":\"t\",\"code\":\"def main():\\n  return 1\\n\",\"current_version\":1,"
	    " \"versions\":[{\"version\":1,\"code\":\"def main():\\n  return 1\\n\",\"bogus\":1}]},"
	    "{\"name\":\"t\",\"code\":\"x\",\"current_version\":2,"
	    " \"versions\":[{\"version\":2,\"code\":\"x\"},{\"version\":1,\"code\":\"x\"}]},"
	    "{\"name\":\"u\",\"code\":\"new\",\"current_version\":1,"
	    " \"versions\":[{\"version\":1,\"code\":\"old\"}]}]}]}", sfx);
	j = call("POST", "/api/v1/import", admin_tok, body, 422);
	assert_true(has_field(j, "servers[0].name"));
	assert_true(has_field(j, "servers[1].secrets[0].key"));
	assert_true(has_field(j, "servers[1].tools[0].versions[0].bogus"));
	assert_true(has_field(j, "servers[1].tools[1].name"));
	assert_true(has_field(j, "servers[1].tools[1].versions[1].version"));
	assert_true(has_field(j, "servers[1].tools[1].current_version"));
	assert_true(has_field(j, "servers[1].tools[2].versions"));
	json_decref(j);
	/* nothing of it was created */
	snprintf(body, sizeof(body), "/api/v1/servers/ok_%s", sfx);
	callv("GET", body, admin_tok, NULL, 404);
}

static void
test_conflict_409(void **state)
{
	struct it_resp r = {0};
	json_t *doc, *j, *before, *after;
	char path[160];

	(void)state;
	assert_int_equal(it_get("GET", "/api/v1/export", admin_tok, &r), 0);
	assert_int_equal(r.status, 200);
	doc = our_doc(r.json);
	it_resp_free(&r);
	snprintf(path, sizeof(path), "/api/v1/servers/%s/tools", srv_a);
	before = call("GET", path, admin_tok, NULL, 200);
	j = post_json("/api/v1/import", admin_tok, doc, 409);
	assert_true(has_field(j, "servers[0].name"));
	assert_true(has_field(j, "servers[1].name"));
	json_decref(j);
	/* unchanged: same tools, same versions */
	after = call("GET", path, admin_tok, NULL, 200);
	assert_true(json_equal(before, after));
	json_decref(before);
	json_decref(after);
	json_decref(doc);
}

/* Export, delete both servers through the API, import (keep_status),
 * export again: identical but for secret values and authors. */
static void
test_roundtrip_rest(void **state)
{
	struct it_resp r = {0};
	json_t *doc, *res, *again, *a1, *a2, *t;
	char path[160];
	size_t i;

	(void)state;
	assert_int_equal(it_get("GET", "/api/v1/export", admin_tok, &r), 0);
	assert_int_equal(r.status, 200);
	doc = our_doc(r.json);
	it_resp_free(&r);

	snprintf(path, sizeof(path), "/api/v1/servers/%s", srv_a);
	callv("DELETE", path, admin_tok, NULL, 204);
	snprintf(path, sizeof(path), "/api/v1/servers/%s", srv_b);
	callv("DELETE", path, admin_tok, NULL, 204);

	res = post_json("/api/v1/import?keep_status=true&settings=false", admin_tok, doc, 201);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "counts"),
	    "servers")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "counts"),
	    "tools")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "counts"),
	    "versions")), 5);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "counts"),
	    "secrets")), 2);
	assert_true(json_is_false(json_object_get(res, "settings_applied")));
	/* remember the new ids of the tools for the sandbox tests */
	json_array_foreach(json_object_get(json_array_get(json_object_get(res, "servers"), 0),
	    "tools"), i, t) {
		if (strcmp(json_string_value(json_object_get(t, "name")), "add") == 0)
			tool_val = json_integer_value(json_object_get(t, "id"));
		else
			tool_raise = json_integer_value(json_object_get(t, "id"));
	}
	json_decref(res);

	assert_int_equal(it_get("GET", "/api/v1/export", admin_tok, &r), 0);
	assert_int_equal(r.status, 200);
	again = our_doc(r.json);
	it_resp_free(&r);
	json_array_foreach(json_object_get(doc, "servers"), i, a1)
		normalise(a1, 0);
	json_array_foreach(json_object_get(again, "servers"), i, a1)
		normalise(a1, 0);
	a2 = json_array_get(json_object_get(again, "servers"), 0);
	same(json_object_get(doc, "servers"), json_object_get(again, "servers"), "servers");
	/* the approved tool is still approved (keep_status), the secret is a
	 * placeholder now */
	t = json_array_get(json_object_get(a2, "tools"), 0);
	assert_string_equal(json_string_value(json_object_get(t, "status")), "approved");
	snprintf(path, sizeof(path), "/api/v1/servers/%s/secrets", srv_a);
	res = call("GET", path, admin_tok, NULL, 200);
	assert_true(json_is_false(json_object_get(json_array_get(json_object_get(res, "items"), 0),
	    "has_value")));
	json_decref(res);
	json_decref(doc);
	json_decref(again);
}

/* Export over REST, then CREATE DATABASE, migrate and import through the
 * CLI into it: drafts, identical history. */
static void
test_empty_database_cli(void **state)
{
	struct it_resp r = {0};
	json_t *doc, *back, *s;
	json_error_t je;
	char db[64], in[512], out[512], *txt;
	const char *var = it_env("TG_VAR");
	FILE *f;
	size_t i;

	(void)state;
	assert_int_equal(it_get("GET", "/api/v1/export", admin_tok, &r), 0);
	assert_int_equal(r.status, 200);
	doc = our_doc(r.json);
	it_resp_free(&r);
	snprintf(db, sizeof(db), "tg_export_%s", sfx);
	snprintf(in, sizeof(in), "%s/export-%s.json", var, sfx);
	snprintf(out, sizeof(out), "%s/export-%s-back.json", var, sfx);
	txt = json_dumps(doc, JSON_INDENT(1));
	assert_non_null(txt);
	f = fopen(in, "w");
	assert_non_null(f);
	assert_true(fputs(txt, f) >= 0);
	assert_int_equal(fclose(f), 0);
	free(txt);

	assert_int_equal(it_sh("PGOPTIONS='-c client_min_messages=warning' psql -q -v ON_ERROR_STOP=1"
	    " -d postgres -c 'DROP DATABASE IF EXISTS %s' -c 'CREATE DATABASE %s' >/dev/null",
	    db, db), 0);
	assert_int_equal(it_sh("PGDATABASE=%s build/toolgate migrate >/dev/null 2>&1", db), 0);
	assert_int_equal(it_sh("PGDATABASE=%s build/toolgate import '%s' >/dev/null 2>&1", db, in), 0);
	/* a second import conflicts and changes nothing */
	assert_int_not_equal(it_sh("PGDATABASE=%s build/toolgate import '%s' >/dev/null 2>&1",
	    db, in), 0);
	assert_int_equal(it_sh("PGDATABASE=%s build/toolgate export '%s' 2>/dev/null", db, out), 0);
	back = json_load_file(out, 0, &je);
	assert_non_null(back);
	assert_int_equal(json_array_size(json_object_get(back, "servers")), 2);
	json_array_foreach(json_object_get(doc, "servers"), i, s)
		normalise(s, 1);
	json_array_foreach(json_object_get(back, "servers"), i, s)
		normalise(s, 0);
	same(json_object_get(doc, "servers"), json_object_get(back, "servers"), "servers");
	same(json_object_get(doc, "settings"), json_object_get(back, "settings"), "settings");
	json_decref(back);
	json_decref(doc);
	it_sh("psql -q -d postgres -c 'DROP DATABASE IF EXISTS %s' >/dev/null 2>&1", db);
	unlink(in);
	unlink(out);
}

static void
test_validate(void **state)
{
	json_t *j, *e;
	char path[160];

	(void)state;
	j = call("POST", "/api/v1/validate", dev_tok,
	    "{\"code\":\"def main(city: str, days: int = 3):\\n    return city\\n\"}", 200);
	assert_true(json_is_true(json_object_get(j, "ok")));
	assert_int_equal(json_array_size(json_object_get(j, "errors")), 0);
	assert_non_null(json_object_get(json_object_get(json_object_get(j, "input_schema"),
	    "properties"), "city"));
	json_decref(j);
	j = call("POST", "/api/v1/validate", dev_tok,
	    "{\"code\":\"x = 1\\ndef main(:\\n    pass\\n\"}", 200);
	assert_true(json_is_false(json_object_get(j, "ok")));
	e = json_array_get(json_object_get(j, "errors"), 0);
	assert_int_equal(json_integer_value(json_object_get(e, "line")), 2);
	assert_true(json_integer_value(json_object_get(e, "column")) > 0);
	json_decref(j);
	j = call("POST", "/api/v1/validate", dev_tok, "{\"code\":\"import socket\\ndef main():\\n  pass\\n\"}", 200);
	assert_true(json_is_false(json_object_get(j, "ok")));
	json_decref(j);
	j = call("POST", "/api/v1/validate", dev_tok, "{}", 422);
	assert_true(has_field(j, "code"));
	json_decref(j);
	/* saving a tool with a syntax error: 422 naming line and column */
	snprintf(path, sizeof(path), "/api/v1/servers/%s/tools", srv_a);
	j = call("POST", path, dev_tok,
	    "{\"name\":\"broken\",\"code\":\"x = 1\\ndef main(:\\n    pass\\n\"}", 422);
	assert_true(has_field(j, "code"));
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "errors"), 0), "message")), "line 2, column"));
	json_decref(j);
}

static void
test_tool_test_runs(void **state)
{
	json_t *j;
	char path[160];

	(void)state;
	snprintf(path, sizeof(path), "/api/v1/tools/%lld/test", tool_val);
	j = call("POST", path, dev_tok, "{\"arguments\":{\"a\":40}}", 200);
	assert_true(json_is_true(json_object_get(j, "ok")));
	assert_int_equal(json_integer_value(json_object_get(j, "result")), 42);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/tools/%lld/test", tool_raise);
	j = call("POST", path, dev_tok, NULL, 200);
	assert_true(json_is_false(json_object_get(j, "ok")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"),
	    "type")), "ValueError");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"),
	    "message")), "nope");
	json_decref(j);
	j = call("POST", path, dev_tok, "{\"arguments\":[]}", 422);
	assert_true(has_field(j, "arguments"));
	json_decref(j);
	callv("POST", "/api/v1/tools/999999999/test", dev_tok, "{}", 404);
}

/* security (review finding 1): a test run writes an execution log row
 * (kind "test") and a tool that prints, returns or raises a secret value
 * of its server leaves only "[REDACTED]" in that row (raw and
 * JSON-escaped forms: the value holds a quote). */
static void
test_tool_test_logged_scrubbed(void **state)
{
	json_t *j, *body;
	char path[160], srv[64], sbody[256];
	long long tid;

	(void)state;
	snprintf(srv, sizeof(srv), "exs_%s", sfx);
	snprintf(sbody, sizeof(sbody), "{\"name\":\"%s\"}", srv);
	callv("POST", "/api/v1/servers", dev_tok, sbody, 201);
	snprintf(path, sizeof(path), "/api/v1/servers/%s/secrets", srv);
	callv("POST", path, admin_tok,
	    "{\"key\":\"LEAK\",\"value\":\"tgleak-9f2\\\"q-value\"}", 201);
	tid = mk_tool(srv, "leak",
	    "def main(mode: str = 'ret'):\n"
	    "    print('out:' + SECRETS['LEAK'])\n"
	    "    if mode == 'raise':\n"
	    "        raise ValueError('err:' + SECRETS['LEAK'])\n"
	    "    return {'v': SECRETS['LEAK']}\n", "leaks");
	snprintf(path, sizeof(path), "/api/v1/tools/%lld/test", tid);
	j = call("POST", path, dev_tok, NULL, 200);
	assert_true(json_is_true(json_object_get(j, "ok")));
	json_decref(j);
	body = json_pack("{s:{s:s}}", "arguments", "mode", "raise");
	j = post_json(path, dev_tok, body, 200);
	json_decref(body);
	assert_true(json_is_false(json_object_get(j, "ok")));
	json_decref(j);
	/* Two rows of kind test, both scrubbed. */
	assert_int_equal(it_sh("psql -qAtX -c \"SELECT count(*) FROM execution_logs"
	    " WHERE tool_id = %lld AND kind = 'test'\" | grep -qx 2", tid), 0);
	assert_int_equal(it_sh("psql -qAtX -c \"SELECT count(*) FROM execution_logs"
	    " WHERE tool_id = %lld AND concat(result, stdout, stderr, error)"
	    " LIKE '%%tgleak%%'\" | grep -qx 0", tid), 0);
	assert_int_equal(it_sh("psql -qAtX -c \"SELECT count(*) FROM execution_logs"
	    " WHERE tool_id = %lld AND status = 'ok' AND result LIKE '%%[REDACTED]%%'"
	    " AND stdout LIKE 'out:[REDACTED]%%'\" | grep -qx 1", tid), 0);
	assert_int_equal(it_sh("psql -qAtX -c \"SELECT count(*) FROM execution_logs"
	    " WHERE tool_id = %lld AND status = 'error' AND error LIKE '%%err:[REDACTED]%%'\""
	    " | grep -qx 1", tid), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_contents),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_validation_422),
		cmocka_unit_test(test_conflict_409),
		cmocka_unit_test(test_roundtrip_rest),
		cmocka_unit_test(test_empty_database_cli),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_tool_test_runs),
		cmocka_unit_test(test_tool_test_logged_scrubbed),
	};

	return cmocka_run_group_tests_name("export", tests, setup, NULL);
}
