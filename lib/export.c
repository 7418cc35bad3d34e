/*
 * export.c - export and import of servers, tools, versions, settings and
 * secret names (see export.h for the document and the rules).
 *
 * Export is one query per document part: PostgreSQL builds each server
 * with its secrets, tools and versions, external sources and imported
 * tools as JSON (json_agg), so the shape is defined once, next to the SQL.
 * Secret values, source credentials and their ciphertexts and nonces are
 * never selected (only "ciphertext IS NOT NULL").
 *
 * Import works in two phases. First the whole document is validated in C
 * without touching the database (every problem becomes a field error with
 * its path, up to TG_EXPORT_MAX_FIELD_ERRORS). Then, in one transaction:
 * name conflicts with existing servers (409, all of them reported), the
 * settings, and per server one INSERT for the server, one for its secret
 * placeholders, one per tool (the tool row and all its versions in a
 * single statement through json_to_recordset), one for all its sources
 * (without credentials; each one that needs its credential again becomes
 * a warning of the answer) and one per imported tool, linked to the new id
 * of its source. Any failure rolls the whole import back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/approvals.h"
#include "lib/audit.h"
#include "lib/call.h"
#include "lib/clock.h"
#include "lib/crud.h"
#include "lib/db.h"
#include "lib/export.h"
#include "lib/log.h"
#include "lib/packages.h"
#include "lib/parse.h"
#include "lib/secrets.h"
#include "lib/servers.h"
#include "lib/settings.h"
#include "lib/sources.h"
#include "lib/status.h"
#include "lib/tools.h"
#include "lib/versions.h"

/* What a tool's row and its versions carry alike for Python and imported
 * tools (code only for Python: an imported tool's behaviour is remote). */
#define TOOL_EXPORT_STATE \
	"   'input_schema', t.input_schema, 'schema_source', t.schema_source," \
	"   'annotations', t.annotations, 'status', t.status," \
	"   'current_version', t.current_version," \
	"   'approved_version', t.approved_version," \
	"   'review_reason', t.review_reason, 'created_at', " TG_SQL_TS("t.created_at") ","
#define TOOL_EXPORT_VERSIONS(code) \
	"   'versions', coalesce((SELECT json_agg(json_build_object(" \
	"     'version', v.version, 'name', v.name," code \
	"     'description', v.description," \
	"     'input_schema', v.input_schema, 'schema_source', v.schema_source," \
	"     'annotations', v.annotations, 'change_summary', v.change_summary," \
	"     'author', u.username, 'created_at', " TG_SQL_TS("v.created_at") ") ORDER BY v.version)" \
	"     FROM tool_versions v LEFT JOIN users u ON u.id = v.author_id" \
	"     WHERE v.tool_id = t.id), '[]'::json))"

#define SERVER_EXPORT \
	"SELECT json_build_object('name', s.name, 'description', s.description," \
	" 'tool_prefix', s.tool_prefix, 'status', s.status," \
	" 'allowed_hosts', to_json(s.allowed_hosts), 'created_at', " TG_SQL_TS("s.created_at") "," \
	" 'secrets', coalesce((SELECT json_agg(json_build_object('key', k.key," \
	"   'description', k.description, 'has_value', k.ciphertext IS NOT NULL)" \
	"   ORDER BY k.key) FROM server_secrets k WHERE k.server_id = s.id), '[]'::json)," \
	" 'tools', coalesce((SELECT json_agg(json_build_object('name', t.name," \
	"   'description', t.description, 'code', t.code," \
	TOOL_EXPORT_STATE TOOL_EXPORT_VERSIONS(" 'code', v.code,") \
	"   ORDER BY t.name) FROM tools t WHERE t.server_id = s.id AND t.kind = 'python')," \
	"   '[]'::json)," \
	" 'sources', coalesce((SELECT json_agg(json_build_object('name', e.name," \
	"   'description', e.description, 'url', e.url, 'transport', e.transport," \
	"   'internal', e.internal, 'enabled', e.enabled, 'auth_type', e.auth_type," \
	"   'auth_header', e.auth_header," \
	"   'credential_set', e.cred_ciphertext IS NOT NULL," \
	"   'connect_timeout_ms', e.connect_timeout_ms, 'timeout_ms', e.timeout_ms," \
	"   'max_response_bytes', e.max_response_bytes," \
	"   'failure_threshold', e.failure_threshold, 'cooldown_s', e.cooldown_s," \
	"   'created_at', " TG_SQL_TS("e.created_at") ") ORDER BY e.name)" \
	"   FROM external_sources e WHERE e.server_id = s.id), '[]'::json)," \
	" 'external_tools', coalesce((SELECT json_agg(json_build_object('name', t.name," \
	"   'source', e.name, 'remote_name', t.remote_name," \
	"   'remote_hash', t.remote_hash, 'description', t.description," \
	TOOL_EXPORT_STATE TOOL_EXPORT_VERSIONS("") \
	"   ORDER BY t.name) FROM tools t JOIN external_sources e ON e.id = t.source_id" \
	"   WHERE t.server_id = s.id AND t.kind = 'external'), '[]'::json)," \
	" 'packages', " TG_PACKAGES_EXPORT \
	")::text FROM servers s ORDER BY s.name"

/* The tool row and all its versions in one statement; $15..$17 (source
 * id, remote name, remote hash) are NULL for a Python tool. */
#define TOOL_IMPORT \
	"WITH t AS (INSERT INTO tools (server_id, name, description, code," \
	" input_schema, schema_source, annotations, status, current_version," \
	" approved_version, review_reason, reviewed_by, reviewed_at, created_by," \
	" updated_by, created_at, kind, source_id, remote_name, remote_hash)" \
	" VALUES ($1::bigint, $2, $3, $4, $5::json, $6, $7::json, $8, $9::int," \
	" $10::int, $11, CASE WHEN $8 IN ('approved', 'rejected') THEN $12::bigint END," \
	" CASE WHEN $8 IN ('approved', 'rejected') THEN now() END, $12::bigint," \
	" $12::bigint, coalesce($13::timestamptz, now())," \
	" CASE WHEN $15::bigint IS NULL THEN 'python' ELSE 'external' END," \
	" $15::bigint, $16, $17) RETURNING id)" \
	" INSERT INTO tool_versions (tool_id, version, name, code, description," \
	" input_schema, schema_source, annotations, change_summary, author_id," \
	" created_at)" \
	" SELECT t.id, v.version, coalesce(v.name, $2), coalesce(v.code, '')," \
	" coalesce(v.description, '')," \
	" v.input_schema, coalesce(v.schema_source, CASE WHEN v.input_schema IS NULL" \
	" THEN 'default' ELSE 'explicit' END), v.annotations," \
	" coalesce(v.change_summary, ''), NULL, coalesce(v.created_at, now())" \
	" FROM t, json_to_recordset($14::json) AS v(version int, name text, code text," \
	" description text, input_schema json, schema_source text, annotations json," \
	" change_summary text, created_at timestamptz)" \
	" RETURNING tool_id"

/* A numeric setting of a source in a check spec (lib/sources.h). */
#define SPEC_NUM(n, lo, hi, d) #n ":I,"
/* A numeric setting of a source or its default (lib/sources.h). */
#define SQL_DEFAULT(n, lo, hi, d) " coalesce(x." #n ", " #d "),"

/* All sources of one server; never a credential (there is none in the
 * document). */
#define SOURCE_IMPORT \
	"INSERT INTO external_sources (server_id, name, description, url," \
	" transport, internal, enabled, auth_type, auth_header," \
	" connect_timeout_ms, timeout_ms, max_response_bytes, failure_threshold," \
	" cooldown_s, created_by, created_at)" \
	" SELECT $1::bigint, x.name, coalesce(x.description, ''), x.url," \
	" coalesce(x.transport, 'streamable_http'), coalesce(x.internal, false)," \
	" coalesce(x.enabled, true), coalesce(x.auth_type, 'none'), x.auth_header," \
	TG_SOURCE_NUMS(SQL_DEFAULT) " $2::bigint, coalesce(x.created_at, now())" \
	" FROM json_to_recordset($3::json) AS x(name text, description text," \
	" url text, transport text, internal boolean, enabled boolean," \
	" auth_type text, auth_header text, connect_timeout_ms integer," \
	" timeout_ms integer, max_response_bytes integer, failure_threshold integer," \
	" cooldown_s integer, created_at timestamptz)" \
	" RETURNING id, name"

static const char *const tool_states[] = {"draft", "pending_review", "approved",
	"rejected", NULL};
static const char *const sources[] = {"explicit", "derived", "default", NULL};

static int
too_many(const struct tg_err *err)
{
	return json_array_size(err->fields) >= TG_EXPORT_MAX_FIELD_ERRORS;
}

/* A field error at path (+ "." + member when member is not NULL). */
static void
field(struct tg_err *err, const char *path, const char *member,
    const char *msg)
{
	char f[256];

	if (too_many(err))
		return;
	if (member && *path)
		snprintf(f, sizeof(f), "%s.%s", path, member);
	else
		snprintf(f, sizeof(f), "%s", member ? member : path);
	tg_err_field(err, f, "%s", msg);
}

/* tg_svc_check_object with every field error prefixed by path. Returns 0
 * when the object is fine. */
static int
check_obj(json_t *in, const char *spec, const char *path, struct tg_err *err)
{
	struct tg_err e;
	json_t *f;
	size_t i;
	int bad;

	tg_err_init(&e);
	bad = tg_svc_check_object(in, spec, &e) != TG_OK;
	json_array_foreach(e.fields, i, f) {
		const char *name = json_string_value(json_object_get(f, "field"));
		const char *msg = json_string_value(json_object_get(f, "message"));

		if (name && strcmp(name, "body") == 0)
			field(err, path[0] ? path : "body", NULL, msg ? msg : "invalid");
		else
			field(err, path, name ? name : "?", msg ? msg : "invalid");
	}
	tg_err_clear(&e);
	return bad ? -1 : 0;
}

static const char *
str(json_t *o, const char *k, const char *def)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : def;
}

/* A null-or-absent member is NULL. */
static json_t *
opt(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return v == NULL || json_is_null(v) ? NULL : v;
}

static int
jeq(json_t *a, json_t *b)
{
	return json_equal(a ? a : json_null(), b ? b : json_null());
}

static const char *
source_of(json_t *o)
{
	return str(o, "schema_source", opt(o, "input_schema") ? "explicit" : "default");
}

/* Timestamps are checked for shape here and parsed by PostgreSQL. */
static void
check_time(json_t *o, const char *path, struct tg_err *err)
{
	const char *s = json_string_value(json_object_get(o, "created_at"));

	if (s && (strlen(s) < 10 || strlen(s) > 64 || s[0] < '0' || s[0] > '9'))
		field(err, path, "created_at", "must be an ISO 8601 timestamp");
}

static void
check_schema_val(json_t *o, const char *path, struct tg_err *err)
{
	json_t *s = opt(o, "input_schema"), *t;

	if (s && (t = json_object_get(s, "type")) &&
	    !(json_is_string(t) && strcmp(json_string_value(t), "object") == 0))
		field(err, path, "input_schema", "must describe an object (\"type\": \"object\")");
	if (json_object_get(o, "schema_source") &&
	    !tg_str_in(str(o, "schema_source", ""), sources))
		field(err, path, "schema_source", "must be explicit, derived or default");
}

/* ext: a version of an imported (external) tool, which has no code. */
static void
check_version(json_t *v, const char *path, int64_t code_max, int ext,
    struct tg_err *err)
{
	const char *code;

	/* "name": since sql/008 (the name is versioned); absent in older
	 * documents: the tool's name. */
	if (check_obj(v, ext ? "version:I!,name:s,description:s,input_schema:O,"
	    "schema_source:s,annotations:O,change_summary:s,author:S,created_at:s" :
	    "version:I!,name:s,code:s!,description:s,input_schema:O,"
	    "schema_source:s,annotations:O,change_summary:s,author:S,created_at:s",
	    path, err) != 0)
		return;
	if (json_object_get(v, "name") && !tg_svc_valid_tool_name(str(v, "name", "")))
		field(err, path, "name",
		    "1 to 64 characters of A-Z, a-z, 0-9, '_', '.', '-', not starting with '.' or '-'");
	if (json_integer_value(json_object_get(v, "version")) < 1 ||
	    json_integer_value(json_object_get(v, "version")) > 2147483647)
		field(err, path, "version", "must be a version number (1 or more)");
	code = str(v, "code", "");	/* "" for ext: nothing runs in the sandbox */
	if (!ext && *code == '\0')
		field(err, path, "code", "must not be empty");
	else if (!ext && (int64_t)strlen(code) > code_max)
		field(err, path, "code", "is larger than limits.code_bytes");
	if (strlen(str(v, "description", "")) > TG_TOOL_DESC_MAX)
		field(err, path, "description", "is too long");
	if (strlen(str(v, "change_summary", "")) > 1024)
		field(err, path, "change_summary", "at most 1024 bytes");
	check_schema_val(v, path, err);
	check_time(v, path, err);
}

/* 1 when s is a lower-case hex SHA-256. */
static int
is_sha256_hex(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

/* ext: an entry of "external_tools" (format 2): "source" and "remote_name"
 * instead of "code"; the source is resolved by check_server. */
static void
check_tool(json_t *t, const char *path, int64_t code_max, int keep_status,
    int ext, struct tg_err *err)
{
	json_t *vs, *v, *last = NULL, *av;
	const char *name, *code;
	int64_t prev = 0, cur;
	char vp[224];
	size_t i;
	int found_av = 0;

	if (check_obj(t, ext ? "name:s!,source:s!,remote_name:s!,remote_hash:S,"
	    "description:s,input_schema:O,schema_source:s,annotations:O,status:s,"
	    "current_version:I!,approved_version:*,review_reason:S,created_at:s,"
	    "versions:a!" :
	    "name:s!,description:s,code:s!,input_schema:O,"
	    "schema_source:s,annotations:O,status:s,current_version:I!,"
	    "approved_version:*,review_reason:S,created_at:s,versions:a!",
	    path, err) != 0)
		return;
	name = str(t, "name", "");
	if (!tg_svc_valid_tool_name(name))
		field(err, path, "name",
		    "1 to 64 characters of A-Z, a-z, 0-9, '_', '.', '-', not starting with '.' or '-'");
	code = str(t, "code", "");
	if (ext) {
		if (*str(t, "remote_name", "") == '\0' || strlen(str(t, "remote_name", "")) > 256)
			field(err, path, "remote_name", "1 to 256 bytes");
		if (opt(t, "remote_hash") && !is_sha256_hex(str(t, "remote_hash", "")))
			field(err, path, "remote_hash", "must be 64 lower-case hex digits or null");
	} else if (*code == '\0') {
		field(err, path, "code", "must not be empty");
	} else if ((int64_t)strlen(code) > code_max) {
		field(err, path, "code", "is larger than limits.code_bytes");
	}
	if (strlen(str(t, "description", "")) > TG_TOOL_DESC_MAX)
		field(err, path, "description", "is too long");
	if (json_object_get(t, "status") && !tg_str_in(str(t, "status", ""), tool_states))
		field(err, path, "status", "must be draft, pending_review, approved or rejected");
	if (strlen(str(t, "review_reason", "")) > 2048)
		field(err, path, "review_reason", "at most 2048 bytes");
	av = opt(t, "approved_version");
	if (av && !json_is_integer(av))
		field(err, path, "approved_version", "must be an integer or null");
	if (keep_status && strcmp(str(t, "status", "draft"), "approved") == 0 && av == NULL)
		field(err, path, "approved_version", "an approved tool needs its approved version");
	check_schema_val(t, path, err);
	check_time(t, path, err);

	vs = json_object_get(t, "versions");
	if (json_array_size(vs) == 0) {
		field(err, path, "versions", "must hold at least the current version");
		return;
	}
	json_array_foreach(vs, i, v) {
		snprintf(vp, sizeof(vp), "%s.versions[%zu]", path, i);
		check_version(v, vp, code_max, ext, err);
		if (!json_is_object(v) || !json_is_integer(json_object_get(v, "version")))
			return;
		cur = json_integer_value(json_object_get(v, "version"));
		if (cur <= prev)
			field(err, vp, "version", "versions must be strictly increasing");
		if (av && json_is_integer(av) && json_integer_value(av) == cur)
			found_av = 1;
		prev = cur;
		last = v;
	}
	if (json_integer_value(json_object_get(t, "current_version")) != prev) {
		field(err, path, "current_version", "must be the number of the last version");
		return;
	}
	/* tools always holds the content of its current version */
	if (strcmp(str(last, "code", ""), code) != 0 ||
	    strcmp(str(last, "name", name), name) != 0 ||
	    strcmp(str(last, "description", ""), str(t, "description", "")) != 0 ||
	    !jeq(opt(last, "input_schema"), opt(t, "input_schema")) ||
	    strcmp(source_of(last), source_of(t)) != 0 ||
	    !jeq(opt(last, "annotations"), opt(t, "annotations")))
		field(err, path, "versions",
		    "the last version's content must equal the tool's (name, code, description, input_schema, schema_source, annotations)");
	if (av && json_is_integer(av) && !found_av)
		field(err, path, "approved_version", "must be one of the versions");
}

static void
range(json_t *o, const char *path, const char *k, json_int_t lo, json_int_t hi,
    struct tg_err *err)
{
	json_t *v = json_object_get(o, k);
	char msg[96];

	if (json_is_integer(v) && (json_integer_value(v) < lo || json_integer_value(v) > hi)) {
		snprintf(msg, sizeof(msg), "must be between %lld and %lld", (long long)lo,
		    (long long)hi);
		field(err, path, k, msg);
	}
}

/* The name and description of a server or a source (the same rules). */
static void
check_name(json_t *o, const char *path, struct tg_err *err)
{
	if (!tg_svc_valid_server_name(str(o, "name", "")))
		field(err, path, "name", "1 to 48 characters of a-z, 0-9, '_', '-', not starting with '_' or '-'");
	if (strlen(str(o, "description", "")) > 4096)
		field(err, path, "description", "at most 4096 bytes");
}

/* One entry of "sources" (format 2): the settings a source is created
 * with; credentials are not part of the document. */
static void
check_source(json_t *o, const char *path, struct tg_err *err)
{
	const char *auth;
	json_t *h;
	char why[320];
	size_t i;

	if (check_obj(o, "name:s!,description:s,url:s!,transport:s,internal:b,"
	    "enabled:b,auth_type:s,auth_header:S,credential_set:b,"
	    TG_SOURCE_NUMS(SPEC_NUM) "created_at:s", path, err) != 0)
		return;
	check_name(o, path, err);
	if (tg_sources_url_ok(str(o, "url", ""), json_is_true(json_object_get(o, "internal")),
	    why, sizeof(why)) != 0)
		field(err, path, "url", why);
	if (strcmp(str(o, "transport", "streamable_http"), "streamable_http") != 0)
		field(err, path, "transport", "only \"streamable_http\" is supported");
	auth = str(o, "auth_type", "none");
	if (strcmp(auth, "none") != 0 && strcmp(auth, "bearer") != 0 &&
	    strcmp(auth, "header") != 0)
		field(err, path, "auth_type", "one of none, bearer, header");
	h = opt(o, "auth_header");
	if (h && !tg_sources_valid_header(json_string_value(h)))
		field(err, path, "auth_header", "a header name of A-Z, a-z, 0-9 and '-' (at most"
		    " 64) that is not a transport or MCP header");
	else if (h == NULL && strcmp(auth, "header") == 0)
		field(err, path, "auth_header", "required for auth_type \"header\"");
	for (i = 0; i < TG_SOURCE_NNUMS; i++)
		range(o, path, tg_source_nums[i].name, tg_source_nums[i].min,
		    tg_source_nums[i].max, err);
	check_time(o, path, err);
}

/* 1 when the array a holds an object whose member k equals v before
 * index end (a borrowed, may be NULL). */
static int
seen(json_t *a, size_t end, const char *k, const char *v)
{
	json_t *w;
	size_t j;

	for (j = 0; j < end && j < json_array_size(a); j++) {
		w = json_array_get(a, j);
		if (json_is_object(w) && strcmp(str(w, k, "\x01"), v) == 0)
			return 1;
	}
	return 0;
}

static void
check_server(json_t *s, const char *path, int64_t code_max, int keep_status,
    json_int_t version, struct tg_err *err)
{
	json_t *a, *v, *w, *srcs, *tools;
	char p[160];
	size_t i, j;

	if (check_obj(s, version >= 2 ? "name:s!,description:s,tool_prefix:S,status:s,"
	    "allowed_hosts:a,created_at:s,secrets:a,tools:a,sources:a,external_tools:a,"
	    "packages:a" :
	    "name:s!,description:s,tool_prefix:S,status:s,"
	    "allowed_hosts:a,created_at:s,secrets:a,tools:a,packages:a", path, err) != 0)
		return;
	check_name(s, path, err);
	if (opt(s, "tool_prefix") && !tg_svc_valid_prefix(str(s, "tool_prefix", "")))
		field(err, path, "tool_prefix", "at most 64 characters of A-Z, a-z, 0-9, '_', '.', '-'");
	if (json_object_get(s, "status") && strcmp(str(s, "status", ""), "running") != 0 &&
	    strcmp(str(s, "status", ""), "stopped") != 0)
		field(err, path, "status", "must be running or stopped");
	check_time(s, path, err);
	a = json_object_get(s, "allowed_hosts");
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || !tg_approvals_valid_host(json_string_value(v))) {
			snprintf(p, sizeof(p), "allowed_hosts[%zu]", i);
			field(err, path, p, "must be a host name such as api.example.com[:port]");
		}
	}
	a = json_object_get(s, "secrets");
	json_array_foreach(a, i, v) {
		snprintf(p, sizeof(p), "%s.secrets[%zu]", path, i);
		if (check_obj(v, "key:s!,description:s,has_value:b", p, err) != 0)
			continue;
		if (!tg_secrets_valid_key(str(v, "key", "")))
			field(err, p, "key", "must match [A-Za-z_][A-Za-z0-9_]{0,63}");
		if (strlen(str(v, "description", "")) > 1024)
			field(err, p, "description", "at most 1024 bytes");
		for (j = 0; j < i; j++)
			if (strcmp(str(json_array_get(a, j), "key", ""), str(v, "key", "")) == 0)
				field(err, p, "key", "duplicate secret key in this server");
	}
	a = tools = json_object_get(s, "tools");
	json_array_foreach(a, i, v) {
		snprintf(p, sizeof(p), "%s.tools[%zu]", path, i);
		check_tool(v, p, code_max, keep_status, 0, err);
		if (json_is_object(v) && seen(a, i, "name", str(v, "name", "")))
			field(err, p, "name", "duplicate tool name in this server");
	}
	/* packages: requests with their recorded resolution (no trees) */
	a = json_object_get(s, "packages");
	json_array_foreach(a, i, v) {
		char why[200];

		snprintf(p, sizeof(p), "%s.packages[%zu]", path, i);
		if (check_obj(v, "name:s!,spec:s,import_names:a,reason:s,status:s,"
		    "resolution:o!,created_at:s", p, err) != 0)
			continue;
		if (tg_packages_check_export(v, why, sizeof(why)) != 0)
			field(err, p, "resolution", why);
		check_time(v, p, err);
	}
	a = srcs = json_object_get(s, "sources");
	json_array_foreach(a, i, v) {
		snprintf(p, sizeof(p), "%s.sources[%zu]", path, i);
		check_source(v, p, err);
		if (json_is_object(v) && seen(a, i, "name", str(v, "name", "")))
			field(err, p, "name", "duplicate source name in this server");
	}
	a = json_object_get(s, "external_tools");
	json_array_foreach(a, i, v) {
		snprintf(p, sizeof(p), "%s.external_tools[%zu]", path, i);
		check_tool(v, p, code_max, keep_status, 1, err);
		if (!json_is_object(v))
			continue;
		/* one namespace with the Python tools; a remote tool once per source */
		if (seen(tools, json_array_size(tools), "name", str(v, "name", "")) ||
		    seen(a, i, "name", str(v, "name", "")))
			field(err, p, "name", "duplicate tool name in this server");
		if (json_is_string(json_object_get(v, "source")) &&
		    !seen(srcs, json_array_size(srcs), "name", str(v, "source", "")))
			field(err, p, "source", "names no entry of this server's sources");
		for (j = 0; j < i; j++) {
			w = json_array_get(a, j);
			if (json_is_object(w) && strcmp(str(w, "source", "\x01"), str(v, "source", "")) == 0 &&
			    strcmp(str(w, "remote_name", "\x01"), str(v, "remote_name", "")) == 0)
				field(err, p, "remote_name", "this remote tool is imported twice from its source");
		}
	}
}

static int
check_doc(const struct tg_call *c, json_t *doc, int keep_status,
    struct tg_err *err)
{
	json_t *lim = NULL, *cb, *servers, *s;
	int64_t code_max = 256 * 1024;
	json_int_t version;
	char p[64];
	size_t i;
	int rc;

	if (check_obj(doc, "format:s!,format_version:I!,exported_at:s,settings:o,"
	    "servers:a!", "", err) != 0)
		return -err->status;
	if (strcmp(str(doc, "format", ""), TG_EXPORT_FORMAT) != 0)
		field(err, "", "format", "must be \"" TG_EXPORT_FORMAT "\"");
	version = json_integer_value(json_object_get(doc, "format_version"));
	if (version < 1 || version > TG_EXPORT_FORMAT_VERSION)
		field(err, "", "format_version", "unsupported; this server reads versions 1 and 2");
	if (err->status)
		return -err->status;
	if ((rc = tg_settings_value(c->db, "limits", &lim)) != TG_OK)
		return tg_err_from(err, rc);
	if (json_is_integer(cb = json_object_get(lim, "code_bytes")))
		code_max = json_integer_value(cb);
	json_decref(lim);
	if (code_max > TG_TOOL_CODE_MAX)
		code_max = TG_TOOL_CODE_MAX;
	servers = json_object_get(doc, "servers");
	json_array_foreach(servers, i, s) {
		if (too_many(err))
			break;
		snprintf(p, sizeof(p), "servers[%zu]", i);
		check_server(s, p, code_max, keep_status, version, err);
		if (json_is_object(s) && seen(servers, i, "name", str(s, "name", "")))
			field(err, p, "name", "duplicate server name in this document");
	}
	if (too_many(err))
		snprintf(err->detail, sizeof(err->detail),
		    "the document has many problems; the first %d are listed",
		    TG_EXPORT_MAX_FIELD_ERRORS);
	return err->status ? -err->status : TG_OK;
}

/* ------------------------------------------------------------- export */

int
tg_export_build(const struct tg_call *c, json_t **out, struct tg_err *err)
{
	json_t *doc = NULL, *settings = NULL, *servers = NULL, *detail = NULL;
	char when[TG_TS_LEN + 1];
	int rc;

	if ((rc = tg_svc_need(c, TG_P_SETTINGS, err)) != TG_OK)
		return rc;
	if (tg_ts_rfc3339(when, sizeof(when)) != TG_OK)
		snprintf(when, sizeof(when), "1970-01-01T00:00:00.000Z");
	/* One snapshot for settings and servers. */
	if ((rc = tg_db_exec(c->db,
	    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, NULL)) != TG_OK)
		goto out;
	if ((rc = tg_settings_effective(c->db, &settings)) != TG_OK)
		goto out;
	if ((rc = tg_svc_query_array(c->db, SERVER_EXPORT, 0, NULL,
	    &servers)) != TG_OK)
		goto out;
	if ((rc = tg_db_commit(c->db)) != TG_OK)
		goto out;
	doc = json_pack("{s:s, s:i, s:s, s:O, s:O}", "format", TG_EXPORT_FORMAT,
	    "format_version", TG_EXPORT_FORMAT_VERSION, "exported_at", when,
	    "settings", settings, "servers", servers);
	detail = json_pack("{s:I}", "servers", (json_int_t)json_array_size(servers));
	if (doc == NULL || detail == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	if ((rc = tg_audit_call(c, "export", "all", TG_AUDIT_OK, detail)) != TG_OK)
		goto out;
	*out = doc;
	doc = NULL;
out:
	if (rc != TG_OK)
		tg_db_rollback(c->db);
	json_decref(doc);
	json_decref(settings);
	json_decref(servers);
	json_decref(detail);
	return tg_err_from(err, rc);
}

/* ------------------------------------------------------------- import */

/* 409 with one field error per server name that exists already. */
static int
conflicts(const struct tg_call *c, json_t *servers, struct tg_err *err)
{
	json_t *names = json_array(), *s, *taken = NULL, *n;
	char *txt = NULL, p[64];
	const char *prm[1];
	size_t i, j;
	int rc;

	json_array_foreach(servers, i, s)
		json_array_append_new(names, json_string(str(s, "name", "")));
	if (names == NULL || (txt = json_dumps(names, JSON_COMPACT)) == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	prm[0] = txt;
	rc = tg_svc_query_array(c->db,
	    "SELECT to_json(s.name)::text FROM servers s WHERE s.name IN"
	    " (SELECT json_array_elements_text($1::json)) ORDER BY s.name", 1, prm,
	    &taken);
	if (rc != TG_OK || json_array_size(taken) == 0)
		goto out;
	tg_err_set(err, TG_E_CONFLICT, "%zu server name(s) of the import exist already;"
	    " nothing was imported (rename or delete them first)", json_array_size(taken));
	json_array_foreach(servers, i, s) {
		json_array_foreach(taken, j, n) {
			if (strcmp(json_string_value(n), str(s, "name", "")) == 0) {
				snprintf(p, sizeof(p), "servers[%zu]", i);
				field(err, p, "name", "a server with this name exists already");
			}
		}
	}
	rc = -TG_E_CONFLICT;
out:
	free(txt);
	json_decref(names);
	json_decref(taken);
	return rc;
}

/* Settings with field errors prefixed "settings.". */
static int
import_settings(const struct tg_call *c, json_t *settings, struct tg_err *err)
{
	struct tg_err e;
	json_t *f;
	size_t i;
	int rc;

	tg_err_init(&e);
	rc = tg_settings_store(c, settings, &e);
	if (rc != TG_OK && e.fields) {
		json_array_foreach(e.fields, i, f)
			field(err, "settings", str(f, "field", "?"), str(f, "message", "invalid"));
		rc = -err->status;
	} else if (rc != TG_OK) {
		*err = e;
		return rc;
	}
	tg_err_clear(&e);
	return rc;
}

/* Maps a failed INSERT: unique violations are 409, bad values 422, both
 * on the object at path. */
static int
insert_failed(const struct tg_call *c, int rc, const char *path,
    struct tg_err *err)
{
	const char *st = tg_db_sqlstate(c->db);

	if (rc == -TG_E_CONFLICT && strcmp(st, "23505") == 0) {
		tg_err_set(err, TG_E_CONFLICT, "%s: the name is taken (a concurrent change)", path);
		field(err, path, "name", "exists already");
		return -TG_E_CONFLICT;
	}
	if (rc == -TG_E_UNPROCESSABLE) {
		field(err, path, NULL, "a value was refused by the database (a timestamp or a constraint)");
		return -TG_E_UNPROCESSABLE;
	}
	return tg_err_from(err, rc);
}

/* Runs one import statement; a failure is mapped by insert_failed() on the
 * object at path. */
static int
import_exec(const struct tg_call *c, const char *sql, int n,
    const char *const *p, PGresult **res, const char *path, struct tg_err *err)
{
	int rc = tg_db_exec(c->db, sql, n, p, res);

	return rc == TG_OK ? TG_OK : insert_failed(c, rc, path, err);
}

/* Appends item (stolen; NULL when it could not be built) to arr. */
static int
append_new(json_t *arr, json_t *item)
{
	return json_array_append_new(arr, item) == 0 ? TG_OK : -TG_E_NOMEM;
}

/* source_id: the new id of the tool's source for an external tool (as
 * text), NULL for a Python tool. */
static int
import_tool(const struct tg_call *c, int64_t server_id, json_t *t,
    const char *path, int keep_status, const char *actor, const char *source_id,
    json_t *items, long *nversions, struct tg_err *err)
{
	char sid[24], cv[24], av[24], *schema = NULL, *annot = NULL, *vers = NULL;
	const char *p[17], *status;
	json_t *avj, *item;
	PGresult *res = NULL;
	int64_t id = 0, approved = 0, current;
	int rc;

	status = keep_status ? str(t, "status", "draft") : "draft";
	avj = keep_status ? opt(t, "approved_version") : NULL;
	current = json_integer_value(json_object_get(t, "current_version"));
	if (avj)
		approved = json_integer_value(avj);
	/*
	 * security (issue #14): what is served is the approved version, so
	 * keep_status keeps the rule of the workflow (lib/versions.c): nothing
	 * is served that the document does not clearly approve.
	 */
	tg_versions_import_state(&status, current, &approved);
	tg_i64s(sid, sizeof(sid), server_id);
	tg_i64s(cv, sizeof(cv), current);
	if (approved)
		tg_i64s(av, sizeof(av), approved);
	if ((opt(t, "input_schema") &&
	    (schema = json_dumps(opt(t, "input_schema"), JSON_COMPACT)) == NULL) ||
	    (opt(t, "annotations") &&
	    (annot = json_dumps(opt(t, "annotations"), JSON_COMPACT)) == NULL) ||
	    (vers = json_dumps(json_object_get(t, "versions"), JSON_COMPACT)) == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	p[0] = sid;
	p[1] = str(t, "name", "");
	p[2] = str(t, "description", "");
	p[3] = str(t, "code", "");
	p[4] = schema;
	p[5] = source_of(t);
	p[6] = annot;
	p[7] = status;
	p[8] = cv;
	p[9] = approved ? av : NULL;
	p[10] = keep_status ? json_string_value(json_object_get(t, "review_reason")) : NULL;
	p[11] = actor;
	p[12] = json_string_value(json_object_get(t, "created_at"));
	p[13] = vers;
	p[14] = source_id;
	p[15] = source_id ? str(t, "remote_name", "") : NULL;
	p[16] = source_id ? json_string_value(json_object_get(t, "remote_hash")) : NULL;
	if ((rc = import_exec(c, TOOL_IMPORT, 17, p, &res, path, err)) != TG_OK)
		goto out;
	if (PQntuples(res) < 1 ||
	    (rc = tg_parse_i64(PQgetvalue(res, 0, 0), 1, INT64_MAX, &id)) != TG_OK) {
		rc = -TG_E_INTERNAL;
		goto out;
	}
	*nversions += PQntuples(res);
	item = json_pack("{s:s, s:I, s:s, s:i}", "name", p[1], "id", (json_int_t)id,
	    "status", status, "versions", PQntuples(res));
	if (item && source_id &&
	    json_object_set_new(item, "source", json_string(str(t, "source", ""))) != 0) {
		json_decref(item);
		item = NULL;
	}
	rc = append_new(items, item);
out:
	free(schema);
	free(annot);
	free(vers);
	PQclear(res);
	return rc;
}

/* The sources of server id (one INSERT, no credentials). *ids gets
 * {source name: new id as text}; items [{"name", "id",
 * "credential_required"}]; warnings one entry per source whose credential
 * must be entered again (it had one, or its auth_type needs one). */
static int
import_sources(const struct tg_call *c, const char *server_id, json_t *s,
    const char *path, const char *actor, json_t *ids, json_t *items,
    json_t *warnings, long *count, struct tg_err *err)
{
	json_t *srcs = json_object_get(s, "sources"), *v, *item;
	char *txt = NULL, sp[224];
	const char *p[3], *id;
	PGresult *res = NULL;
	int64_t nid;
	size_t i;
	int rc, r, need;

	if (json_array_size(srcs) == 0)
		return TG_OK;
	if ((txt = json_dumps(srcs, JSON_COMPACT)) == NULL)
		return tg_err_from(err, -TG_E_NOMEM);
	p[0] = server_id;
	p[1] = actor;
	p[2] = txt;
	if ((rc = import_exec(c, SOURCE_IMPORT, 3, p, &res, path, err)) != TG_OK)
		goto out;
	for (r = 0; r < PQntuples(res); r++)
		if (json_object_set_new(ids, PQgetvalue(res, r, 1),
		    json_string(PQgetvalue(res, r, 0))) != 0) {
			rc = -TG_E_NOMEM;
			goto out;
		}
	json_array_foreach(srcs, i, v) {
		id = json_string_value(json_object_get(ids, str(v, "name", "")));
		if (id == NULL || tg_parse_i64(id, 1, INT64_MAX, &nid) != TG_OK) {
			rc = -TG_E_INTERNAL;
			goto out;
		}
		need = json_is_true(json_object_get(v, "credential_set")) ||
		    strcmp(str(v, "auth_type", "none"), "none") != 0;
		item = json_pack("{s:s, s:I, s:b}", "name", str(v, "name", ""), "id",
		    (json_int_t)nid, "credential_required", need);
		if ((rc = append_new(items, item)) != TG_OK)
			goto out;
		if (!need)
			continue;
		snprintf(sp, sizeof(sp), "%s.sources[%zu]", path, i);
		item = json_pack("{s:s, s:s, s:s, s:I, s:s}", "field", sp, "server",
		    str(s, "name", ""), "source", str(v, "name", ""), "source_id",
		    (json_int_t)nid,
		    "message", "the source credential is never exported: set it again"
		    " (PATCH /api/v1/sources/{id} with \"credential\")");
		if ((rc = append_new(warnings, item)) != TG_OK)
			goto out;
	}
	*count += PQntuples(res);
out:
	free(txt);
	PQclear(res);
	return rc;
}

static int
import_server(const struct tg_call *c, json_t *s, const char *path,
    int keep_status, const char *actor, json_t *result, json_t *warnings,
    long *counts, struct tg_err *err)
{
	char *hosts = NULL, *secrets = NULL, ids[24], tp[224];
	const char *p[7], *status, *sid;
	json_t *tools, *t, *items = NULL, *item = NULL, *srcids = NULL, *srcitems = NULL;
	PGresult *res = NULL;
	int64_t id = 0;
	size_t i;
	int rc;

	status = keep_status ? str(s, "status", "stopped") : "stopped";
	hosts = json_dumps(json_object_get(s, "allowed_hosts") ?
	    json_object_get(s, "allowed_hosts") : json_array(), JSON_COMPACT);
	secrets = json_dumps(json_object_get(s, "secrets") ?
	    json_object_get(s, "secrets") : json_array(), JSON_COMPACT);
	items = json_array();
	srcids = json_object();
	srcitems = json_array();
	if (hosts == NULL || secrets == NULL || items == NULL || srcids == NULL ||
	    srcitems == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	p[0] = str(s, "name", "");
	p[1] = str(s, "description", "");
	p[2] = json_string_value(json_object_get(s, "tool_prefix"));
	p[3] = status;
	p[4] = hosts;
	p[5] = actor;
	p[6] = json_string_value(json_object_get(s, "created_at"));
	if ((rc = import_exec(c,
	    "INSERT INTO servers (name, description, tool_prefix, status, allowed_hosts,"
	    " created_by, created_at) VALUES ($1, $2, $3, $4,"
	    " ARRAY(SELECT json_array_elements_text($5::json)), $6::bigint,"
	    " coalesce($7::timestamptz, now())) RETURNING id", 7, p, &res, path, err)) != TG_OK)
		goto out;
	if ((rc = tg_parse_i64(PQgetvalue(res, 0, 0), 1, INT64_MAX, &id)) != TG_OK)
		goto out;
	counts[0]++;
	tg_i64s(ids, sizeof(ids), id);
	p[0] = ids;
	p[1] = actor;
	p[2] = secrets;
	PQclear(res);
	res = NULL;
	/* placeholders: names and descriptions only, never a value */
	if ((rc = import_exec(c,
	    "INSERT INTO server_secrets (server_id, key, description, created_by)"
	    " SELECT $1::bigint, x.key, coalesce(x.description, ''), $2::bigint"
	    " FROM json_to_recordset($3::json) AS x(key text, description text)",
	    3, p, NULL, path, err)) != TG_OK)
		goto out;
	counts[3] += (long)json_array_size(json_object_get(s, "secrets"));
	tools = json_object_get(s, "tools");
	json_array_foreach(tools, i, t) {
		snprintf(tp, sizeof(tp), "%s.tools[%zu]", path, i);
		if ((rc = import_tool(c, id, t, tp, keep_status, actor, NULL, items,
		    &counts[2], err)) != TG_OK)
			goto out;
		counts[1]++;
	}
	if ((rc = import_sources(c, ids, s, path, actor, srcids, srcitems, warnings,
	    &counts[4], err)) != TG_OK)
		goto out;
	tools = json_object_get(s, "external_tools");
	json_array_foreach(tools, i, t) {
		snprintf(tp, sizeof(tp), "%s.external_tools[%zu]", path, i);
		/* check_doc made sure that the source is in this server */
		if ((sid = json_string_value(json_object_get(srcids, str(t, "source", "")))) == NULL) {
			rc = -TG_E_INTERNAL;
			goto out;
		}
		if ((rc = import_tool(c, id, t, tp, keep_status, actor, sid, items,
		    &counts[2], err)) != TG_OK)
			goto out;
		counts[1]++;
	}
	/* packages: the requests, then the set (trees are built on first use) */
	if ((rc = tg_packages_import(c, id, json_object_get(s, "packages"),
	    keep_status, actor, err)) != TG_OK)
		goto out;
	if (strcmp(status, "running") == 0 &&
	    (rc = tg_servers_check_clash(c, id, NULL, NULL, err)) != TG_OK)
		goto out;
	item = json_pack("{s:s, s:I, s:s, s:O, s:O}", "name", str(s, "name", ""), "id",
	    (json_int_t)id, "status", status, "tools", items, "sources", srcitems);
	rc = append_new(result, item);
out:
	free(hosts);
	free(secrets);
	json_decref(items);
	json_decref(srcids);
	json_decref(srcitems);
	PQclear(res);
	return rc;
}

struct import {
	json_t *servers, *settings;	/* borrowed */
	int keep, do_settings;
	json_t *o;			/* out: the answer */
};

static int
import_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct import *a = arg;
	json_t *s, *result = NULL, *warnings = NULL, *detail = NULL;
	/* servers, tools (both kinds), versions, secrets, sources */
	long counts[5] = {0, 0, 0, 0, 0};
	char actor[24], p[64];
	const char *act;
	size_t i;
	int rc;

	act = tg_svc_actor(c, actor, sizeof(actor));
	result = json_array();
	warnings = json_array();
	if (result == NULL || warnings == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	if ((rc = conflicts(c, a->servers, err)) != TG_OK)
		goto out;
	if (a->do_settings && (rc = import_settings(c, a->settings, err)) != TG_OK)
		goto out;
	json_array_foreach(a->servers, i, s) {
		snprintf(p, sizeof(p), "servers[%zu]", i);
		if ((rc = import_server(c, s, p, a->keep, act, result, warnings, counts,
		    err)) != TG_OK)
			goto out;
	}
	a->o = json_pack("{s:O, s:{s:I, s:I, s:I, s:I, s:I}, s:b, s:b, s:O}", "servers",
	    result, "counts", "servers", (json_int_t)counts[0], "tools",
	    (json_int_t)counts[1], "versions", (json_int_t)counts[2], "secrets",
	    (json_int_t)counts[3], "sources", (json_int_t)counts[4],
	    "settings_applied", a->do_settings, "keep_status", a->keep, "warnings",
	    warnings);
	detail = a->o ? json_pack("{s:O, s:b, s:b}", "counts", json_object_get(a->o,
	    "counts"), "settings_applied", a->do_settings, "keep_status", a->keep) : NULL;
	if (a->o == NULL || detail == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	rc = tg_audit_call(c, "import", "all", TG_AUDIT_OK, detail);
out:
	json_decref(result);
	json_decref(warnings);
	json_decref(detail);
	return tg_err_from(err, rc);
}

int
tg_export_import(const struct tg_call *c, json_t *doc,
    const struct tg_import_opts *opts, json_t **out, struct tg_err *err)
{
	struct import a = {0};
	int rc;

	if ((rc = tg_svc_need(c, TG_P_SETTINGS, err)) != TG_OK)
		return rc;
	a.keep = opts && opts->keep_status;
	if ((rc = check_doc(c, doc, a.keep, err)) != TG_OK)
		return rc;
	a.servers = json_object_get(doc, "servers");
	a.settings = json_object_get(doc, "settings");
	a.do_settings = a.settings != NULL && !(opts && opts->skip_settings);
	if ((rc = tg_call_tx(c, import_tx, &a, err)) == TG_OK)
		*out = a.o;
	else
		json_decref(a.o);
	return rc;
}
