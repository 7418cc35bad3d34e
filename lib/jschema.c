/*
 * jschema.c - validation against the JSON Schema subset (see jschema.h).
 *
 * A recursive walk over schema and instance; the first failure wins and
 * is reported as "<path>: <reason>" with a JSONPath-like path ($, $.a,
 * $.a[2]). Depth is bounded (MAX_SCHEMA_DEPTH) so that a hostile schema
 * with $ref loops cannot exhaust the stack.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "lib/jschema.h"
#include "lib/status.h"

#define MAX_SCHEMA_DEPTH 32

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

/* --- schemas from field specs ----------------------------------------- */

/* {"type": t}, or the closed object of props for an object with props. */
static json_t *
one_type(unsigned t, const struct tg_jfield *props)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {{TG_JT_STRING, "string"}, {TG_JT_INTEGER, "integer"},
		{TG_JT_BOOLEAN, "boolean"}, {TG_JT_ARRAY, "array"},
		{TG_JT_OBJECT, "object"}, {TG_JT_NULL, "null"}};
	size_t i;

	if (t == TG_JT_OBJECT && props != NULL)
		return tg_jschema_object(props);
	if (t == 0)
		return json_object();
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].bit == t)
			return json_pack("{s:s}", "type", names[i].name);
	return NULL;
}

/* Sets k to v (stolen) in o; -1 on failure (v is released). */
static int
put(json_t *o, const char *k, json_t *v)
{
	return v == NULL || json_object_set_new(o, k, v) != 0 ? -1 : 0;
}

/* ["a", "b", ...] from "a|b|...". */
static json_t *
enum_list(const char *spec)
{
	json_t *a = json_array();
	const char *p = spec, *bar;

	while (a != NULL && *p) {
		bar = strchr(p, '|');
		if (json_array_append_new(a, json_stringn(p, bar ? (size_t)(bar - p) :
		    strlen(p))) != 0) {
			json_decref(a);
			return NULL;
		}
		p = bar ? bar + 1 : p + strlen(p);
	}
	return a;
}

static json_t *
field_schema(const struct tg_jfield *f)
{
	json_t *o, *any;
	unsigned bit;

	if ((f->types & (f->types - 1)) == 0) {
		/* One type; a closed object carries its members already. */
		if ((o = one_type(f->types, f->props)) == NULL)
			return NULL;
	} else {
		if ((o = json_object()) == NULL || (any = json_array()) == NULL ||
		    json_object_set_new(o, "anyOf", any) != 0)
			goto fail;
		for (bit = TG_JT_STRING; bit <= TG_JT_NULL; bit <<= 1)
			if ((f->types & bit) != 0 &&
			    json_array_append_new(any, one_type(bit, f->props)) != 0)
				goto fail;
	}
	if ((f->pattern && put(o, "pattern", json_string(f->pattern)) != 0) ||
	    (f->enums && put(o, "enum", enum_list(f->enums)) != 0) ||
	    (f->has_min && put(o, "minimum", json_integer(f->min)) != 0) ||
	    (f->has_max && put(o, "maximum", json_integer(f->max)) != 0) ||
	    (f->max_length > 0 && put(o, "maxLength", json_integer(f->max_length)) != 0) ||
	    (f->min_items > 0 && put(o, "minItems", json_integer(f->min_items)) != 0) ||
	    (f->items && put(o, "items", field_schema(f->items)) != 0) ||
	    (f->description && put(o, "description", json_string(f->description)) != 0))
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

int
tg_jschema_add(json_t *o, const struct tg_jfield *props)
{
	json_t *p = json_object_get(o, "properties");
	json_t *req = json_object_get(o, "required");
	const struct tg_jfield *f;

	for (f = props; f->name != NULL; f++) {
		if (f->only & TG_JF_REST)
			continue;
		if (put(p, f->name, field_schema(f)) != 0)
			return -TG_E_NOMEM;
		if (!f->required)
			continue;
		if ((req == NULL && put(o, "required", req = json_array()) != 0) ||
		    json_array_append_new(req, json_string(f->name)) != 0)
			return -TG_E_NOMEM;
	}
	return TG_OK;
}

json_t *
tg_jschema_object(const struct tg_jfield *props)
{
	json_t *o;

	if ((o = json_pack("{s:s, s:{}}", "type", "object", "properties")) == NULL)
		return NULL;
	if (tg_jschema_add(o, props) != TG_OK ||
	    put(o, "additionalProperties", json_false()) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* --- the REST body check ---------------------------------------------- */

/* The field of fields called name that REST knows, or NULL. */
static const struct tg_jfield *
rest_field(const struct tg_jfield *fields, const char *name)
{
	const struct tg_jfield *f;

	for (f = fields; f->name != NULL; f++)
		if (!(f->only & TG_JF_MCP) && strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static int
types_ok(unsigned t, const json_t *v)
{
	return t == 0 || ((t & TG_JT_STRING) && json_is_string(v)) ||
	    ((t & TG_JT_INTEGER) && json_is_integer(v)) ||
	    ((t & TG_JT_BOOLEAN) && json_is_boolean(v)) ||
	    ((t & TG_JT_ARRAY) && json_is_array(v)) ||
	    ((t & TG_JT_OBJECT) && json_is_object(v)) ||
	    ((t & TG_JT_NULL) && json_is_null(v));
}

static const char *
types_name(unsigned t)
{
	switch (t) {
	case TG_JT_STRING: return "a string";
	case TG_JT_STRING | TG_JT_NULL: return "a string or null";
	case TG_JT_OBJECT: return "an object";
	case TG_JT_OBJECT | TG_JT_NULL: return "an object or null";
	case TG_JT_INTEGER: return "an integer";
	case TG_JT_BOOLEAN: return "a boolean";
	case TG_JT_ARRAY: return "an array";
	case TG_JT_STRING | TG_JT_INTEGER: return "a string or an integer";
	default: return "a value";
	}
}

int
tg_jfields_check(const struct tg_jfield *fields, const json_t *in,
    struct tg_err *err)
{
	const struct tg_jfield *f;
	const char *key;
	json_t *v;

	if (!json_is_object(in))
		return tg_err_field(err, "body", "must be a JSON object");
	json_object_foreach((json_t *)in, key, v) {
		if ((f = rest_field(fields, key)) == NULL)
			tg_err_field(err, key, "unknown member");
		else if (!types_ok(f->types, v))
			tg_err_field(err, key, "must be %s", types_name(f->types));
	}
	for (f = fields; f->name != NULL; f++)
		if (f->required && !(f->only & TG_JF_MCP) &&
		    json_object_get(in, f->name) == NULL)
			tg_err_field(err, f->name, "is required");
	return err->status ? -err->status : TG_OK;
}
