/*
 * logs.c - reading execution logs (see logs.h).
 *
 * One query shape for both lists (keyset on id, newest first) and one for
 * a single row; the REST routes and the MCP management tool
 * toolgate_tool_logs (the logs.* rows of lib/ops.c) call these functions, so both see exactly the
 * same rows, filters and redaction.
 *
 * Redaction on the way out, in addition to the redaction at write time:
 *   - "arguments" goes through tg_mcp_redact() again (rows written before
 *     a rule change, or by a future writer that forgets);
 *   - every value of the row's server's secrets (decrypted here, held only
 *     for the duration of the call) is replaced in the text fields, both
 *     raw and in its JSON-escaped form (the logged result is JSON text).
 *     When the secrets cannot be opened the text fields are withheld
 *     rather than returned unscrubbed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/crud.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/logs.h"
#include "lib/parse.h"
#include "lib/redact.h"
#include "lib/secrets.h"
#include "lib/servers.h"
#include "lib/status.h"
#include "lib/tools.h"

#define WITHHELD "[withheld: the server's secrets could not be opened to redact this text]"

#define ITEM_COLS \
	"'id', l.id, 'tool_id', l.tool_id, 'server_id', l.server_id," \
	" 'tool_name', l.tool_name, 'tool_version', l.tool_version, 'kind', l.kind," \
	" 'caller_id', l.caller_id, 'caller', u.username, 'api_key_id', l.api_key_id," \
	" 'request_id', l.request_id, 'arguments', l.arguments, 'status', l.status," \
	" 'error', l.error, 'duration_ms', l.duration_ms, 'created_at', " TG_SQL_TS("l.created_at") \
	", 'isolation', l.isolation, 'sandbox', l.sandbox"

static const char *const text_fields[] = {"result", "stdout", "stderr", "error", NULL};

int
tg_logs_valid_status(const char *s)
{
	static const char *const st[] = {"ok", "error", "timeout", "truncated",
		"unavailable", "cancelled", "running", "lost", NULL};

	return tg_str_in(s, st);
}

/* Replaces, in the string member k of item, each secret value (raw and
 * JSON-escaped). */
static int
scrub_member(json_t *item, const char *k, const json_t *secrets)
{
	const json_t *sv = json_object_get(item, k);
	char *cur;
	int rc = TG_OK;

	if (!json_is_string(sv))
		return TG_OK;
	if ((cur = tg_logs_scrub(json_string_value(sv), secrets)) == NULL)
		return -TG_E_NOMEM;
	if (json_object_set_new(item, k, json_string(cur)) != 0)
		rc = -TG_E_NOMEM;
	free(cur);
	return rc;
}

/* Redacts one row in place. *cache/cached_sid hold the last server's
 * secrets ({} for none; NULL when they could not be opened). */
static int
redact_item(const struct tg_call *c, json_t *item, json_t **cache,
    int64_t *cached_sid, int *have_cache)
{
	const json_t *sid = json_object_get(item, "server_id");
	json_t *args;
	int64_t id = json_is_integer(sid) ? (int64_t)json_integer_value(sid) : 0;
	int i, rc;

	if ((args = tg_mcp_redact(json_object_get(item, "arguments"))) == NULL ||
	    json_object_set_new(item, "arguments", args) != 0)
		return -TG_E_NOMEM;
	if (!*have_cache || *cached_sid != id) {
		json_decref(*cache);
		*cache = NULL;
		if (id > 0) {
			rc = tg_secrets_decrypt_all(c->db, c->cfg, id, cache);
			if (rc == -TG_E_NOMEM || rc == -TG_E_DB)
				return rc;
			if (rc != TG_OK)
				*cache = NULL;	/* withhold below */
		} else if ((*cache = json_object()) == NULL) {
			return -TG_E_NOMEM;
		}
		*cached_sid = id;
		*have_cache = 1;
	}
	for (i = 0; text_fields[i]; i++) {
		if (!json_is_string(json_object_get(item, text_fields[i])))
			continue;
		if (*cache == NULL) {
			if (json_object_set_new(item, text_fields[i], json_string(WITHHELD)) != 0)
				return -TG_E_NOMEM;
		} else if ((rc = scrub_member(item, text_fields[i], *cache)) != TG_OK) {
			return rc;
		}
	}
	return TG_OK;
}

static int
redact_all(const struct tg_call *c, json_t *rows)
{
	json_t *cache = NULL, *item;
	int64_t cached = 0;
	int have = 0, rc = TG_OK;
	size_t i;

	json_array_foreach(rows, i, item) {
		if ((rc = redact_item(c, item, &cache, &cached, &have)) != TG_OK)
			break;
	}
	/* Holds secret values: release now. */
	json_decref(cache);
	return rc;
}

static int
check_filter(const struct tg_logs_filter *f, struct tg_err *err)
{
	if (f && f->status && !tg_logs_valid_status(f->status))
		return tg_err_field(err, "status",
		    "must be one of ok, error, timeout, truncated, unavailable");
	if (f && f->since && (*f->since == '\0' || strlen(f->since) > 64))
		return tg_err_field(err, "since", "must be an ISO 8601 timestamp");
	return TG_OK;
}

/* by is "tool_id" or "server_id" (a fixed column name, never input). */
static int
list(const struct tg_call *c, const char *by, int64_t owner,
    const struct tg_logs_filter *f, const struct tg_page *pg, json_t **out,
    struct tg_err *err)
{
	struct tg_keyset ks;
	char sql[1024], oid[24];
	const char *p[5];
	json_t *rows = NULL;
	int n, rc;

	if ((rc = check_filter(f, err)) != TG_OK)
		return rc;
	if ((rc = tg_keyset_args(pg, &ks, err)) != TG_OK)
		return rc;
	n = snprintf(sql, sizeof(sql),
	    "SELECT json_build_object(" ITEM_COLS ")::text"
	    " FROM execution_logs l LEFT JOIN users u ON u.id = l.caller_id"
	    " WHERE l.%s = $1::bigint AND ($2::bigint = 0 OR l.id < $2::bigint)"
	    " AND ($3::text IS NULL OR l.status = $3::text)"
	    " AND ($4::timestamptz IS NULL OR l.created_at >= $4::timestamptz)"
	    " ORDER BY l.id DESC LIMIT $5::bigint", by);
	if (n < 0 || (size_t)n >= sizeof(sql))
		return tg_err_from(err, -TG_E_INTERNAL);
	tg_i64s(oid, sizeof(oid), owner);
	p[0] = oid;
	p[1] = ks.after;
	p[2] = f ? f->status : NULL;
	p[3] = f ? f->since : NULL;
	p[4] = ks.limit1;
	rc = tg_svc_query_array(c->db, sql, 5, p, &rows);
	if (rc == -TG_E_UNPROCESSABLE)
		return tg_err_field(err, "since", "must be an ISO 8601 timestamp");
	if (rc != TG_OK)
		return tg_err_from(err, rc);
	if ((rc = redact_all(c, rows)) != TG_OK) {
		json_decref(rows);
		return tg_err_from(err, rc);
	}
	return tg_err_from(err, tg_svc_page_wrap(rows, ks.limit, "id", out));
}

/* The logs of one tool or server (col): get() says 404 when it is gone. */
static int
list_of(const struct tg_call *c, const char *col, int64_t id,
    int (*get)(const struct tg_call *, int64_t, json_t **, struct tg_err *),
    const struct tg_logs_filter *f, const struct tg_page *pg, json_t **out,
    struct tg_err *err)
{
	json_t *one = NULL;
	int rc;

	if ((rc = tg_svc_need(c, TG_P_READ, err)) != TG_OK)
		return rc;
	if ((rc = get(c, id, &one, err)) != TG_OK)
		return rc;
	json_decref(one);
	return list(c, col, id, f, pg, out, err);
}

int
tg_logs_list_tool(const struct tg_call *c, int64_t tool_id,
    const struct tg_logs_filter *f, const struct tg_page *pg, json_t **out,
    struct tg_err *err)
{
	return list_of(c, "tool_id", tool_id, tg_tools_get, f, pg, out, err);
}

int
tg_logs_list_server(const struct tg_call *c, int64_t server_id,
    const struct tg_logs_filter *f, const struct tg_page *pg, json_t **out,
    struct tg_err *err)
{
	return list_of(c, "server_id", server_id, tg_servers_get, f, pg, out, err);
}

int
tg_logs_get(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err)
{
	json_t *row = NULL, *rows = NULL;
	int rc;

	if ((rc = tg_svc_need(c, TG_P_READ, err)) != TG_OK)
		return rc;
	rc = tg_svc_query_id(c->db,
	    "SELECT json_build_object(" ITEM_COLS ", 'result', l.result,"
	    " 'stdout', l.stdout, 'stderr', l.stderr,"
	    " 'traceparent', l.traceparent)::text"
	    " FROM execution_logs l LEFT JOIN users u ON u.id = l.caller_id"
	    " WHERE l.id = $1::bigint", id, &row);
	if (rc == -TG_E_NOTFOUND)
		return tg_err_set(err, TG_E_NOTFOUND, "no execution log %lld", (long long)id);
	if (rc != TG_OK)
		return tg_err_from(err, rc);
	if ((rows = json_array()) == NULL || json_array_append(rows, row) != 0)
		rc = -TG_E_NOMEM;
	else
		rc = redact_all(c, rows);
	json_decref(rows);
	if (rc != TG_OK) {
		json_decref(row);
		return tg_err_from(err, rc);
	}
	*out = row;
	return TG_OK;
}
