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
 *   - format 2: an external source (internal, unreachable, with a
 *     credential, created through the API) and an imported tool (inserted
 *     with psql: importing one through the API needs a live remote) are
 *     exported without the credential, round-trip through REST and the CLI
 *     (credential warning on import), and validated strictly (422 paths);
 *     format 1 documents still import
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
#define SOURCE_CRED "src-cred-never-exported-9d3e"
#define REMOTE_HASH "abababababababababababababababababababababababababababababababab"

static int
setup(void **state)
{
	char body[512], name[64], path[256];
	long long t;

	(void)state;
	snprintf(sfx, sizeof(sfx), "%ld%d", (long)time(NULL) % 100000, (int)getpid() % 1000);
	assert_int_equal(it_login(it_env("TG_ADMIN_USER"), it_env("TG_ADMIN_PASSWORD"), admin_tok,
	    sizeof(admin_tok)), 0);
	snprintf(name, sizeof(name), "ex_dev_%s", sfx);
	it_user_token(admin_tok, name, "export-pass-123", "developer", dev_tok, sizeof(dev_tok));

	/* Server A: two tools, one with three versions and approved; a secret
	 * with a value and a placeholder; an approved network host. */
	snprintf(srv_a, sizeof(srv_a), "exa_%s", sfx);
	snprintf(srv_b, sizeof(srv_b), "exb_%s", sfx);
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"description\":\"export A\"}", srv_a);
	it_callv("POST", "/api/v1/servers", dev_tok, body, 201);
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"tool_prefix\":\"b_%s_\"}", srv_b, sfx);
	it_callv("POST", "/api/v1/servers", dev_tok, body, 201);

	tool_val = it_tool_create(dev_tok, srv_a, "add", "def main(a: int, b: int = 1):\n    return a + b\n", "adds");
	snprintf(path, sizeof(path), "/api/v1/tools/%lld", tool_val);
	it_callv("PATCH", path, dev_tok, "{\"description\":\"adds two numbers\"}", 200);
	it_callv("PATCH", path, dev_tok,
	    "{\"code\":\"def main(a: int, b: int = 2):\\n    return a + b\\n\","
	    "\"change_summary\":\"default b=2\"}", 200);
	it_callvf("POST", dev_tok, NULL, 200, "/api/v1/tools/%lld/submit", tool_val);
	it_callvf("POST", admin_tok, "{\"reason\":\"fine\",\"version\":3}", 200, "/api/v1/tools/%lld/approve", tool_val);
	tool_raise = it_tool_create(dev_tok, srv_a, "boom", "def main():\n    raise ValueError('nope')\n", "raises");
	t = it_tool_create(dev_tok, srv_b, "echo", "def main(text: str):\n    return text\n", "echo");
	(void)t;

	snprintf(path, sizeof(path), "/api/v1/servers/%s/secrets", srv_a);
	it_callv("POST", path, admin_tok, "{\"key\":\"API_KEY\",\"description\":\"k\",\"value\":\""
	    SECRET_VALUE "\"}", 201);
	it_callv("POST", path, dev_tok, "{\"key\":\"PLACEHOLDER\"}", 201);

	/* An external source of server A (internal: only an admin may point it
	 * at loopback) with a credential, and one imported tool with two
	 * versions, approved at 2, inserted as the stack's superuser. */
	snprintf(path, sizeof(path), "/api/v1/servers/%s/sources", srv_a);
	it_callv("POST", path, admin_tok, "{\"name\":\"remote\",\"description\":\"remote mcp\","
	    "\"url\":\"http://127.0.0.1:9/mcp\",\"internal\":true,\"auth_type\":\"bearer\","
	    "\"credential\":\"" SOURCE_CRED "\",\"timeout_ms\":7000,\"failure_threshold\":4}",
	    201);
	assert_int_equal(it_sh("psql -qAtX -v ON_ERROR_STOP=1 >/dev/null <<'EOF'\n"
	    "WITH t AS (INSERT INTO tools (server_id, name, description, code, input_schema,"
	    " schema_source, annotations, status, current_version, approved_version,"
	    " review_reason, kind, source_id, remote_name, remote_hash)"
	    " SELECT e.server_id, 'rfetch', 'fetches v2', '',"
	    " '{\"type\":\"object\",\"properties\":{\"url\":{\"type\":\"string\"}}}',"
	    " 'explicit', '{\"readOnlyHint\":true}', 'approved', 2, 2, 'remote ok', 'external',"
	    " e.id, 'fetch', '" REMOTE_HASH "'"
	    " FROM external_sources e JOIN servers s ON s.id = e.server_id"
	    " WHERE s.name = '%s' AND e.name = 'remote' RETURNING id)"
	    " INSERT INTO tool_versions (tool_id, version, name, code, description,"
	    " input_schema, schema_source, annotations, change_summary)"
	    " SELECT t.id, x.v, 'rfetch', '', x.d,"
	    " '{\"type\":\"object\",\"properties\":{\"url\":{\"type\":\"string\"}}}',"
	    " 'explicit', '{\"readOnlyHint\":true}', x.c FROM t, (VALUES"
	    " (1, 'fetches', 'imported from an external source'),"
	    " (2, 'fetches v2', 'remote description changed')) AS x(v, d, c);\n"
	    "EOF", srv_a), 0);
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

/* GET /api/v1/export as the admin (200): the whole document. */
static json_t *
export_all(void)
{
	json_t *full = it_call("GET", "/api/v1/export", admin_tok, NULL, 200);

	assert_non_null(json_object_get(full, "servers"));
	return full;
}

/* our_doc of a fresh export. */
static json_t *
export_ours(void)
{
	json_t *full = export_all(), *d = our_doc(full);

	json_decref(full);
	return d;
}

/* counts.key of an import result; fails unless it is an integer. */
static long long
count_of(const json_t *res, const char *key)
{
	json_t *v = json_object_get(json_object_get(res, "counts"), key);

	if (!json_is_integer(v))
		fail_msg("import result without counts.%s", key);
	return (long long)json_integer_value(v);
}

/* What cannot survive an export: secret values and version authors
 * (user ids are per database); optionally statuses (draft import). */
static void
normalise(json_t *srv, int drafts)
{
	json_t *x, *t, *v;
	size_t i, j;

	const char *const lists[] = {"tools", "external_tools", NULL};
	const char *const *l;

	json_array_foreach(json_object_get(srv, "secrets"), i, x)
		json_object_set_new(x, "has_value", json_false());
	json_array_foreach(json_object_get(srv, "sources"), i, x)
		json_object_set_new(x, "credential_set", json_false());
	for (l = lists; *l; l++) {
		json_array_foreach(json_object_get(srv, *l), i, t) {
			json_array_foreach(json_object_get(t, "versions"), j, v)
				json_object_set_new(v, "author", json_null());
			if (drafts) {
				json_object_set_new(t, "status", json_string("draft"));
				json_object_set_new(t, "approved_version", json_null());
				json_object_set_new(t, "review_reason", json_null());
			}
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
	json_t *doc, *a, *t, *vs, *src;

	(void)state;
	assert_int_equal(it_get("GET", "/api/v1/export", admin_tok, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(r.json);
	/* no secret value or source credential anywhere in the raw body, no
	 * crypto material */
	assert_null(strstr(r.body, SECRET_VALUE));
	assert_null(strstr(r.body, SOURCE_CRED));
	assert_null(strstr(r.body, "ciphertext"));
	assert_null(strstr(r.body, "nonce"));
	assert_null(strstr(r.body, "cred_"));
	doc = r.json;
	it_match(doc, "{\"format\":\"toolgate-export\",\"format_version\":2}");
	assert_true(json_is_array(json_object_get(json_object_get(doc, "settings"),
	    "allowed_modules")));
	a = find_server(doc, srv_a);
	assert_non_null(a);
	it_match(a, "{\"description\":\"export A\","
	    "\"secrets\":[{\"key\":\"API_KEY\",\"has_value\":true},{}]}");
	assert_null(json_object_get(json_array_get(json_object_get(a, "secrets"), 0), "value"));
	/* tools by name: add, boom; add has 3 versions and is approved at 3 */
	assert_int_equal(json_array_size(json_object_get(a, "tools")), 2);
	t = json_array_get(json_object_get(a, "tools"), 0);
	it_match(t, "{\"name\":\"add\",\"status\":\"approved\",\"current_version\":3,"
	    "\"approved_version\":3,\"versions\":[{\"description\":\"adds\"},{},"
	    "{\"change_summary\":\"default b=2\"}]}");
	vs = json_object_get(t, "versions");
	assert_non_null(strstr(it_jstr(json_array_get(vs, 2), "code"), "b: int = 2"));

	/* the source: settings and whether a credential is stored, never the
	 * credential */
	assert_int_equal(json_array_size(json_object_get(a, "sources")), 1);
	src = json_array_get(json_object_get(a, "sources"), 0);
	it_match(src, "{\"name\":\"remote\",\"description\":\"remote mcp\","
	    "\"url\":\"http://127.0.0.1:9/mcp\",\"transport\":\"streamable_http\","
	    "\"internal\":true,\"auth_type\":\"bearer\",\"auth_header\":null,"
	    "\"credential_set\":true,\"connect_timeout_ms\":5000,\"timeout_ms\":7000,"
	    "\"max_response_bytes\":4194304,\"failure_threshold\":4,\"cooldown_s\":30}");
	assert_null(json_object_get(src, "credential"));
	/* the imported tool, linked by source name, with its history */
	assert_int_equal(json_array_size(json_object_get(a, "external_tools")), 1);
	t = json_array_get(json_object_get(a, "external_tools"), 0);
	it_match(t, "{\"name\":\"rfetch\",\"source\":\"remote\",\"remote_name\":\"fetch\","
	    "\"remote_hash\":\"" REMOTE_HASH "\",\"description\":\"fetches v2\","
	    "\"input_schema\":{\"type\":\"object\"},\"annotations\":{\"readOnlyHint\":true},"
	    "\"status\":\"approved\",\"approved_version\":2,"
	    "\"versions\":[{\"description\":\"fetches\"},{}]}");
	assert_null(json_object_get(t, "code"));
	assert_null(json_object_get(json_array_get(json_object_get(t, "versions"), 0), "code"));
	assert_non_null(find_server(doc, srv_b));
	it_match(find_server(doc, srv_b), "{\"sources\":[]}");
	it_resp_free(&r);
}

static void
test_roles(void **state)
{
	(void)state;
	it_callv("GET", "/api/v1/export", dev_tok, NULL, 403);
	it_callv("POST", "/api/v1/import", dev_tok,
	    "{\"format\":\"toolgate-export\",\"format_version\":1,\"servers\":[]}", 403);
	it_callv("GET", "/api/v1/export", NULL, NULL, 401);
	it_callv("POST", "/api/v1/import?keep_status=maybe", admin_tok,
	    "{\"format\":\"toolgate-export\",\"format_version\":1,\"servers\":[]}", 400);
}

/* POST /api/v1/import body: 422 naming every one of fields (NULL-ended),
 * and nothing created (no server named prefix + sfx). */
static void
import_refused(const char *body, const char *prefix, const char *const *fields)
{
	json_t *j = it_call("POST", "/api/v1/import", admin_tok, body, 422);

	it_fields(j, fields);
	json_decref(j);
	it_callvf("GET", admin_tok, NULL, 404, "/api/v1/servers/%s%s", prefix, sfx);
}

static void
test_validation_422(void **state)
{
	json_t *j;
	char body[2048];

	(void)state;
	j = it_call("POST", "/api/v1/import", admin_tok,
	    "{\"format\":\"toolgate-export\",\"format_version\":3,\"servers\":[]}", 422);
	assert_true(it_has_field(j, "format_version"));
	json_decref(j);
	j = it_call("POST", "/api/v1/import", admin_tok,
	    "{\"format\":\"toolgate-export\",\"format_version\":1,\"servers\":[],\"x\":1}", 422);
	assert_true(it_has_field(j, "x"));
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
	/* nothing of it was created */
	import_refused(body, "ok_", (const char *const[]){"servers[0].name",
	    "servers[1].secrets[0].key", "servers[1].tools[0].versions[0].bogus",
	    "servers[1].tools[1].name", "servers[1].tools[1].versions[1].version",
	    "servers[1].tools[1].current_version", "servers[1].tools[2].versions",
	    NULL});
}

static void
test_conflict_409(void **state)
{
	json_t *doc, *j, *before, *after;
	char path[160];

	(void)state;
	doc = export_ours();
	snprintf(path, sizeof(path), "/api/v1/servers/%s/tools", srv_a);
	before = it_call("GET", path, admin_tok, NULL, 200);
	j = it_call_json("POST", "/api/v1/import", admin_tok, doc, 409);
	IT_FIELDS(j, "servers[0].name", "servers[1].name");
	json_decref(j);
	/* unchanged: same tools, same versions */
	after = it_call("GET", path, admin_tok, NULL, 200);
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
	json_t *doc, *res, *again, *a1, *a2, *t, *w;
	long long src_id, ext_id = 0;
	size_t i;

	(void)state;
	doc = export_ours();

	it_callvf("DELETE", admin_tok, NULL, 204, "/api/v1/servers/%s", srv_a);
	it_callvf("DELETE", admin_tok, NULL, 204, "/api/v1/servers/%s", srv_b);

	res = it_call_json("POST", "/api/v1/import?keep_status=true&settings=false", admin_tok, doc, 201);
	assert_int_equal(count_of(res, "servers"), 2);
	assert_int_equal(count_of(res, "tools"), 4);
	assert_int_equal(count_of(res, "versions"), 7);
	assert_int_equal(count_of(res, "secrets"), 2);
	assert_int_equal(count_of(res, "sources"), 1);
	assert_true(json_is_false(json_object_get(res, "settings_applied")));
	/* the credential must be entered again: one warning naming the source */
	w = json_object_get(res, "warnings");
	assert_int_equal(json_array_size(w), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(w, 0), "field")),
	    "servers[0].sources[0]");
	assert_string_equal(json_string_value(json_object_get(json_array_get(w, 0), "source")),
	    "remote");
	assert_string_equal(json_string_value(json_object_get(json_array_get(w, 0), "server")),
	    srv_a);
	assert_null(strstr(json_string_value(json_object_get(json_array_get(w, 0), "message")),
	    SOURCE_CRED));
	src_id = json_integer_value(json_object_get(json_array_get(w, 0), "source_id"));
	assert_true(src_id > 0);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(
	    json_array_get(json_object_get(res, "servers"), 0), "sources"), 0), "id")), src_id);
	/* remember the new ids of the tools for the sandbox tests */
	json_array_foreach(json_object_get(json_array_get(json_object_get(res, "servers"), 0),
	    "tools"), i, t) {
		if (strcmp(json_string_value(json_object_get(t, "name")), "add") == 0)
			tool_val = json_integer_value(json_object_get(t, "id"));
		else if (strcmp(json_string_value(json_object_get(t, "name")), "boom") == 0)
			tool_raise = json_integer_value(json_object_get(t, "id"));
		else if (strcmp(json_string_value(json_object_get(t, "name")), "rfetch") == 0)
			ext_id = json_integer_value(json_object_get(t, "id"));
	}
	assert_true(ext_id > 0);
	json_decref(res);
	/* the imported tool is an external tool of the new source; the source
	 * has no credential */
	it_sql_expect("1", "SELECT count(*) FROM tools t JOIN"
	    " external_sources e ON e.id = t.source_id WHERE t.id = %lld AND e.id = %lld"
	    " AND t.kind = 'external' AND t.code = '' AND t.remote_name = 'fetch'"
	    " AND e.cred_ciphertext IS NULL AND e.cred_nonce IS NULL AND e.internal",
	    ext_id, src_id);
	res = it_callf("GET", admin_tok, NULL, 200, "/api/v1/sources/%lld", src_id);
	assert_true(json_is_false(json_object_get(res, "has_credential")));
	assert_string_equal(json_string_value(json_object_get(res, "auth_type")), "bearer");
	json_decref(res);

	again = export_ours();
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
	t = json_array_get(json_object_get(a2, "external_tools"), 0);
	assert_string_equal(json_string_value(json_object_get(t, "status")), "approved");
	assert_true(json_is_false(json_object_get(json_array_get(json_object_get(a2,
	    "sources"), 0), "credential_set")));
	res = it_callf("GET", admin_tok, NULL, 200, "/api/v1/servers/%s/secrets", srv_a);
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
	json_t *doc, *back, *s;
	json_error_t je;
	char db[64], in[512], out[512], *txt;
	const char *var = it_env("TG_VAR");
	FILE *f;
	size_t i;

	(void)state;
	doc = export_ours();
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
	assert_int_equal(it_sh("PGDATABASE=%s build/toolgate import '%s' >/dev/null 2>'%s.err'",
	    db, in, in), 0);
	/* the CLI names the source whose credential must be entered again */
	assert_int_equal(it_sh("grep -q 'warning: %s/remote ' '%s.err' && ! grep -q '%s' '%s.err'",
	    srv_a, in, SOURCE_CRED, in), 0);
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
	it_sh("rm -f '%s.err'", in);
	unlink(in);
	unlink(out);
}

/* format 1 (no sources, no imported tools) still imports; a format 1
 * document with format 2 members does not. */
static void
test_format_v1(void **state)
{
	json_t *full, *b, *doc, *res, *j;
	char name[64];

	(void)state;
	full = export_all();
	b = json_deep_copy(find_server(full, srv_b));
	json_decref(full);
	assert_non_null(b);
	snprintf(name, sizeof(name), "exv1_%s", sfx);
	json_object_set_new(b, "name", json_string(name));
	json_object_del(b, "sources");
	json_object_del(b, "external_tools");
	doc = json_pack("{s:s, s:i, s:[O]}", "format", "toolgate-export",
	    "format_version", 1, "servers", b);
	assert_non_null(doc);
	res = it_call_json("POST", "/api/v1/import?settings=false", admin_tok, doc, 201);
	assert_int_equal(count_of(res, "tools"), 1);
	assert_int_equal(count_of(res, "sources"), 0);
	assert_true(json_is_array(json_object_get(res, "warnings")));
	assert_int_equal(json_array_size(json_object_get(res, "warnings")), 0);
	json_decref(res);
	res = it_callf("GET", admin_tok, NULL, 200, "/api/v1/servers/%s/tools", name);
	assert_int_equal(json_array_size(json_object_get(res, "items")), 1);
	json_decref(res);
	/* format 1 has no sources */
	json_object_set_new(b, "name", json_string("exv1b"));
	json_object_set_new(b, "sources", json_array());
	j = it_call_json("POST", "/api/v1/import", admin_tok, doc, 422);
	assert_true(it_has_field(j, "servers[0].sources"));
	json_decref(j);
	it_callvf("DELETE", admin_tok, NULL, 204, "/api/v1/servers/%s", name);
	json_decref(b);
	json_decref(doc);
}

/* Sources and imported tools are validated like the rest: 422 with field
 * paths, nothing created; a credential cannot be smuggled in. */
static void
test_validation_sources_422(void **state)
{
	char body[4096];

	(void)state;
	snprintf(body, sizeof(body),
	    "{\"format\":\"toolgate-export\",\"format_version\":2,\"servers\":["
	    "{\"name\":\"vs_%s\",\"tools\":["
	    "{\"name\":\"py\",\"code\":\"x\",\"current_version\":1,"
	    " \"versions\":[{\"version\":1,\"code\":\"x\"}]}],"
	    "\"sources\":["
	    "{\"name\":\"lo\",\"url\":\"http://127.0.0.1:9/mcp\"},"
	    "{\"name\":\"cr\",\"url\":\"https://mcp.example.com/mcp\",\"credential\":\"x\"},"
	    "{\"name\":\"hd\",\"url\":\"https://mcp.example.com/mcp\",\"auth_type\":\"header\","
	    " \"timeout_ms\":5},"
	    "{\"name\":\"lo\",\"url\":\"ftp://x\",\"transport\":\"stdio\"}],"
	    "\"external_tools\":["
	    "{\"name\":\"e1\",\"source\":\"nope\",\"remote_name\":\"a\",\"current_version\":1,"
	    " \"versions\":[{\"version\":1}]},"
	    "{\"name\":\"py\",\"source\":\"hd\",\"remote_name\":\"b\",\"remote_hash\":\"XY\","
	    " \"current_version\":1,\"versions\":[{\"version\":1,\"code\":\"x\"}]},"
	    "{\"name\":\"e3\",\"source\":\"hd\",\"remote_name\":\"b\",\"code\":\"x\","
	    " \"current_version\":1,\"versions\":[{\"version\":1}]}]}]}", sfx);
	/* sources[0]: loopback, not internal */
	import_refused(body, "vs_", (const char *const[]){"servers[0].sources[0].url",
	    "servers[0].sources[1].credential", "servers[0].sources[2].auth_header",
	    "servers[0].sources[2].timeout_ms", "servers[0].sources[3].name",
	    "servers[0].sources[3].url", "servers[0].sources[3].transport",
	    "servers[0].external_tools[0].source", "servers[0].external_tools[1].name",
	    "servers[0].external_tools[1].remote_hash",
	    "servers[0].external_tools[1].versions[0].code",
	    "servers[0].external_tools[2].code", NULL});
}

static void
test_validate(void **state)
{
	json_t *j, *e;
	char path[160];

	(void)state;
	j = it_call("POST", "/api/v1/validate", dev_tok,
	    "{\"code\":\"def main(city: str, days: int = 3):\\n    return city\\n\"}", 200);
	assert_true(json_is_true(json_object_get(j, "ok")));
	assert_true(json_is_array(json_object_get(j, "errors")));
	assert_int_equal(json_array_size(json_object_get(j, "errors")), 0);
	assert_non_null(json_object_get(json_object_get(json_object_get(j, "input_schema"),
	    "properties"), "city"));
	json_decref(j);
	j = it_call("POST", "/api/v1/validate", dev_tok,
	    "{\"code\":\"x = 1\\ndef main(:\\n    pass\\n\"}", 200);
	assert_true(json_is_false(json_object_get(j, "ok")));
	e = json_array_get(json_object_get(j, "errors"), 0);
	assert_int_equal(json_integer_value(json_object_get(e, "line")), 2);
	assert_true(json_integer_value(json_object_get(e, "column")) > 0);
	json_decref(j);
	j = it_call("POST", "/api/v1/validate", dev_tok, "{\"code\":\"import socket\\ndef main():\\n  pass\\n\"}", 200);
	assert_true(json_is_false(json_object_get(j, "ok")));
	json_decref(j);
	j = it_call("POST", "/api/v1/validate", dev_tok, "{}", 422);
	assert_true(it_has_field(j, "code"));
	json_decref(j);
	/* saving a tool with a syntax error: 422 naming line and column */
	snprintf(path, sizeof(path), "/api/v1/servers/%s/tools", srv_a);
	j = it_call("POST", path, dev_tok,
	    "{\"name\":\"broken\",\"code\":\"x = 1\\ndef main(:\\n    pass\\n\"}", 422);
	assert_true(it_has_field(j, "code"));
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
	j = it_callf("POST", dev_tok, "{\"arguments\":{\"a\":40}}", 200, "/api/v1/tools/%lld/test", tool_val);
	assert_true(json_is_true(json_object_get(j, "ok")));
	assert_int_equal(json_integer_value(json_object_get(j, "result")), 42);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/tools/%lld/test", tool_raise);
	j = it_call("POST", path, dev_tok, NULL, 200);
	assert_true(json_is_false(json_object_get(j, "ok")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"),
	    "type")), "ValueError");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"),
	    "message")), "nope");
	json_decref(j);
	j = it_call("POST", path, dev_tok, "{\"arguments\":[]}", 422);
	assert_true(it_has_field(j, "arguments"));
	json_decref(j);
	it_callv("POST", "/api/v1/tools/999999999/test", dev_tok, "{}", 404);
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
	it_callv("POST", "/api/v1/servers", dev_tok, sbody, 201);
	snprintf(path, sizeof(path), "/api/v1/servers/%s/secrets", srv);
	it_callv("POST", path, admin_tok,
	    "{\"key\":\"LEAK\",\"value\":\"tgleak-9f2\\\"q-value\"}", 201);
	tid = it_tool_create(dev_tok, srv, "leak", IT_LEAK_CODE("LEAK"), "leaks");
	snprintf(path, sizeof(path), "/api/v1/tools/%lld/test", tid);
	/* security: unapproved code gets the real values only when an admin
	 * asks for them (test_security.c); they are what must be scrubbed. */
	j = it_call("POST", path, admin_tok, "{\"real_secrets\":true}", 200);
	assert_true(json_is_true(json_object_get(j, "ok")));
	json_decref(j);
	body = json_pack("{s:{s:s}, s:b}", "arguments", "mode", "raise", "real_secrets", 1);
	j = it_call_json("POST", path, admin_tok, body, 200);
	json_decref(body);
	assert_true(json_is_false(json_object_get(j, "ok")));
	json_decref(j);
	/* Two rows of kind test, both scrubbed. */
	snprintf(path, sizeof(path), "tool_id = %lld", tid);
	it_logs_scrubbed(path, "test", "tgleak");
}

TG_TEST_MAIN("export", setup, NULL, test_export_contents, test_roles,
    test_validation_422, test_conflict_409, test_roundtrip_rest,
    test_empty_database_cli, test_format_v1, test_validation_sources_422,
    test_validate, test_tool_test_runs, test_tool_test_logged_scrubbed)
