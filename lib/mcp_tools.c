/*
 * mcp_tools.c - tools/list, tools/call, the toolgate_* management tools,
 * argument validation, redaction and execution logs (see mcp_tools.h).
 *
 * Sources of tools, in one name-sorted list:
 *   - management tools (static table below), filtered by the caller's
 *     role; each one calls the lifecycle service layer (lib/svc.h) with
 *     the request, so permission rules, validation and audit are exactly
 *     those of REST. Service failures come back as isError results whose
 *     text is "<status>: <detail>" (and the field errors), so a model can
 *     correct itself.
 *   - approved tools of running servers, by exposed name
 *     (COALESCE(prefix, name || '__') || tool name), with the approved
 *     version's description, input schema (verbatim) and annotations.
 * Approval and server state are re-read at every call.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>	/* security: OPENSSL_cleanse of unscrubbed log text */

#include "fcgi/config.h"
#include "fcgi/log.h"
#include "lib/approvals.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/inval.h"
#include "lib/logs.h"
#include "lib/mcp_session.h"
#include "lib/metrics.h"
#include "lib/mcp_tools.h"
#include "lib/parse.h"
#include "lib/sandbox_client.h"
#include "lib/secrets.h"
#include "lib/sources.h"	/* sources: passthrough */
#include "lib/servers.h"
#include "lib/settings.h"
#include "lib/slots.h"	/* reliability */
#include "lib/status.h"
#include "lib/svc.h"
#include "lib/tools.h"

#define REDACTED "[REDACTED]"
#define MAX_SCHEMA_DEPTH 32

void
tg_rpc_err_clear(struct tg_rpc_err *e)
{
	json_decref(e->data);
	memset(e, 0, sizeof(*e));
}

int
tg_rpc_err_set(struct tg_rpc_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	e->code = code;
	va_start(ap, fmt);
	n = vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	if (n < 0)
		e->message[0] = '\0';
	/* reliability: a cut (or a raw value) must not make the JSON fail */
	tg_utf8_scrub(e->message);
	return -1;
}

/* --- redaction and truncation --------------------------------------- */

int
tg_mcp_key_sensitive(const char *key)
{
	static const char *const words[] = {"password", "secret", "token", "key",
		"auth", "credential", "cookie", "passwd", NULL};
	int i;

	for (i = 0; words[i]; i++)
		if (strcasestr(key, words[i]) != NULL)
			return 1;
	return 0;
}

static json_t *
redact(const json_t *v, int depth)
{
	json_t *out, *c;
	const char *k;
	json_t *x;
	size_t i;

	if (depth > 128)
		return json_string(REDACTED);
	if (json_is_object(v)) {
		if ((out = json_object()) == NULL)
			return NULL;
		json_object_foreach((json_t *)v, k, x) {
			c = tg_mcp_key_sensitive(k) ? json_string(REDACTED) : redact(x, depth + 1);
			if (c == NULL || json_object_set_new(out, k, c) != 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	}
	if (json_is_array(v)) {
		if ((out = json_array()) == NULL)
			return NULL;
		json_array_foreach(v, i, x) {
			c = redact(x, depth + 1);
			if (c == NULL || json_array_append_new(out, c) != 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	}
	return json_deep_copy(v);
}

json_t *
tg_mcp_redact(const json_t *v)
{
	if (v == NULL)
		return json_null();
	return redact(v, 0);
}

char *
tg_mcp_truncate(const char *s, size_t n, size_t max)
{
	char marker[64], *out;
	size_t cut = n, mlen = 0;
	int k;

	if (n > max) {
		cut = max;
		/* Back up to a UTF-8 boundary (never split a sequence). */
		while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
			cut--;
		k = snprintf(marker, sizeof(marker), "\xE2\x80\xA6[truncated %zu bytes]",
		    n - cut);
		if (k < 0 || (size_t)k >= sizeof(marker))
			return NULL;
		mlen = (size_t)k;
	}
	if ((out = malloc(cut + mlen + 1)) == NULL)
		return NULL;
	memcpy(out, s, cut);
	if (mlen)
		memcpy(out + cut, marker, mlen);
	out[cut + mlen] = '\0';
	return out;
}

/* --- JSON Schema subset --------------------------------------------- */

struct sv {
	const json_t *root;
	char *why;
	size_t cap;
};

static int
sv_fail(struct sv *v, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
sv_fail(struct sv *v, const char *path, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		msg[0] = '\0';
	if (v->cap)
		snprintf(v->why, v->cap, "%s: %s", path, msg);
	return -TG_E_UNPROCESSABLE;
}

static int
type_is(const char *t, const json_t *x)
{
	if (strcmp(t, "object") == 0) return json_is_object(x);
	if (strcmp(t, "array") == 0) return json_is_array(x);
	if (strcmp(t, "string") == 0) return json_is_string(x);
	if (strcmp(t, "boolean") == 0) return json_is_boolean(x);
	if (strcmp(t, "null") == 0) return json_is_null(x);
	if (strcmp(t, "number") == 0) return json_is_number(x);
	if (strcmp(t, "integer") == 0) {
		double d;

		if (json_is_integer(x))
			return 1;
		if (!json_is_real(x))
			return 0;
		d = json_real_value(x);
		return d == (double)(long long)d;
	}
	return 1;	/* unknown type names do not constrain */
}

static const char *
type_name(const json_t *x)
{
	switch (json_typeof(x)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "number";
	case JSON_TRUE: case JSON_FALSE: return "boolean";
	default: return "null";
	}
}

static size_t
utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static int validate(struct sv *v, const json_t *schema, const json_t *x,
    const char *path, int depth);

static const json_t *
resolve_ref(struct sv *v, const char *ref)
{
	const json_t *cur = v->root;
	char seg[128];
	const char *p;

	if (strcmp(ref, "#") == 0)
		return v->root;
	if (strncmp(ref, "#/", 2) != 0)
		return NULL;
	p = ref + 2;
	while (*p && cur) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n >= sizeof(seg))
			return NULL;
		memcpy(seg, p, n);
		seg[n] = '\0';
		cur = json_object_get(cur, seg);
		p += n;
		if (*p == '/')
			p++;
	}
	return cur;
}

static int
num_check(struct sv *v, const json_t *schema, const json_t *x, const char *path)
{
	const json_t *b;
	double d = json_number_value(x);

	if ((b = json_object_get(schema, "minimum")) && json_is_number(b) &&
	    d < json_number_value(b))
		return sv_fail(v, path, "must be >= %g", json_number_value(b));
	if ((b = json_object_get(schema, "maximum")) && json_is_number(b) &&
	    d > json_number_value(b))
		return sv_fail(v, path, "must be <= %g", json_number_value(b));
	if ((b = json_object_get(schema, "exclusiveMinimum")) && json_is_number(b) &&
	    d <= json_number_value(b))
		return sv_fail(v, path, "must be > %g", json_number_value(b));
	if ((b = json_object_get(schema, "exclusiveMaximum")) && json_is_number(b) &&
	    d >= json_number_value(b))
		return sv_fail(v, path, "must be < %g", json_number_value(b));
	return TG_OK;
}

static int
object_check(struct sv *v, const json_t *schema, const json_t *x,
    const char *path, int depth)
{
	const json_t *props = json_object_get(schema, "properties");
	const json_t *req = json_object_get(schema, "required");
	const json_t *addl = json_object_get(schema, "additionalProperties");
	const char *k;
	json_t *val, *r;
	char sub[512];
	size_t i;
	int rc;

	if (json_is_array(req)) {
		json_array_foreach(req, i, r) {
			if (json_is_string(r) && json_object_get(x, json_string_value(r)) == NULL)
				return sv_fail(v, path, "missing required property \"%s\"",
				    json_string_value(r));
		}
	}
	json_object_foreach((json_t *)x, k, val) {
		const json_t *ps = json_is_object(props) ? json_object_get(props, k) : NULL;

		snprintf(sub, sizeof(sub), "%s.%s", path, k);
		if (ps != NULL) {
			if ((rc = validate(v, ps, val, sub, depth + 1)) != TG_OK)
				return rc;
		} else if (json_is_false(addl)) {
			return sv_fail(v, path, "unexpected property \"%s\"", k);
		} else if (json_is_object(addl)) {
			if ((rc = validate(v, addl, val, sub, depth + 1)) != TG_OK)
				return rc;
		}
	}
	return TG_OK;
}

static int
validate(struct sv *v, const json_t *schema, const json_t *x, const char *path,
    int depth)
{
	const json_t *t, *b, *e;
	char sub[512];
	size_t i;
	int rc, ok;

	if (depth > MAX_SCHEMA_DEPTH)
		return sv_fail(v, path, "schema nesting too deep");
	if (json_is_false(schema))
		return sv_fail(v, path, "no value is allowed here");
	if (!json_is_object(schema))
		return TG_OK;
	if ((b = json_object_get(schema, "$ref")) && json_is_string(b)) {
		const json_t *target = resolve_ref(v, json_string_value(b));

		if (target == NULL)
			return sv_fail(v, path, "unresolvable $ref %s", json_string_value(b));
		if ((rc = validate(v, target, x, path, depth + 1)) != TG_OK)
			return rc;
	}
	if ((t = json_object_get(schema, "type")) != NULL) {
		ok = 0;
		if (json_is_string(t)) {
			ok = type_is(json_string_value(t), x);
		} else if (json_is_array(t)) {
			json_array_foreach(t, i, e) {
				if (json_is_string(e) && type_is(json_string_value(e), x))
					ok = 1;
			}
		} else {
			ok = 1;
		}
		if (!ok)
			return sv_fail(v, path, "expected %s, got %s",
			    json_is_string(t) ? json_string_value(t) : "one of the listed types",
			    type_name(x));
	}
	if ((b = json_object_get(schema, "const")) && !json_equal(b, x))
		return sv_fail(v, path, "must equal the schema's const value");
	if ((b = json_object_get(schema, "enum")) && json_is_array(b)) {
		ok = 0;
		json_array_foreach(b, i, e)
			if (json_equal(e, x))
				ok = 1;
		if (!ok)
			return sv_fail(v, path, "must be one of the enum values");
	}
	if (json_is_number(x) && (rc = num_check(v, schema, x, path)) != TG_OK)
		return rc;
	if (json_is_string(x)) {
		size_t n = utf8_len(json_string_value(x));

		if ((b = json_object_get(schema, "minLength")) && json_is_integer(b) &&
		    (json_int_t)n < json_integer_value(b))
			return sv_fail(v, path, "shorter than %lld characters",
			    (long long)json_integer_value(b));
		if ((b = json_object_get(schema, "maxLength")) && json_is_integer(b) &&
		    (json_int_t)n > json_integer_value(b))
			return sv_fail(v, path, "longer than %lld characters",
			    (long long)json_integer_value(b));
	}
	if (json_is_array(x)) {
		if ((b = json_object_get(schema, "minItems")) && json_is_integer(b) &&
		    (json_int_t)json_array_size(x) < json_integer_value(b))
			return sv_fail(v, path, "fewer than %lld items",
			    (long long)json_integer_value(b));
		if ((b = json_object_get(schema, "maxItems")) && json_is_integer(b) &&
		    (json_int_t)json_array_size(x) > json_integer_value(b))
			return sv_fail(v, path, "more than %lld items",
			    (long long)json_integer_value(b));
		if ((b = json_object_get(schema, "items")) && json_is_object(b))
			json_array_foreach(x, i, e) {
				snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
				if ((rc = validate(v, b, e, sub, depth + 1)) != TG_OK)
					return rc;
			}
	}
	if (json_is_object(x) && (rc = object_check(v, schema, x, path, depth)) != TG_OK)
		return rc;
	if ((b = json_object_get(schema, "allOf")) && json_is_array(b))
		json_array_foreach(b, i, e)
			if ((rc = validate(v, e, x, path, depth + 1)) != TG_OK)
				return rc;
	if ((b = json_object_get(schema, "anyOf")) && json_is_array(b)) {
		ok = 0;
		json_array_foreach(b, i, e)
			if (validate(v, e, x, path, depth + 1) == TG_OK) {
				ok = 1;
				break;
			}
		if (!ok)
			return sv_fail(v, path, "matches none of anyOf");
	}
	if ((b = json_object_get(schema, "oneOf")) && json_is_array(b)) {
		ok = 0;
		json_array_foreach(b, i, e)
			if (validate(v, e, x, path, depth + 1) == TG_OK)
				ok++;
		if (ok != 1)
			return sv_fail(v, path, "must match exactly one of oneOf (matches %d)", ok);
	}
	return TG_OK;
}

int
tg_mcp_schema_validate(const json_t *schema, const json_t *instance, char *why,
    size_t cap)
{
	struct sv v = {schema, why, cap};

	if (cap)
		why[0] = '\0';
	return validate(&v, schema, instance, "$", 0);
}

/* --- results --------------------------------------------------------- */

static json_t *
text_result(const char *text, int is_error)
{
	return json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text",
	    "text", text, "isError", is_error);
}

json_t *
tg_mcp_result_from_sandbox(const json_t *sbx, const char **status)
{
	const json_t *content = json_object_get(sbx, "content");
	const json_t *result = json_object_get(sbx, "result");
	const json_t *err = json_object_get(sbx, "error");
	json_t *out = NULL;
	char *text = NULL, msg[1024];
	const char *etype, *emsg;

	if (json_is_true(json_object_get(sbx, "ok"))) {
		*status = "ok";
		if (json_is_array(content))
			return json_pack("{s:O, s:b}", "content", content, "isError", 0);
		if (json_is_string(result))
			return text_result(json_string_value(result), 0);
		if (result == NULL || json_is_null(result))
			return json_pack("{s:[], s:b}", "content", "isError", 0);
		text = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
		if (text == NULL)
			return NULL;
		out = text_result(text, 0);
		free(text);
		if (out && json_is_object(result) &&
		    json_object_set(out, "structuredContent", (json_t *)result) != 0) {
			json_decref(out);
			return NULL;
		}
		return out;
	}
	etype = json_string_value(json_object_get(err, "type"));
	emsg = json_string_value(json_object_get(err, "message"));
	if (json_is_true(json_object_get(sbx, "timed_out")))
		*status = "timeout";
	else if (json_is_true(json_object_get(sbx, "cancelled")))
		*status = "cancelled";	/* reliability: the client went away */
	else if (json_is_true(json_object_get(sbx, "truncated")) ||
	    (etype && strcmp(etype, "OutputLimit") == 0))
		*status = "truncated";
	else
		*status = "error";
	if (snprintf(msg, sizeof(msg), "%s: %s", etype ? etype : "Error",
	    emsg ? emsg : "the tool failed without a message") < 0)
		return NULL;
	return text_result(msg, 1);
}

/* --- management tools ------------------------------------------------ */

typedef int (*mfn)(struct tg_req *req, json_t *args, json_t **out,
    struct tg_err *err);

/* Tool annotations (MCP ToolAnnotations): readOnlyHint; for the others,
 * destructiveHint and idempotentHint; openWorldHint. */
#define MH_RO 0x1
#define MH_DESTRUCTIVE 0x2
#define MH_IDEMPOTENT 0x4
#define MH_OPEN 0x8

struct mtool {
	const char *name;
	enum tg_role min_role;
	unsigned hints;		/* MH_* */
	const char *description;
	const char *schema;
	mfn fn;
};

/* Portable schemas (no "type" arrays: clients that map schemas onto a
 * single-type dialect reject them): a tool is named by id or name. */
#define S_TOOL_ID "{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"description\":\"the tool: its id, its exposed name (<server>__<tool>, as in tools/list) or <server>/<tool>\"}"
#define S_SERVER_REF "{\"type\":\"object\",\"properties\":{\"server\":{\"type\":\"string\",\"description\":\"server name or id\"}},\"required\":[\"server\"],\"additionalProperties\":false}"
#define S_PAGE "{\"type\":\"object\",\"properties\":{\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":200},\"cursor\":{\"type\":\"string\"}},\"additionalProperties\":false}"

static int
page_of(json_t *args, struct tg_page *pg)
{
	json_t *l = json_object_get(args, "limit"), *c = json_object_get(args, "cursor");

	pg->limit = json_is_integer(l) ? json_integer_value(l) : 0;
	pg->cursor = json_is_string(c) ? json_string_value(c) : NULL;
	return TG_OK;
}

/* What a management tool acts on, and the member of its arguments that
 * names it: a server (name or id), a tool (id, exposed name or
 * server/tool) or a source (id or server/source), resolved as REST does. */
enum target { T_SERVER, T_TOOL, T_SOURCE };
static const char *const target_member[] = {"server", "tool", "source"};

static int
target_id(struct tg_req *req, json_t *args, enum target t, int64_t *id,
    struct tg_err *err)
{
	json_t *v = json_object_get(args, target_member[t]);
	const char *ref = json_string_value(v);
	char buf[24];

	if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		ref = buf;
	}
	if (t == T_SERVER)
		return tg_servers_resolve(req, ref, id, err);
	if (t == T_TOOL)
		return tg_tools_resolve(req, ref, id, err);
	return tg_sources_resolve(req, ref, id, err);
}

/* Copy of args without the member naming the target (new reference). */
static json_t *
body_of(json_t *args, const char *drop)
{
	json_t *c = json_copy(args);

	if (c != NULL)
		json_object_del(c, drop);
	return c;
}

/* Adapters from a tool's arguments to the service functions' shapes. */
typedef int (*id_fn)(struct tg_req *, int64_t, json_t **, struct tg_err *);
typedef int (*body_fn)(struct tg_req *, int64_t, json_t *, json_t **,
    struct tg_err *);
typedef int (*page_fn)(struct tg_req *, int64_t, const struct tg_page *,
    json_t **, struct tg_err *);
typedef int (*delete_fn)(struct tg_req *, int64_t, struct tg_err *);

static int
on_id(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err,
    enum target t, id_fn fn)
{
	int64_t id;
	int rc;

	if ((rc = target_id(req, args, t, &id, err)) != TG_OK)
		return rc;
	return fn(req, id, out, err);
}

/* fn gets the arguments without the target's member. */
static int
on_body(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err,
    enum target t, body_fn fn)
{
	json_t *in;
	int64_t id;
	int rc;

	if ((rc = target_id(req, args, t, &id, err)) != TG_OK)
		return rc;
	if ((in = body_of(args, target_member[t])) == NULL)
		return -TG_E_NOMEM;
	rc = fn(req, id, in, out, err);
	json_decref(in);
	return rc;
}

static int
on_page(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err,
    enum target t, page_fn fn)
{
	struct tg_page pg;
	int64_t id;
	int rc;

	if ((rc = target_id(req, args, t, &id, err)) != TG_OK)
		return rc;
	page_of(args, &pg);
	return fn(req, id, &pg, out, err);
}

/* {"deleted": true, "id": id} */
static int
on_delete(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err,
    enum target t, delete_fn fn)
{
	int64_t id;
	int rc;

	if ((rc = target_id(req, args, t, &id, err)) != TG_OK ||
	    (rc = fn(req, id, err)) != TG_OK)
		return rc;
	*out = json_pack("{s:b, s:I}", "deleted", 1, "id", (json_int_t)id);
	return *out ? TG_OK : -TG_E_NOMEM;
}

static int
m_list_servers(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	struct tg_page pg;

	page_of(args, &pg);
	return tg_servers_list(req, &pg, out, err);
}

static int
m_get_server(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_id(req, args, out, err, T_SERVER, tg_servers_get);
}

static int
m_create_server(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return tg_servers_create(req, args, out, err);
}

static int
m_delete_server(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_delete(req, args, out, err, T_SERVER, tg_servers_delete);
}

static int
m_start_server(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_id(req, args, out, err, T_SERVER, tg_servers_start);
}

static int
m_stop_server(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_id(req, args, out, err, T_SERVER, tg_servers_stop);
}

static int
m_list_tools(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	struct tg_page pg;
	int64_t id;
	int rc;

	if ((rc = target_id(req, args, T_SERVER, &id, err)) != TG_OK)
		return rc;
	page_of(args, &pg);
	return tg_tools_list(req, id, json_string_value(json_object_get(args, "status")),
	    &pg, out, err);
}

static int
m_get_tool(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_id(req, args, out, err, T_TOOL, tg_tools_get);
}

static int
m_create_tool(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_body(req, args, out, err, T_SERVER, tg_tools_create);
}

static int
m_update_tool(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_body(req, args, out, err, T_TOOL, tg_tools_update);
}

static int
m_delete_tool(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_delete(req, args, out, err, T_TOOL, tg_tools_delete);
}

static int
m_list_versions(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_page(req, args, out, err, T_TOOL, tg_tools_versions);
}

static int
m_rollback(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_body(req, args, out, err, T_TOOL, tg_tools_rollback);
}

static int
m_request_publish(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_body(req, args, out, err, T_TOOL, tg_tools_submit);
}

static int
m_test_tool(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_body(req, args, out, err, T_TOOL, tg_tools_test);
}

static int
m_validate_code(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return tg_tools_validate(req, args, out, err);
}

/* Secrets: names only. The schema has no "value": values never pass
 * through MCP, whatever the caller's role. */
static int
m_create_secret(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_body(req, args, out, err, T_SERVER, tg_secrets_create);
}

static int
m_list_secrets(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	int rc;

	if ((rc = tg_svc_need_role(req, TG_ROLE_VIEWER, err)) != TG_OK)
		return rc;
	return on_page(req, args, out, err, T_SERVER, tg_secrets_list);
}

static int
m_request_module(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	json_t *in, *reason = json_object_get(args, "reason");
	int64_t tid;
	int rc;

	in = json_pack("{s:O}", "module", json_object_get(args, "module"));
	if (in == NULL)
		return -TG_E_NOMEM;
	rc = TG_OK;
	if (reason != NULL && json_object_set(in, "reason", reason) != 0)
		rc = -TG_E_NOMEM;
	if (rc == TG_OK && json_object_get(args, "tool") != NULL &&
	    (rc = target_id(req, args, T_TOOL, &tid, err)) == TG_OK &&
	    json_object_set_new(in, "tool_id", json_integer((json_int_t)tid)) != 0)
		rc = -TG_E_NOMEM;
	if (rc == TG_OK)
		rc = tg_module_requests_create(req, in, out, err);
	json_decref(in);
	return rc;
}

static int
m_request_network(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	json_t *in;
	int rc;

	/* The service resolves server_id as an id or a name. */
	in = json_pack("{s:O, s:O, s:O*}", "server_id", json_object_get(args, "server"),
	    "host", json_object_get(args, "host"), "reason", json_object_get(args, "reason"));
	if (in == NULL)
		return -TG_E_NOMEM;
	rc = tg_network_requests_create(req, in, out, err);
	json_decref(in);
	return rc;
}

/* What to do next, for a model reading toolgate_tool_status. */
static const char *
next_step(const char *status, int served, const char *server_status)
{
	if (strcmp(status, "draft") == 0)
		return "Draft: test it with toolgate_test_tool, then submit it with toolgate_request_publish.";
	if (strcmp(status, "pending_review") == 0 && served)
		return "Pending review: MCP clients still get the approved version (served_version) until an admin approves or rejects the current one.";
	if (strcmp(status, "pending_review") == 0)
		return "Pending review: wait for an admin to approve or reject it (toolgate_list_pending_requests shows the queue).";
	if (strcmp(status, "rejected") == 0)
		return "Rejected (see review_reason): change it with toolgate_update_tool (it goes back to draft), then toolgate_request_publish.";
	if (served)
		return "Approved and served: MCP clients can call it under exposed_name.";
	if (server_status && strcmp(server_status, "running") != 0)
		return "Approved but not served: start its server with toolgate_start_server.";
	return "Approved but not served right now.";
}

static int
m_tool_status(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	static const char *const keep[] = {"id", "name", "exposed_name", "server_id",
		"server_name", "status", "current_version", "approved_version",
		"review_reason", "reviewed_at", "served", "served_version", "updated_at",
		NULL};
	json_t *t = NULL, *s = NULL, *o = NULL, *v;
	const char *st, *sst;
	int64_t id;
	int rc, i;

	if ((rc = target_id(req, args, T_TOOL, &id, err)) != TG_OK ||
	    (rc = tg_tools_get(req, id, &t, err)) != TG_OK)
		goto out;
	v = json_object_get(t, "server_id");
	if ((rc = tg_servers_get(req, json_is_integer(v) ? json_integer_value(v) : 0,
	    &s, err)) != TG_OK)
		goto out;
	if ((o = json_object()) == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	for (i = 0; keep[i]; i++)
		if ((v = json_object_get(t, keep[i])) != NULL &&
		    json_object_set(o, keep[i], v) != 0) {
			rc = -TG_E_NOMEM;
			goto out;
		}
	st = json_string_value(json_object_get(t, "status"));
	sst = json_string_value(json_object_get(s, "status"));
	if (json_object_set_new(o, "server_status", sst ? json_string(sst) : json_null()) != 0 ||
	    json_object_set_new(o, "next_step", json_string(next_step(st ? st : "",
	    json_is_true(json_object_get(t, "served")), sst))) != 0) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	*out = o;
	o = NULL;
out:
	json_decref(t);
	json_decref(s);
	json_decref(o);
	return rc;
}

static int
m_pending(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	struct tg_page pg;

	page_of(args, &pg);
	return tg_approvals_pending(req, &pg, out, err);
}

static int
m_tool_logs(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	struct tg_logs_filter f;
	struct tg_page pg;
	int64_t id;
	int rc;

	if ((rc = target_id(req, args, T_TOOL, &id, err)) != TG_OK)
		return rc;
	page_of(args, &pg);
	f.status = json_string_value(json_object_get(args, "status"));
	f.since = json_string_value(json_object_get(args, "since"));
	return tg_logs_list_tool(req, id, &f, &pg, out, err);
}

/* External sources. Credentials and "internal" are not in the schemas:
 * they are admin settings made over REST, never through a model. */
static int
m_add_source(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_body(req, args, out, err, T_SERVER, tg_sources_create);
}

static int
m_list_sources(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_page(req, args, out, err, T_SERVER, tg_sources_list);
}

static int
m_discover_source(struct tg_req *req, json_t *args, json_t **out, struct tg_err *err)
{
	return on_id(req, args, out, err, T_SOURCE, tg_sources_discover);
}

static int
m_import_source_tools(struct tg_req *req, json_t *args, json_t **out,
    struct tg_err *err)
{
	return on_body(req, args, out, err, T_SOURCE, tg_sources_import);
}

#define S_TOOL_REF "{\"type\":\"object\",\"properties\":{\"tool\":" S_TOOL_ID "},\"required\":[\"tool\"],\"additionalProperties\":false}"

static const struct mtool mtools[] = {
	{"toolgate_add_source", TG_ROLE_DEVELOPER, 0,
	 "Add an external MCP server (Streamable HTTP URL) to a server as a source of tools. Then toolgate_discover_source_tools and toolgate_import_source_tools. Credentials and internal (private-network) sources are set by an admin over REST.",
	 "{\"type\":\"object\",\"properties\":{\"server\":{\"type\":\"string\",\"description\":\"server name or id\"},\"name\":{\"type\":\"string\",\"pattern\":\"^[a-z0-9][a-z0-9_-]{0,47}$\"},\"url\":{\"type\":\"string\",\"description\":\"http(s) URL of the remote MCP endpoint\"},\"description\":{\"type\":\"string\"},\"enabled\":{\"type\":\"boolean\"},\"auth_type\":{\"type\":\"string\",\"enum\":[\"none\",\"bearer\",\"header\"]},\"auth_header\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]},\"connect_timeout_ms\":{\"type\":\"integer\",\"minimum\":100,\"maximum\":60000},\"timeout_ms\":{\"type\":\"integer\",\"minimum\":100,\"maximum\":120000},\"max_response_bytes\":{\"type\":\"integer\",\"minimum\":1024,\"maximum\":67108864},\"failure_threshold\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100},\"cooldown_s\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":86400}},\"required\":[\"server\",\"name\",\"url\"],\"additionalProperties\":false}",
	 m_add_source},
	{"toolgate_create_secret", TG_ROLE_DEVELOPER, 0,
	 "Create a secret placeholder on a server: a NAME (and description) without a value. An admin sets the value outside MCP (REST PUT /api/v1/servers/{id}/secrets/{key}); tools then read it from the secrets mapping. Values are never readable by anyone and cannot be passed here.",
	 "{\"type\":\"object\",\"properties\":{\"server\":{\"type\":\"string\",\"description\":\"server name or id\"},\"key\":{\"type\":\"string\",\"pattern\":\"^[A-Za-z_][A-Za-z0-9_]{0,63}$\",\"description\":\"secret name\"},\"description\":{\"type\":\"string\",\"maxLength\":1024}},\"required\":[\"server\",\"key\"],\"additionalProperties\":false}",
	 m_create_secret},
	{"toolgate_create_server", TG_ROLE_DEVELOPER, 0,
	 "Create a server (a named group of tools), stopped. Its tools are exposed to MCP clients as <tool_prefix><tool> (default prefix \"<name>__\") once approved and the server is running.",
	 "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"pattern\":\"^[a-z0-9][a-z0-9_-]{0,47}$\"},\"description\":{\"type\":\"string\"},\"tool_prefix\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}],\"description\":\"exposed-name prefix; \\\"\\\" for none; null or absent for <name>__\"}},\"required\":[\"name\"],\"additionalProperties\":false}",
	 m_create_server},
	{"toolgate_create_tool", TG_ROLE_DEVELOPER, 0,
	 "Create a Python tool on a server, as a draft. code must define main(...); keyword arguments come from the MCP call; return a JSON value or a list of MCP content blocks. input_schema (JSON Schema) is kept verbatim; without it the schema is derived from main()'s signature. Next: toolgate_test_tool, then toolgate_request_publish.",
	 "{\"type\":\"object\",\"properties\":{\"server\":{\"type\":\"string\",\"description\":\"server name or id\"},\"name\":{\"type\":\"string\"},\"code\":{\"type\":\"string\"},\"description\":{\"type\":\"string\"},\"input_schema\":{\"anyOf\":[{\"type\":\"object\"},{\"type\":\"null\"}]},\"annotations\":{\"anyOf\":[{\"type\":\"object\"},{\"type\":\"null\"}]},\"change_summary\":{\"type\":\"string\"}},\"required\":[\"server\",\"name\",\"code\"],\"additionalProperties\":false}",
	 m_create_tool},
	{"toolgate_delete_server", TG_ROLE_DEVELOPER, MH_DESTRUCTIVE | MH_IDEMPOTENT,
	 "Delete a stopped server with all its tools, versions and secrets. Cannot be undone; refused while the server is running.",
	 S_SERVER_REF,
	 m_delete_server},
	{"toolgate_delete_tool", TG_ROLE_DEVELOPER, MH_DESTRUCTIVE | MH_IDEMPOTENT,
	 "Delete a tool with all its versions; it disappears from MCP clients at once. Cannot be undone.",
	 S_TOOL_REF,
	 m_delete_tool},
	{"toolgate_discover_source_tools", TG_ROLE_DEVELOPER, MH_DESTRUCTIVE | MH_IDEMPOTENT | MH_OPEN,
	 "Connect to an external source and list its tools, marking which are imported. An imported tool whose remote description, schema or annotations changed is updated, and goes back to review if it was approved.",
	 "{\"type\":\"object\",\"properties\":{\"source\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"description\":\"the external source: its id or <server>/<source>\"}},\"required\":[\"source\"],\"additionalProperties\":false}",
	 m_discover_source},
	{"toolgate_get_server", TG_ROLE_VIEWER, MH_RO,
	 "Get one server by name or id (status, tool_prefix, allowed_hosts, tool_count).",
	 S_SERVER_REF,
	 m_get_server},
	{"toolgate_get_tool", TG_ROLE_VIEWER, MH_RO,
	 "Get a tool (code, schema, status: draft, pending_review, approved or rejected, and whether it is served).",
	 S_TOOL_REF,
	 m_get_tool},
	{"toolgate_import_source_tools", TG_ROLE_DEVELOPER, MH_IDEMPOTENT | MH_OPEN,
	 "Import tools of an external source into its server, as tools pending review (served once an admin approves them and the server runs). tools: remote names, or {name, local_name} to rename.",
	 "{\"type\":\"object\",\"properties\":{\"source\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"description\":\"the external source: its id or <server>/<source>\"},\"tools\":{\"type\":\"array\",\"minItems\":1,\"items\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"local_name\":{\"type\":\"string\"}},\"required\":[\"name\"],\"additionalProperties\":false}]}}},\"required\":[\"source\",\"tools\"],\"additionalProperties\":false}",
	 m_import_source_tools},
	{"toolgate_list_pending_requests", TG_ROLE_VIEWER, MH_RO,
	 "List everything waiting for an admin: tools pending review, module requests and network requests (kind: tool, module_request, network_request); paginated.",
	 S_PAGE,
	 m_pending},
	{"toolgate_list_secrets", TG_ROLE_VIEWER, MH_RO,
	 "List a server's secret names with has_value (whether an admin has set the value) and timestamps. Values are never returned.",
	 "{\"type\":\"object\",\"properties\":{\"server\":{\"type\":\"string\",\"description\":\"server name or id\"},\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":200,\"description\":\"page size (default 50)\"},\"cursor\":{\"type\":\"string\",\"description\":\"next_cursor of the previous page\"}},\"required\":[\"server\"],\"additionalProperties\":false}",
	 m_list_secrets},
	{"toolgate_list_servers", TG_ROLE_VIEWER, MH_RO,
	 "List servers (paginated: pass next_cursor back as cursor).",
	 S_PAGE,
	 m_list_servers},
	{"toolgate_list_sources", TG_ROLE_VIEWER, MH_RO,
	 "List a server's external MCP sources (URL, health status, circuit breaker state, tool count). Credentials are never returned.",
	 "{\"type\":\"object\",\"properties\":{\"server\":{\"type\":\"string\",\"description\":\"server name or id\"},\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":200,\"description\":\"page size (default 50)\"},\"cursor\":{\"type\":\"string\",\"description\":\"next_cursor of the previous page\"}},\"required\":[\"server\"],\"additionalProperties\":false}",
	 m_list_sources},
	{"toolgate_list_tools", TG_ROLE_VIEWER, MH_RO,
	 "List the tools of a server (without code), optionally by status; paginated.",
	 "{\"type\":\"object\",\"properties\":{\"server\":{\"type\":\"string\"},\"status\":{\"type\":\"string\",\"enum\":[\"draft\",\"pending_review\",\"approved\",\"rejected\"]},\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":200},\"cursor\":{\"type\":\"string\"}},\"required\":[\"server\"],\"additionalProperties\":false}",
	 m_list_tools},
	{"toolgate_list_versions", TG_ROLE_VIEWER, MH_RO,
	 "List a tool's immutable versions, oldest first (without code); paginated.",
	 "{\"type\":\"object\",\"properties\":{\"tool\":" S_TOOL_ID ",\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":200},\"cursor\":{\"type\":\"string\"}},\"required\":[\"tool\"],\"additionalProperties\":false}",
	 m_list_versions},
	{"toolgate_request_module", TG_ROLE_DEVELOPER, 0,
	 "Ask an admin to add a Python module to the global import allow-list (a pending module request). Use it when toolgate_validate_code reports a disallowed import.",
	 "{\"type\":\"object\",\"properties\":{\"module\":{\"type\":\"string\",\"description\":\"dotted module name, e.g. \\\"requests\\\" or \\\"xml.etree\\\"\"},\"reason\":{\"type\":\"string\",\"maxLength\":2048},\"tool\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"description\":\"the tool that needs it (optional): its id, exposed name or <server>/<tool>\"}},\"required\":[\"module\"],\"additionalProperties\":false}",
	 m_request_module},
	{"toolgate_request_network_access", TG_ROLE_DEVELOPER, 0,
	 "Ask an admin to allow a server's tools to reach a host (a pending network request). host: lower-case host name or IP, optional :port, optional \"*.\" wildcard prefix.",
	 "{\"type\":\"object\",\"properties\":{\"server\":{\"type\":\"string\",\"description\":\"server name or id\"},\"host\":{\"type\":\"string\"},\"reason\":{\"type\":\"string\",\"maxLength\":2048}},\"required\":[\"server\",\"host\"],\"additionalProperties\":false}",
	 m_request_network},
	{"toolgate_request_publish", TG_ROLE_DEVELOPER, MH_IDEMPOTENT,
	 "Submit a draft tool for review (draft -> pending_review). An admin approves it; then it is served while its server runs.",
	 "{\"type\":\"object\",\"properties\":{\"tool\":" S_TOOL_ID ",\"note\":{\"type\":\"string\"}},\"required\":[\"tool\"],\"additionalProperties\":false}",
	 m_request_publish},
	{"toolgate_rollback_tool", TG_ROLE_DEVELOPER, MH_DESTRUCTIVE,
	 "Make an old version current again (as a new version, pending review; the approved version stays served meanwhile. Back to exactly the approved content: approved again at once).",
	 "{\"type\":\"object\",\"properties\":{\"tool\":" S_TOOL_ID ",\"version\":{\"type\":\"integer\",\"minimum\":1}},\"required\":[\"tool\",\"version\"],\"additionalProperties\":false}",
	 m_rollback},
	{"toolgate_start_server", TG_ROLE_DEVELOPER, MH_IDEMPOTENT,
	 "Start a server: its approved tools become visible to MCP clients. Refused when an exposed name clashes with another running server's.",
	 S_SERVER_REF,
	 m_start_server},
	{"toolgate_stop_server", TG_ROLE_DEVELOPER, MH_IDEMPOTENT,
	 "Stop a server: its tools disappear from MCP clients until it is started again.",
	 S_SERVER_REF,
	 m_stop_server},
	{"toolgate_test_tool", TG_ROLE_DEVELOPER, MH_OPEN,
	 "Run a tool's current code (any status) in the sandbox with arguments, the allowed modules and the server's allowed hosts; returns the sandbox result (result, stdout, stderr, error, timed_out) and secret_values. Secrets: code that no admin approved never receives a real secret value - unless the code is exactly the tool's approved version, SECRETS maps each key to a placeholder \"[placeholder:KEY]\" (secret_values \"placeholder\"). Only an admin may pass real_secrets: true to run unapproved code with the real values (audited).",
	 "{\"type\":\"object\",\"properties\":{\"tool\":" S_TOOL_ID ",\"arguments\":{\"type\":\"object\"},\"real_secrets\":{\"type\":\"boolean\",\"description\":\"admin only: give unapproved code the real secret values\"}},\"required\":[\"tool\"],\"additionalProperties\":false}",
	 m_test_tool},
	{"toolgate_tool_logs", TG_ROLE_VIEWER, MH_RO,
	 "Recent executions of a tool (its MCP tools/call runs), newest first: status (ok, error, timeout, truncated, unavailable), error, duration_ms, caller, version, redacted arguments. Secrets are never shown. Paginated; filter by status or since (ISO 8601 timestamp).",
	 "{\"type\":\"object\",\"properties\":{\"tool\":" S_TOOL_ID ",\"status\":{\"type\":\"string\",\"enum\":[\"ok\",\"error\",\"timeout\",\"truncated\",\"unavailable\"],\"description\":\"only runs with this status\"},\"since\":{\"type\":\"string\",\"description\":\"ISO 8601 timestamp, e.g. 2026-01-31T00:00:00Z\"},\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":200,\"description\":\"page size (default 50)\"},\"cursor\":{\"type\":\"string\",\"description\":\"next_cursor of the previous page\"}},\"required\":[\"tool\"],\"additionalProperties\":false}",
	 m_tool_logs},
	{"toolgate_tool_status", TG_ROLE_VIEWER, MH_RO,
	 "Where a tool stands: status (draft, pending_review, approved, rejected), current and approved versions, review reason, server status, whether it is served and under which name, and the next step to take.",
	 S_TOOL_REF,
	 m_tool_status},
	{"toolgate_update_tool", TG_ROLE_DEVELOPER, MH_DESTRUCTIVE | MH_IDEMPOTENT,
	 "Change a tool's name, code, description, input_schema or annotations (a new version; an approved tool goes back to review and MCP clients keep getting its approved version until the new one is approved; identical content changes nothing).",
	 "{\"type\":\"object\",\"properties\":{\"tool\":" S_TOOL_ID ",\"name\":{\"type\":\"string\"},\"code\":{\"type\":\"string\"},\"description\":{\"type\":\"string\"},\"input_schema\":{\"anyOf\":[{\"type\":\"object\"},{\"type\":\"null\"}]},\"annotations\":{\"anyOf\":[{\"type\":\"object\"},{\"type\":\"null\"}]},\"change_summary\":{\"type\":\"string\"}},\"required\":[\"tool\"],\"additionalProperties\":false}",
	 m_update_tool},
	{"toolgate_validate_code", TG_ROLE_DEVELOPER, MH_RO,
	 "Validate Python tool code without saving it: syntax, main(), allowed imports (with line numbers), and the derived input schema.",
	 "{\"type\":\"object\",\"properties\":{\"code\":{\"type\":\"string\"},\"input_schema\":{\"type\":\"object\"}},\"required\":[\"code\"],\"additionalProperties\":false}",
	 m_validate_code},
};
#define N_MTOOLS (sizeof(mtools) / sizeof(mtools[0]))

static const struct mtool *
mtool_find(const char *name)
{
	size_t i;

	for (i = 0; i < N_MTOOLS; i++)
		if (strcmp(mtools[i].name, name) == 0)
			return &mtools[i];
	return NULL;
}

static int
role_allows(const struct tg_req *req, enum tg_role min)
{
	return req->who.authenticated && req->who.role >= min;
}

static json_t *
mtool_json(const struct mtool *m)
{
	json_error_t je;
	json_t *schema = json_loads(m->schema, JSON_REJECT_DUPLICATES, &je);

	if (schema == NULL) {
		tg_log(TG_LOG_ERR, "mcp.bad_builtin_schema", "tool=%s msg=%s", m->name,
		    tg_log_q(je.text));
		return NULL;
	}
	if (m->hints & MH_RO)
		return json_pack("{s:s, s:s, s:o, s:{s:b, s:b}}", "name", m->name,
		    "description", m->description, "inputSchema", schema,
		    "annotations", "readOnlyHint", 1, "openWorldHint",
		    (m->hints & MH_OPEN) != 0);
	return json_pack("{s:s, s:s, s:o, s:{s:b, s:b, s:b, s:b}}", "name", m->name,
	    "description", m->description, "inputSchema", schema, "annotations",
	    "readOnlyHint", 0, "destructiveHint", (m->hints & MH_DESTRUCTIVE) != 0,
	    "idempotentHint", (m->hints & MH_IDEMPOTENT) != 0, "openWorldHint",
	    (m->hints & MH_OPEN) != 0);
}

static json_t *
svc_error_result(struct tg_err *err, int rc)
{
	char msg[1024];
	json_t *out;
	int st = err->status ? err->status : (rc < 0 ? -rc : rc);

	snprintf(msg, sizeof(msg), "%s: %s", tg_status_name(st),
	    err->detail[0] ? err->detail : tg_status_title(st));
	out = text_result(msg, 1);
	if (out && err->fields) {
		char *f = json_dumps(err->fields, JSON_COMPACT);

		if (f) {
			json_array_append_new(json_object_get(out, "content"),
			    json_pack("{s:s, s:s}", "type", "text", "text", f));
			free(f);
		}
		json_object_set(out, "structuredContent",
		    json_pack("{s:s, s:s, s:O}", "error", tg_status_name(st), "detail",
		    err->detail, "errors", err->fields));
	}
	return out;
}

static int
mtool_call(const struct tg_mcp_call *c, const struct mtool *m, json_t *args,
    json_t **result, struct tg_rpc_err *rerr)
{
	struct tg_err err;
	json_error_t je;
	json_t *schema = NULL, *out = NULL, *empty = NULL;
	char why[256], *text = NULL;
	int rc;

	tg_err_init(&err);
	if (args == NULL)
		args = empty = json_object();
	schema = json_loads(m->schema, 0, &je);
	if (schema == NULL || args == NULL) {
		rc = tg_rpc_err_set(rerr, TG_RPC_INTERNAL_ERROR, "internal error");
		goto out;
	}
	if (tg_mcp_schema_validate(schema, args, why, sizeof(why)) != TG_OK) {
		rc = tg_rpc_err_set(rerr, TG_RPC_INVALID_PARAMS,
		    "Invalid arguments for %s: %s", m->name, why);
		goto out;
	}
	rc = m->fn(c->req, args, &out, &err);
	if (rc != TG_OK) {
		*result = svc_error_result(&err, rc);
	} else {
		text = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
		*result = text ? text_result(text, 0) : NULL;
		if (*result && json_is_object(out))
			json_object_set(*result, "structuredContent", out);
	}
	rc = *result ? 0 : tg_rpc_err_set(rerr, TG_RPC_INTERNAL_ERROR, "out of memory");
out:
	free(text);
	json_decref(out);
	json_decref(schema);
	json_decref(empty);
	tg_err_clear(&err);
	return rc;
}

/* --- tools/list ------------------------------------------------------ */

static int
by_name(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;

	return strcmp(json_string_value(json_object_get(x, "name")),
	    json_string_value(json_object_get(y, "name")));
}

/*
 * The worker's tools/list cache, in three layers, all keyed by the
 * tool_catalog version (any change to servers or tools bumps it:
 * sql/006_catalog.sql):
 *   - the approved tools of running servers, bookkeeping members removed;
 *   - per role, the merged list (management tools the role may call plus
 *     the approved tools), sorted by name once;
 *   - the last TG_MCP_PAGE_CACHE pages served, each a result object with a
 *     process-unique stamp, so the transport can keep its serialised text
 *     (handlers/mcp.c) and a repeated tools/list costs no JSON work.
 * The version comes with the session row (no extra round trip) or, for
 * stateless requests, from one indexed read. Results handed out are shared:
 * callers must not modify them.
 */
#define TG_MCP_PAGE_CACHE 16

struct view {
	int64_t version;	/* 0: empty */
	json_t *all;		/* the sorted list (holds the references) */
};

struct page {
	int64_t version;	/* 0: empty */
	enum tg_role role;
	char after[256];
	json_t *result;
	uint64_t stamp;
};

static struct {
	json_t *mtool[64];	/* by index into mtools[] */
	json_t *served;		/* bookkeeping members removed */
	int64_t version;
	struct view view[TG_ROLE_ADMIN + 1];
	struct page page[TG_MCP_PAGE_CACHE];
	unsigned next_page;
	uint64_t stamp;
} cache;

/* The catalogue version: cached (lib/inval.h), else the one read with the
 * session row, else one indexed read. */
static struct {
	int64_t version;
	struct tg_inval_stamp at;
} catver;

static int
catalog_version(const struct tg_mcp_call *c, int64_t *v)
{
	struct tg_inval_stamp st;
	PGresult *res = NULL;
	int rc;

	if (tg_inval_fresh(&catver.at, TG_INV_CATALOG)) {
		*v = catver.version;
		return TG_OK;
	}
	if (c->session != NULL && c->session->catalog_version > 0) {
		*v = c->session->catalog_version;
		catver.version = *v;
		catver.at = c->session->catalog_at;
		return TG_OK;
	}
	tg_inval_stamp(&st, TG_INV_CATALOG);
	rc = tg_db_exec(c->req->ctx->db,
	    "SELECT version FROM tool_catalog WHERE id = 1", 0, NULL, &res);
	if (rc != TG_OK)
		return rc;
	if (PQntuples(res) != 1 ||
	    tg_parse_i64(PQgetvalue(res, 0, 0), 1, INT64_MAX, v) != TG_OK)
		rc = -TG_E_INTERNAL;
	PQclear(res);
	if (rc == TG_OK) {
		catver.version = *v;
		catver.at = st;
	}
	return rc;
}

/* Approved tools of running servers (lifecycle's served list) at version
 * v, with the bookkeeping members removed; reloaded when v moves. */
static int
approved_tools(const struct tg_mcp_call *c, int64_t v)
{
	json_t *served = NULL, *item;
	size_t i;
	int rc;

	if (cache.served != NULL && cache.version == v)
		return TG_OK;
	if ((rc = tg_tools_served_list(c->req->ctx->db, &served)) != TG_OK)
		return rc;
	json_array_foreach(served, i, item) {
		json_object_del(item, "tool_id");
		json_object_del(item, "server_id");
	}
	json_decref(cache.served);
	cache.served = served;
	cache.version = v;
	return TG_OK;
}

/* What selects the list a caller sees: its role, or TG_ROLE_NONE when
 * anonymous (TOOLGATE_MCP_AUTH=none: served tools only). */
static enum tg_role
view_role(const struct tg_req *req)
{
	if (!req->who.authenticated || req->who.role < TG_ROLE_NONE ||
	    req->who.role > TG_ROLE_ADMIN)
		return TG_ROLE_NONE;
	return req->who.role;
}

/* The sorted list a role sees at version v (borrowed from the cache). */
static int
role_view(const struct tg_mcp_call *c, int64_t v, json_t **out)
{
	struct view *vw = &cache.view[view_role(c->req)];
	json_t *all = NULL, *t, **arr = NULL, *sorted = NULL;
	size_t i, n;
	int rc;

	if (vw->all != NULL && vw->version == v) {
		*out = vw->all;
		return TG_OK;
	}
	if ((rc = approved_tools(c, v)) != TG_OK)
		return rc;
	rc = -TG_E_NOMEM;
	if ((all = json_array()) == NULL)
		goto out;
	for (i = 0; i < N_MTOOLS; i++) {
		if (!role_allows(c->req, mtools[i].min_role))
			continue;
		if (i < sizeof(cache.mtool) / sizeof(cache.mtool[0])) {
			if (cache.mtool[i] == NULL && (cache.mtool[i] = mtool_json(&mtools[i])) == NULL)
				goto out;
			t = json_incref(cache.mtool[i]);
		} else if ((t = mtool_json(&mtools[i])) == NULL) {
			goto out;
		}
		if (json_array_append_new(all, t) != 0)
			goto out;
	}
	if (json_array_extend(all, cache.served) != 0)
		goto out;
	n = json_array_size(all);
	if ((arr = calloc(n ? n : 1, sizeof(*arr))) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		arr[i] = json_array_get(all, i);
	qsort(arr, n, sizeof(*arr), by_name);
	if ((sorted = json_array()) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		if (json_array_append(sorted, arr[i]) != 0)
			goto out;
	json_decref(vw->all);
	vw->all = sorted;
	vw->version = v;
	sorted = NULL;
	*out = vw->all;
	rc = TG_OK;
out:
	free(arr);
	json_decref(all);
	json_decref(sorted);
	return rc;
}

/* One page of a sorted view: {"tools":[...], "nextCursor"?}. */
static json_t *
page_new(json_t *all, const char *after)
{
	json_t *page, *result;
	size_t i, n = json_array_size(all), start = 0, count = 0;
	char next[400];

	if (after[0])
		while (start < n && strcmp(json_string_value(json_object_get(
		    json_array_get(all, start), "name")), after) <= 0)
			start++;
	if ((page = json_array()) == NULL)
		return NULL;
	for (i = start; i < n && count < TG_MCP_PAGE; i++, count++)
		if (json_array_append(page, json_array_get(all, i)) != 0) {
			json_decref(page);
			return NULL;
		}
	if ((result = json_pack("{s:o}", "tools", page)) == NULL)
		return NULL;
	if (i < n) {
		const char *last = json_string_value(json_object_get(
		    json_array_get(all, i - 1), "name"));

		if (tg_crypto_b64url_encode((const unsigned char *)last, strlen(last),
		    next, sizeof(next), NULL) != TG_OK ||
		    json_object_set_new(result, "nextCursor", json_string(next)) != 0) {
			json_decref(result);
			return NULL;
		}
	}
	return result;
}

int
tg_mcp_tools_list(const struct tg_mcp_call *c, const char *cursor,
    json_t **result, uint64_t *stamp, struct tg_rpc_err *err)
{
	unsigned char raw[256];
	char after[256];
	json_t *all = NULL, *r;
	struct page *pg;
	int64_t v = 0;
	unsigned i;
	int k;

	*result = NULL;
	if (stamp != NULL)
		*stamp = 0;
	after[0] = '\0';
	if (cursor != NULL) {
		size_t len = strlen(cursor), got = 0;

		k = tg_crypto_b64url_decode(cursor, len, raw, sizeof(raw) - 1, &got);
		if (k != TG_OK || len == 0 || got == 0 || memchr(raw, '\0', got))
			return tg_rpc_err_set(err, TG_RPC_INVALID_PARAMS, "Invalid cursor");
		memcpy(after, raw, got);
		after[got] = '\0';
	}
	if (catalog_version(c, &v) != TG_OK || role_view(c, v, &all) != TG_OK)
		return tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR,
		    "the tool catalogue is unavailable; retry shortly");
	for (i = 0; i < TG_MCP_PAGE_CACHE; i++) {
		pg = &cache.page[i];
		if (pg->result != NULL && pg->version == v &&
		    pg->role == view_role(c->req) && strcmp(pg->after, after) == 0)
			goto hit;
	}
	if ((r = page_new(all, after)) == NULL)
		return tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR, "out of memory");
	pg = &cache.page[cache.next_page++ % TG_MCP_PAGE_CACHE];
	json_decref(pg->result);
	pg->result = r;
	pg->version = v;
	pg->role = view_role(c->req);
	memcpy(pg->after, after, sizeof(pg->after));
	pg->stamp = ++cache.stamp;
hit:
	*result = json_incref(pg->result);
	if (stamp != NULL)
		*stamp = pg->stamp;
	return 0;
}

/* --- tools/call ------------------------------------------------------ */

static int64_t
log_max_bytes(struct tg_req *req)
{
	PGresult *res = NULL;
	int64_t v = TG_MCP_LOG_MAX_DEFAULT;

	if (tg_db_exec(req->ctx->db,
	    "SELECT (value #>> '{}') FROM settings WHERE key = 'log_max_bytes'"
	    " AND jsonb_typeof(value) = 'number'", 0, NULL, &res) == TG_OK &&
	    PQntuples(res) == 1 &&
	    tg_parse_i64(PQgetvalue(res, 0, 0), 256, 16 * 1024 * 1024, &v) != TG_OK)
		v = TG_MCP_LOG_MAX_DEFAULT;
	PQclear(res);
	return v;
}

/* security: scrub_trunc() replaces every value of the tool's server's
 * secrets (raw and JSON-escaped, lib/logs.c tg_logs_scrub) BEFORE the text
 * is cut, so a cut cannot leave half a secret behind; *oom set on OOM. */
static char *
scrub_trunc(const char *s, size_t n, const json_t *secrets, size_t max, int *oom)
{
	char *sc, *r;

	if (s == NULL)
		return NULL;
	if (json_object_size(secrets) == 0) {
		r = tg_mcp_truncate(s, n, max);
	} else {
		if ((sc = tg_logs_scrub(s, secrets)) == NULL) {
			*oom = 1;
			return NULL;
		}
		r = tg_mcp_truncate(sc, strlen(sc), max);
		OPENSSL_cleanse(sc, strlen(sc));
		free(sc);
	}
	if (r == NULL)
		*oom = 1;
	return r;
}

static char *
trunc_json_str(const json_t *s, const json_t *secrets, size_t max, int *oom)
{
	if (!json_is_string(s))
		return NULL;
	return scrub_trunc(json_string_value(s), json_string_length(s), secrets,
	    max, oom);
}

struct logrec {
	const char *tool_id, *server_id, *tool_name, *version, *kind, *status;
	const json_t *arguments;	/* unredacted; redacted here */
	const json_t *result;		/* CallToolResult or NULL */
	const json_t *sbx;		/* sandbox document or NULL */
	const char *error;
	int64_t duration_ms;
	const json_t *secrets;		/* security: the server's decrypted secrets, scrubbed out */
	const char *session_hash, *traceparent;	/* tg_mcp_log_test: both NULL */
	int64_t id;	/* reliability: the row log_start() wrote, or 0 */
};

/*
 * reliability: the row of a tools/call is written before the tool starts
 * (status "running", with this worker's pid and its database backend, so
 * that maintenance can tell a call whose worker died: "lost"), and
 * write_log() completes it. A call whose row cannot be written is not run.
 */
static int
log_start(struct tg_req *req, const struct tg_mcp_call *c, struct logrec *l)
{
	PGresult *res = NULL;
	json_t *red;
	char *args = NULL;
	char uid[24], kid[24], wpid[24];
	const char *params[12];
	int rc = -TG_E_NOMEM;

	red = tg_mcp_redact(l->arguments ? l->arguments : json_null());
	if (red == NULL || (args = json_dumps(red, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		goto out;
	snprintf(uid, sizeof(uid), "%lld", (long long)req->who.user_id);
	snprintf(kid, sizeof(kid), "%lld", (long long)req->who.api_key_id);
	snprintf(wpid, sizeof(wpid), "%ld", (long)getpid());
	params[0] = l->tool_id;
	params[1] = l->server_id;
	params[2] = l->tool_name;
	params[3] = l->version;
	params[4] = l->kind;
	params[5] = req->who.authenticated && req->who.user_id > 0 ? uid : NULL;
	params[6] = req->who.authenticated && req->who.api_key_id > 0 ? kid : NULL;
	params[7] = c->session ? c->session->id_hash : NULL;
	params[8] = req->request_id;
	params[9] = c->traceparent;
	params[10] = args;
	params[11] = wpid;
	rc = tg_db_exec(req->ctx->db,
	    "INSERT INTO execution_logs (tool_id, server_id, tool_name, tool_version,"
	    " kind, caller_id, api_key_id, session_hash, request_id, traceparent,"
	    " arguments, status, worker_pid, backend_pid, backend_start)"
	    " VALUES ($1::bigint, $2::bigint, $3, $4::integer, $5, $6::bigint,"
	    " $7::bigint, $8, $9, left($10, 512), $11::jsonb, 'running', $12::integer,"
	    " pg_backend_pid(), (SELECT backend_start FROM pg_stat_activity"
	    " WHERE pid = pg_backend_pid())) RETURNING id", 12, params, &res);
	if (rc == TG_OK && (PQntuples(res) != 1 ||
	    tg_parse_i64(PQgetvalue(res, 0, 0), 1, INT64_MAX, &l->id) != TG_OK))
		rc = -TG_E_INTERNAL;
out:
	PQclear(res);
	json_decref(red);
	free(args);
	return rc;
}

static int
write_log(struct tg_req *req, const struct tg_mcp_call *c, const struct logrec *l)
{
	json_t *red = NULL;
	char *args = NULL, *res_full = NULL, *res = NULL, *out = NULL, *errt = NULL,
	    *err_full = NULL;
	char uid[24], kid[24], dur[24];
	const char *params[17];
	size_t max = (size_t)log_max_bytes(req);
	int rc = -TG_E_NOMEM, oom = 0;

	red = tg_mcp_redact(l->arguments ? l->arguments : json_null());
	if (red == NULL || (args = json_dumps(red, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		goto out;
	if (l->result) {
		const json_t *sc = json_object_get(l->result, "structuredContent");

		res_full = json_dumps(sc ? sc : json_object_get(l->result, "content"),
		    JSON_COMPACT | JSON_ENCODE_ANY);
		if (res_full == NULL || (res = scrub_trunc(res_full,
		    strlen(res_full), l->secrets, max, &oom)) == NULL)
			goto out;
	}
	if (l->sbx) {
		out = trunc_json_str(json_object_get(l->sbx, "stdout"), l->secrets, max, &oom);
		errt = trunc_json_str(json_object_get(l->sbx, "stderr"), l->secrets, max, &oom);
	}
	if (l->error && (err_full = scrub_trunc(l->error, strlen(l->error),
	    l->secrets, max, &oom)) == NULL)
		goto out;
	if (oom)
		goto out;
	snprintf(uid, sizeof(uid), "%lld", (long long)req->who.user_id);
	snprintf(kid, sizeof(kid), "%lld", (long long)req->who.api_key_id);
	snprintf(dur, sizeof(dur), "%lld", (long long)l->duration_ms);
	params[0] = l->tool_id;
	params[1] = l->server_id;
	params[2] = l->tool_name;
	params[3] = l->version;
	params[4] = l->kind;
	params[5] = req->who.authenticated && req->who.user_id > 0 ? uid : NULL;
	params[6] = req->who.authenticated && req->who.api_key_id > 0 ? kid : NULL;
	params[7] = c ? (c->session ? c->session->id_hash : NULL) : l->session_hash;
	params[8] = req->request_id;
	params[9] = c ? c->traceparent : l->traceparent;
	params[10] = args;
	params[11] = l->status;
	params[12] = res;
	params[13] = out;
	params[14] = errt;
	params[15] = err_full;
	params[16] = dur;
	if (l->id > 0) {
		/* reliability: complete the row log_start() wrote; a row that
		 * maintenance marked "lost" meanwhile (the database restarted
		 * under a live worker) gets its real outcome. */
		char rid[24];
		const char *up[7];

		snprintf(rid, sizeof(rid), "%lld", (long long)l->id);
		up[0] = rid;
		up[1] = l->status;
		up[2] = res;
		up[3] = out;
		up[4] = errt;
		up[5] = err_full;
		up[6] = dur;
		rc = tg_db_exec(req->ctx->db,
		    "UPDATE execution_logs SET status = $2, result = $3, stdout = $4,"
		    " stderr = $5, error = $6, duration_ms = LEAST($7::bigint, 2147483647),"
		    " finished_at = now() WHERE id = $1::bigint"
		    " AND status IN ('running', 'lost')", 7, up, NULL);
		goto out;
	}
	rc = tg_db_exec(req->ctx->db,
	    "INSERT INTO execution_logs (tool_id, server_id, tool_name, tool_version,"
	    " kind, caller_id, api_key_id, session_hash, request_id, traceparent,"
	    " arguments, status, result, stdout, stderr, error, duration_ms)"
	    " VALUES ($1::bigint, $2::bigint, $3, $4::integer, $5, $6::bigint,"
	    " $7::bigint, $8, $9, left($10, 512), $11::jsonb, $12, $13, $14, $15, $16,"
	    " LEAST($17::bigint, 2147483647))", 17, params, NULL);
out:
	json_decref(red);
	free(args);
	if (res_full)	/* unscrubbed tool output */
		OPENSSL_cleanse(res_full, strlen(res_full));
	free(res_full);
	free(res);
	free(out);
	free(errt);
	free(err_full);
	return rc;
}

static const char *
str_member(const json_t *o, const char *k, char *buf, size_t cap)
{
	const json_t *v = json_object_get(o, k);

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v) && snprintf(buf, cap, "%lld",
	    (long long)json_integer_value(v)) > 0)
		return buf;
	return NULL;
}

/* security: execution log of a REST test run (see mcp_tools.h). */
int
tg_mcp_log_test(struct tg_req *req, const json_t *tool, const json_t *args,
    const json_t *sbx, int run_rc, const char *diag, const json_t *secrets,
    int64_t duration_ms)
{
	struct logrec l;
	json_t *result = NULL;
	char tid[24], sid[24], ver[24], msg[512];
	const char *status = "error";
	int rc;

	memset(&l, 0, sizeof(l));
	if (run_rc == TG_OK) {
		if ((result = tg_mcp_result_from_sandbox(sbx, &status)) == NULL)
			return -TG_E_NOMEM;
		if (json_is_true(json_object_get(result, "isError")))
			l.error = json_string_value(json_object_get(json_array_get(
			    json_object_get(result, "content"), 0), "text"));
		l.result = result;
		l.sbx = sbx;
	} else {
		snprintf(msg, sizeof(msg), "The sandbox could not run the tool (%s)%s%s",
		    tg_status_name(run_rc), diag && diag[0] ? ": " : "", diag ? diag : "");
		status = run_rc == -TG_E_TIMEOUT ? "timeout" : "unavailable";
		l.error = msg;
	}
	l.tool_id = str_member(tool, "id", tid, sizeof(tid));
	l.server_id = str_member(tool, "server_id", sid, sizeof(sid));
	l.version = str_member(tool, "current_version", ver, sizeof(ver));
	l.tool_name = json_string_value(json_object_get(tool, "name"));
	if (l.tool_name == NULL)
		l.tool_name = "";
	l.kind = "test";
	l.status = status;
	l.arguments = args;
	l.secrets = secrets;
	l.duration_ms = duration_ms;
	rc = write_log(req, NULL, &l);
	json_decref(result);
	return rc;
}

static int
run_tool(const struct tg_mcp_call *c, const char *name, json_t *args,
    json_t **result, struct tg_rpc_err *rerr)
{
	struct tg_req *req = c->req;
	const struct tg_config *cfg = req->ctx->cfg;
	struct tg_sandbox_opts o;
	struct logrec l;
	json_t *t = NULL, *empty = NULL, *sreq = NULL, *sbx = NULL, *schema;
	char why[256], diag[256], tid[24], sid[24], ver[24];
	char xerr[512];	/* sources: passthrough failure reason */
	const char *status = "error";
	int64_t t0;
	int rc, slot = 0;

	memset(&l, 0, sizeof(l));
	memset(&o, 0, sizeof(o));
	diag[0] = '\0';
	/* Approval and server state are checked here, at call time. */
	rc = tg_tools_served_lookup(req->ctx->db, cfg, name, &t);
	if (rc == -TG_E_NOTFOUND) {
		rc = tg_rpc_err_set(rerr, TG_RPC_INVALID_PARAMS, "Unknown tool: %s", name);
		goto out;
	}
	if (rc != TG_OK) {
		rc = tg_rpc_err_set(rerr, TG_RPC_INTERNAL_ERROR,
		    "the tool is unavailable right now (%s); retry shortly",
		    tg_status_name(rc));
		goto out;
	}
	if (args == NULL)
		args = empty = json_object();
	schema = json_object_get(t, "input_schema");
	if (json_is_object(schema) &&
	    tg_mcp_schema_validate(schema, args, why, sizeof(why)) != TG_OK) {
		rc = tg_rpc_err_set(rerr, TG_RPC_INVALID_PARAMS,
		    "Invalid arguments for tool %s: %s", name, why);
		goto out;
	}
	/* reliability: a tool slot (lib/slots.h), then the log row, then the
	 * run; a call that gets no slot or cannot be recorded is not run. */
	if (tg_slots_acquire() != TG_OK) {
		char msg[160];

		snprintf(msg, sizeof(msg), "The server is busy: every tool slot is in use"
		    " and the wait queue is full or its wait ran out. The tool was not"
		    " run; retry after %d s.", tg_slots_retry_after_s());
		tg_log(TG_LOG_WARN, "mcp.tool_busy", "tool=%s", tg_log_q(name));
		if ((*result = text_result(msg, 1)) == NULL)
			rc = tg_rpc_err_set(rerr, TG_RPC_INTERNAL_ERROR, "out of memory");
		else
			rc = 0;
		goto out;
	}
	slot = 1;
	l.tool_id = str_member(t, "tool_id", tid, sizeof(tid));
	l.server_id = str_member(t, "server_id", sid, sizeof(sid));
	l.version = str_member(t, "version", ver, sizeof(ver));
	l.tool_name = name;
	l.kind = "call";
	l.arguments = args;
	if ((rc = log_start(req, c, &l)) != TG_OK) {
		tg_log(TG_LOG_WARN, "mcp.log_start_failed", "tool=%s rc=%s",
		    tg_log_q(name), tg_status_name(rc));
		if ((*result = text_result("The call cannot be recorded right now (the"
		    " execution log is unavailable), so the tool was not run; retry"
		    " shortly.", 1)) == NULL)
			rc = tg_rpc_err_set(rerr, TG_RPC_INTERNAL_ERROR, "out of memory");
		else
			rc = 0;
		goto out;
	}
	/* sources: an imported external tool is passed through to its source
	 * (lib/sources.h) instead of running in the sandbox; logged below. */
	if (tg_sources_is_external(t)) {
		t0 = tg_now_us();
		rc = tg_sources_call(req, json_integer_value(json_object_get(t, "tool_id")),
		    args, result, &status, xerr, sizeof(xerr));
		l.duration_ms = (tg_now_us() - t0) / 1000;
		if (rc != TG_OK) {
			/* reliability: the row says what happened */
			l.status = "unavailable";
			l.error = "the source could not be reached";
			(void)write_log(req, c, &l);
			rc = tg_rpc_err_set(rerr, TG_RPC_INTERNAL_ERROR,
			    "the tool is unavailable right now (%s); retry shortly",
			    tg_status_name(rc));
			goto out;
		}
		l.status = status;
		l.error = xerr[0] ? xerr : NULL;
		goto passthrough_done;
	}
	sreq = json_pack("{s:s, s:O, s:s, s:O, s:O?, s:O?, s:O?, s:O?}", "mode", "run",
	    "code", json_object_get(t, "code"), "entry", "main", "arguments", args,
	    "secrets", json_object_get(t, "secrets"),
	    "allowed_modules", json_object_get(t, "allowed_modules"),
	    "allowed_hosts", json_object_get(t, "allowed_hosts"),
	    "limits", json_object_get(t, "limits"));
	if (sreq == NULL) {
		l.status = "error";	/* reliability: complete the row */
		l.error = "out of memory";
		(void)write_log(req, c, &l);
		rc = tg_rpc_err_set(rerr, TG_RPC_INTERNAL_ERROR, "out of memory");
		goto out;
	}
	o.helper_path = cfg->sandbox_helper[0] ? cfg->sandbox_helper : NULL;
	o.python_path = cfg->sandbox_python[0] ? cfg->sandbox_python : NULL;
	o.allow_degraded = cfg->sandbox_allow_degraded;
	o.diag = diag;
	o.diag_len = sizeof(diag);
	/* Streaming: the tool's progress/log events go to the transport,
	 * and the client going away cancels the run. */
	o.on_event = c->on_event;
	o.event_ctx = c->on_event_ctx;
	o.cancel_fd = c->cancel_fd;
	t0 = tg_now_us();
	/* Exactly once: a tool call is never retried. */
	rc = tg_sandbox_run(&o, sreq, &sbx);
	l.duration_ms = (tg_now_us() - t0) / 1000;
	tg_slots_release();	/* reliability: the run is over */
	slot = 0;
	/* The request held secret values: drop it now. */
	json_decref(sreq);
	sreq = NULL;
	if (rc != TG_OK) {
		char msg[512];

		snprintf(msg, sizeof(msg), "The sandbox could not run the tool (%s)%s%s",
		    tg_status_name(rc), diag[0] ? ": " : "", diag);
		tg_log(TG_LOG_ERR, "mcp.sandbox_failed", "tool=%s rc=%s diag=%s",
		    tg_log_q(name), tg_status_name(rc), tg_log_q(diag));
		*result = text_result(msg, 1);
		status = rc == -TG_E_TIMEOUT ? "timeout" : "unavailable";
		l.status = status;
		if (*result)
			l.error = json_string_value(json_object_get(json_array_get(
			    json_object_get(*result, "content"), 0), "text"));
	} else {
		*result = tg_mcp_result_from_sandbox(sbx, &status);
		l.status = status;
		if (*result && json_is_true(json_object_get(*result, "isError")))
			l.error = json_string_value(json_object_get(json_array_get(
			    json_object_get(*result, "content"), 0), "text"));
	}
passthrough_done:	/* sources */
	if (slot) {
		tg_slots_release();
		slot = 0;
	}
	if (*result == NULL) {
		l.status = "error";
		l.error = "out of memory";
		(void)write_log(req, c, &l);
		rc = tg_rpc_err_set(rerr, TG_RPC_INTERNAL_ERROR, "out of memory");
		goto out;
	}
	l.result = *result;
	l.sbx = sbx;
	/* metrics: outcome counters and the sandbox duration histogram */
	tg_metrics_tool_call(req->ctx->metrics,
	    l.status && (!strcmp(l.status, "ok") || !strcmp(l.status, "timeout") ||
	    !strcmp(l.status, "truncated") || !strcmp(l.status, "cancelled")) ?
	    l.status : "error",
	    sbx ? (int64_t)json_integer_value(json_object_get(sbx, "wall_ms")) : 0);
	l.secrets = json_object_get(t, "secrets");	/* security: scrubbed at write */
	if (write_log(req, c, &l) != TG_OK)
		tg_log(TG_LOG_WARN, "mcp.log_failed", "tool=%s log_id=%lld", tg_log_q(name),
		    (long long)l.id);
	rc = 0;
out:
	if (slot)
		tg_slots_release();
	json_decref(t);
	json_decref(empty);
	json_decref(sreq);
	json_decref(sbx);
	return rc;
}

int
tg_mcp_tools_call(const struct tg_mcp_call *c, const char *name,
    json_t *arguments, json_t **result, struct tg_rpc_err *err)
{
	const struct mtool *m = mtool_find(name);

	if (m != NULL) {
		if (!role_allows(c->req, m->min_role))
			return tg_rpc_err_set(err, TG_RPC_INVALID_PARAMS,
			    "Unknown tool: %s", name);
		return mtool_call(c, m, arguments, result, err);
	}
	return run_tool(c, name, arguments, result, err);
}
