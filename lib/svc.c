/*
 * svc.c - shared pieces of the lifecycle service layer (see svc.h): the
 * error record, role checks, pagination, JSON-from-SQL helpers and the
 * audit hook.
 *
 * Most queries build their JSON in PostgreSQL (json_build_object) and
 * return one text column per row, which is parsed here: the row shapes are
 * then defined once, next to the SQL, and the C code stays small.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/perms.h"
#include "lib/audit.h"
#include "lib/db.h"
#include "lib/jschema.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/status.h"
#include "lib/svc.h"


void
tg_err_init(struct tg_err *e)
{
	memset(e, 0, sizeof(*e));
}

void
tg_err_clear(struct tg_err *e)
{
	json_decref(e->fields);
	tg_err_init(e);
}

int
tg_err_set(struct tg_err *e, int st, const char *fmt, ...)
{
	va_list ap;

	if (st < 0)
		st = -st;
	e->status = st;
	va_start(ap, fmt);
	if (vsnprintf(e->detail, sizeof(e->detail), fmt, ap) < 0)
		e->detail[0] = '\0';
	va_end(ap);
	return -st;
}

int
tg_err_field(struct tg_err *e, const char *field, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	json_t *o;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	if (e->status == 0) {
		e->status = TG_E_UNPROCESSABLE;
		snprintf(e->detail, sizeof(e->detail), "%s: %s", field, msg);
	}
	if (e->fields == NULL)
		e->fields = json_array();
	o = json_pack("{s:s, s:s}", "field", field, "message", msg);
	if (e->fields == NULL || o == NULL ||
	    json_array_append_new(e->fields, o) != 0)
		return -TG_E_NOMEM;
	return -e->status;
}

int
tg_err_from(struct tg_err *e, int rc)
{
	if (rc == TG_OK || e->status != 0)
		return rc;
	switch (-rc) {
	case TG_E_NOMEM:
		tg_err_set(e, rc, "out of memory");
		break;
	case TG_E_DB:
	case TG_E_UNAVAIL:
		tg_err_set(e, rc, "the database is unavailable; retry shortly");
		break;
	case TG_E_CONFLICT:
		tg_err_set(e, rc, "conflicting change; it was not applied");
		break;
	case TG_E_UNPROCESSABLE:
		tg_err_set(e, rc, "a value is out of range");
		break;
	default:
		tg_err_set(e, rc, "internal error; see the server log for this request id");
		break;
	}
	return rc;
}

int
tg_svc_page_args(const struct tg_page *pg, int64_t *limit, int64_t *after,
    struct tg_err *err)
{
	int64_t l = pg ? pg->limit : 0;

	if (l <= 0)
		l = TG_PAGE_DEFAULT;
	if (l > TG_PAGE_MAX)
		l = TG_PAGE_MAX;
	*limit = l;
	*after = 0;
	if (pg && pg->cursor && *pg->cursor &&
	    tg_parse_i64(pg->cursor, 0, INT64_MAX, after) != TG_OK)
		return tg_err_set(err, TG_E_BADREQ, "malformed cursor");
	return TG_OK;
}

int
tg_svc_page_wrap(json_t *rows, int64_t limit, const char *cursor_key,
    json_t **out)
{
	json_t *res, *next = json_null(), *last;
	char buf[32];

	if (rows == NULL)
		return -TG_E_NOMEM;
	if ((int64_t)json_array_size(rows) > limit) {
		while ((int64_t)json_array_size(rows) > limit)
			json_array_remove(rows, json_array_size(rows) - 1);
		last = json_array_get(rows, json_array_size(rows) - 1);
		last = json_object_get(last, cursor_key);
		if (json_is_integer(last)) {
			snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
			    json_integer_value(last));
			next = json_string(buf);
		} else if (json_is_string(last)) {
			next = json_string(json_string_value(last));
		}
	}
	res = json_pack("{s:o, s:o}", "items", rows, "next_cursor",
	    next ? next : json_null());
	if (res == NULL)
		return -TG_E_NOMEM;
	*out = res;
	return TG_OK;
}

int
tg_svc_need(const struct tg_call *c, unsigned perm, struct tg_err *err)
{
	if (c->who == NULL || !c->who->authenticated)
		return tg_err_set(err, TG_E_UNAUTH, "authentication is required");
	if (!tg_call_can(c, perm))
		return tg_err_set(err, TG_E_FORBIDDEN,
		    "this needs the %s role",
		    tg_access_role_can(TG_ROLE_VIEWER, perm) ? "viewer" :
		    tg_access_role_can(TG_ROLE_DEVELOPER, perm) ?
		    "developer (or admin)" : "admin");
	return TG_OK;
}

int
tg_svc_unpack(const struct tg_call *c, unsigned perm, struct tg_err *err,
    json_t *in, size_t flags, const char *fmt, ...)
{
	json_error_t je;
	va_list ap;
	int rc;

	if ((rc = tg_svc_need(c, perm, err)) != TG_OK)
		return rc;
	va_start(ap, fmt);
	rc = json_vunpack_ex(in, &je, flags, fmt, ap);
	va_end(ap);
	if (rc != 0)
		return tg_err_field(err, "body", "%s", je.text);
	return TG_OK;
}

int
tg_svc_parse_id(const char *s, const char *what, int64_t *out,
    struct tg_err *err)
{
	if (s == NULL || tg_parse_i64(s, 1, INT64_MAX, out) != TG_OK)
		return tg_err_set(err, TG_E_NOTFOUND, "no %s with id '%s'", what,
		    s ? s : "");
	return TG_OK;
}

const char *
tg_svc_actor(const struct tg_call *c, char *buf, size_t cap)
{
	int n;

	if (c == NULL || c->who == NULL || !c->who->authenticated ||
	    c->who->user_id <= 0)
		return NULL;
	n = snprintf(buf, cap, "%lld", (long long)c->who->user_id);
	if (n < 0 || (size_t)n >= cap)
		return NULL;
	return buf;
}

static json_t *
parse_cell(const PGresult *res, int row, int col)
{
	json_error_t je;

	if (PQgetisnull(res, row, col))
		return json_null();
	return json_loadb(PQgetvalue(res, row, col),
	    (size_t)PQgetlength(res, row, col), JSON_DECODE_ANY, &je);
}

int
tg_svc_query_array(struct tg_db *db, const char *sql, int n,
    const char *const *params, json_t **out)
{
	PGresult *res = NULL;
	json_t *arr = NULL, *v;
	int i, rc;

	if ((rc = tg_db_exec(db, sql, n, params, &res)) != TG_OK)
		goto out;
	arr = json_array();
	if (arr == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	for (i = 0; i < PQntuples(res); i++) {
		v = parse_cell(res, i, 0);
		if (v == NULL || json_array_append_new(arr, v) != 0) {
			tg_log(TG_LOG_ERR, "svc.json", "msg=%s",
			    tg_log_q("database returned JSON jansson cannot read"));
			rc = -TG_E_INTERNAL;
			goto out;
		}
	}
	*out = arr;
	arr = NULL;
out:
	json_decref(arr);
	PQclear(res);
	return rc;
}

int
tg_svc_query_object(struct tg_db *db, const char *sql, int n,
    const char *const *params, json_t **out)
{
	PGresult *res = NULL;
	json_t *v;
	int rc;

	if ((rc = tg_db_exec(db, sql, n, params, &res)) != TG_OK)
		goto out;
	if (PQntuples(res) == 0) {
		rc = -TG_E_NOTFOUND;
		goto out;
	}
	v = parse_cell(res, 0, 0);
	if (v == NULL) {
		rc = -TG_E_INTERNAL;
		goto out;
	}
	*out = v;
out:
	PQclear(res);
	return rc;
}

int
tg_svc_query_id(struct tg_db *db, const char *sql, int64_t id, json_t **out)
{
	char ids[24];
	const char *p[1] = {ids};

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	return tg_svc_query_object(db, sql, 1, p, out);
}

char *
tg_svc_strdup_val(const PGresult *res, int row, int col)
{
	return strdup(PQgetvalue(res, row, col));
}

/* n bytes within [min, max], not starting with one of bad_first, each
 * one of a-z, 0-9 or extra. */
static int
name_ok(const char *s, size_t min, size_t max, const char *bad_first,
    const char *extra)
{
	size_t n = strlen(s);

	if (n < min || n > max || (n > 0 && strchr(bad_first, s[0]) != NULL))
		return 0;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= '0' && *s <= '9') &&
		    strchr(extra, *s) == NULL)
			return 0;
	return 1;
}

#define NAME_UPPER "_-.ABCDEFGHIJKLMNOPQRSTUVWXYZ"

int
tg_svc_valid_server_name(const char *s)
{
	return name_ok(s, 1, 48, "_-", "_-");
}

int
tg_svc_valid_tool_name(const char *s)
{
	return name_ok(s, 1, 64, ".-", NAME_UPPER);
}

int
tg_svc_valid_prefix(const char *s)
{
	return name_ok(s, 0, 64, "", NAME_UPPER);
}

/* The field type of a spec character (see svc.h). */
static unsigned
spec_types(char t)
{
	switch (t) {
	case 's': return TG_JT_STRING;
	case 'S': return TG_JT_STRING | TG_JT_NULL;
	case 'o': return TG_JT_OBJECT;
	case 'O': return TG_JT_OBJECT | TG_JT_NULL;
	case 'I': return TG_JT_INTEGER;
	case 'b': return TG_JT_BOOLEAN;
	case 'a': return TG_JT_ARRAY;
	default: return 0;
	}
}

/* The spec string as field specs, checked by tg_jfields_check (the one
 * body checker; lib/ops.c rows give their field specs directly). */
int
tg_svc_check_object(json_t *in, const char *spec, struct tg_err *err)
{
	struct tg_jfield f[48];
	char buf[1024], *p, *next, *colon;
	size_t n = 0;

	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf))
		return tg_err_set(err, TG_E_INTERNAL, "field spec too long");
	memset(f, 0, sizeof(f));
	for (p = buf; p != NULL && *p && n + 1 < sizeof(f) / sizeof(f[0]); p = next) {
		if ((next = strchr(p, ',')) != NULL)
			*next++ = '\0';
		if ((colon = strchr(p, ':')) == NULL)
			break;
		*colon = '\0';
		f[n].name = p;
		f[n].types = spec_types(colon[1]);
		f[n].required = colon[1] != '\0' && colon[2] == '!';
		n++;
	}
	return tg_jfields_check(f, in, err);
}

int
tg_svc_exec_audited(const struct tg_call *c, const char *sql, int n,
    const char *const *p, const char *action, const char *target,
    const char *missing, struct tg_err *err)
{
	struct tg_row_op op = {.sql = sql, .p = p, .np = n, .action = action,
	    .id = target, .missing = missing};

	return tg_call_row_op(c, &op, err);
}
