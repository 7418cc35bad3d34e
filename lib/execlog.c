/*
 * execlog.c - CallToolResults of tool runs and their execution_logs rows
 * (see execlog.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>	/* security: OPENSSL_cleanse of unscrubbed log text */

#include "lib/db.h"
#include "lib/execlog.h"
#include "lib/parse.h"
#include "lib/redact.h"
#include "lib/status.h"

/* --- results --------------------------------------------------------- */

json_t *
tg_mcp_text_result(const char *text, int is_error)
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
			return tg_mcp_text_result(json_string_value(result), 0);
		if (result == NULL || json_is_null(result))
			return json_pack("{s:[], s:b}", "content", "isError", 0);
		text = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
		if (text == NULL)
			return NULL;
		out = tg_mcp_text_result(text, 0);
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
	return tg_mcp_text_result(msg, 1);
}


/* --- execution_logs rows --------------------------------------------- */

static int64_t
log_max_bytes(const struct tg_call *c)
{
	PGresult *res = NULL;
	int64_t v = TG_MCP_LOG_MAX_DEFAULT;

	if (tg_db_exec(c->db,
	    "SELECT (value #>> '{}') FROM settings WHERE key = 'log_max_bytes'"
	    " AND jsonb_typeof(value) = 'number'", 0, NULL, &res) == TG_OK &&
	    PQntuples(res) == 1 &&
	    tg_parse_i64(PQgetvalue(res, 0, 0), 256, 16 * 1024 * 1024, &v) != TG_OK)
		v = TG_MCP_LOG_MAX_DEFAULT;
	PQclear(res);
	return v;
}

/* security: scrub_trunc() replaces every value of the tool's server's
 * secrets (raw and JSON-escaped, tg_logs_scrub in lib/redact.c) BEFORE the text
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

/* $1..$11 of both writes: the tool, the caller, the request and the
 * redacted arguments; h holds their storage (free(h->args) after). */
struct row_head {
	char uid[24], kid[24];
	char *args;
};

static int
row_head(const struct tg_call *c, const struct tg_execlog *l,
    struct row_head *h, const char **p)
{
	json_t *red = tg_mcp_redact(l->arguments ? l->arguments : json_null());

	h->args = red ? json_dumps(red, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	json_decref(red);
	if (h->args == NULL)
		return -TG_E_NOMEM;
	snprintf(h->uid, sizeof(h->uid), "%lld", (long long)c->who->user_id);
	snprintf(h->kid, sizeof(h->kid), "%lld", (long long)c->who->api_key_id);
	p[0] = l->tool_id;
	p[1] = l->server_id;
	p[2] = l->tool_name;
	p[3] = l->version;
	p[4] = l->kind;
	p[5] = c->who->authenticated && c->who->user_id > 0 ? h->uid : NULL;
	p[6] = c->who->authenticated && c->who->api_key_id > 0 ? h->kid : NULL;
	p[7] = l->session_hash;
	p[8] = c->request_id;
	p[9] = l->traceparent;
	p[10] = h->args;
	return TG_OK;
}

/*
 * The backend_start of this worker's database session, looked up once per
 * connection (it never changes for a session): keyed by the connection and
 * its backend pid, so a reconnect looks it up again. NULL when the session
 * cannot see it (a role that is not the session's user, after SET ROLE,
 * reads NULL from pg_stat_activity - as the INSERT's own lookup did).
 */
static const char *
backend_start(struct tg_db *db)
{
	static struct {
		const PGconn *conn;
		int pid;
		char start[64];
	} cache;
	PGconn *conn = tg_db_conn(db);
	PGresult *res = NULL;
	int pid;

	if (conn == NULL || (pid = PQbackendPID(conn)) <= 0)
		return NULL;
	if (cache.conn == conn && cache.pid == pid)
		return cache.start[0] ? cache.start : NULL;
	cache.start[0] = '\0';
	if (tg_db_exec(db, "SELECT backend_start::text FROM pg_stat_activity"
	    " WHERE pid = pg_backend_pid()", 0, NULL, &res) == TG_OK &&
	    PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
	    snprintf(cache.start, sizeof(cache.start), "%s",
	    PQgetvalue(res, 0, 0)) >= (int)sizeof(cache.start))
		cache.start[0] = '\0';
	/* known now, value or NULL, for this connection as it is after the
	 * query (which may have reconnected) */
	cache.conn = tg_db_conn(db);
	cache.pid = cache.conn ? PQbackendPID(cache.conn) : 0;
	PQclear(res);
	return cache.start[0] ? cache.start : NULL;
}

/* reliability: see execlog.h. */
int
tg_execlog_start(const struct tg_call *c, struct tg_execlog *l)
{
	struct row_head h = {.args = NULL};
	PGresult *res = NULL;
	char wpid[24];
	const char *params[13];
	int rc;

	if ((rc = row_head(c, l, &h, params)) != TG_OK)
		goto out;
	snprintf(wpid, sizeof(wpid), "%ld", (long)getpid());
	params[11] = wpid;
	params[12] = backend_start(c->db);
	rc = tg_db_exec(c->db,
	    "INSERT INTO execution_logs (tool_id, server_id, tool_name, tool_version,"
	    " kind, caller_id, api_key_id, session_hash, request_id, traceparent,"
	    " arguments, status, worker_pid, backend_pid, backend_start)"
	    " VALUES ($1::bigint, $2::bigint, $3, $4::integer, $5, $6::bigint,"
	    " $7::bigint, $8, $9, left($10, 512), $11::jsonb, 'running', $12::integer,"
	    " pg_backend_pid(), $13::timestamptz) RETURNING id,"
	    " (SELECT (value #>> '{}') FROM settings WHERE key = 'log_max_bytes'"
	    " AND jsonb_typeof(value) = 'number')", 13, params, &res);
	if (rc == TG_OK && (PQntuples(res) != 1 ||
	    tg_parse_i64(PQgetvalue(res, 0, 0), 1, INT64_MAX, &l->id) != TG_OK))
		rc = -TG_E_INTERNAL;
	if (rc == TG_OK && (PQgetisnull(res, 0, 1) ||
	    tg_parse_i64(PQgetvalue(res, 0, 1), 256, 16 * 1024 * 1024,
	    &l->log_max) != TG_OK))
		l->log_max = TG_MCP_LOG_MAX_DEFAULT;
out:
	PQclear(res);
	free(h.args);
	return rc;
}

int
tg_execlog_finish(const struct tg_call *c, const struct tg_execlog *l)
{
	struct row_head h = {.args = NULL};
	char *res_full = NULL, *res = NULL, *out = NULL, *errt = NULL,
	    *err_full = NULL;
	char dur[24], rid[24];
	const char *params[20];
	size_t max = (size_t)(l->log_max > 0 ? l->log_max : log_max_bytes(c));
	const char *iso = NULL, *sbx = NULL;
	int rc, oom = 0;

	if ((rc = row_head(c, l, &h, params)) != TG_OK)
		goto out;
	rc = -TG_E_NOMEM;
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
	snprintf(dur, sizeof(dur), "%lld", (long long)l->duration_ms);
	params[11] = l->status;
	params[12] = res;
	params[13] = out;
	params[14] = errt;
	params[15] = err_full;
	params[16] = dur;
	if (l->sbx) {	/* what the sandbox says it was */
		iso = json_string_value(json_object_get(l->sbx, "isolation"));
		sbx = json_string_value(json_object_get(l->sbx, "sandbox"));
		if (iso && strcmp(iso, "full") && strcmp(iso, "degraded"))
			iso = NULL;
		if (sbx && strcmp(sbx, "warm") && strcmp(sbx, "cold"))
			sbx = NULL;
	}
	if (l->id > 0) {
		/* reliability: complete the row tg_execlog_start() wrote; a row that
		 * maintenance marked "lost" meanwhile (the database restarted
		 * under a live worker) gets its real outcome. $1..$6 are
		 * params[11..16], $7 the row's id. */
		snprintf(rid, sizeof(rid), "%lld", (long long)l->id);
		params[17] = rid;
		params[18] = iso;
		params[19] = sbx;
		rc = tg_db_exec(c->db,
		    "UPDATE execution_logs SET status = $1, result = $2, stdout = $3,"
		    " stderr = $4, error = $5, duration_ms = LEAST($6::bigint, 2147483647),"
		    " finished_at = now(), isolation = $8, sandbox = $9"
		    " WHERE id = $7::bigint AND status IN ('running', 'lost')", 9,
		    params + 11, NULL);
		goto out;
	}
	params[17] = iso;
	params[18] = sbx;
	rc = tg_db_exec(c->db,
	    "INSERT INTO execution_logs (tool_id, server_id, tool_name, tool_version,"
	    " kind, caller_id, api_key_id, session_hash, request_id, traceparent,"
	    " arguments, status, result, stdout, stderr, error, duration_ms,"
	    " isolation, sandbox)"
	    " VALUES ($1::bigint, $2::bigint, $3, $4::integer, $5, $6::bigint,"
	    " $7::bigint, $8, $9, left($10, 512), $11::jsonb, $12, $13, $14, $15, $16,"
	    " LEAST($17::bigint, 2147483647), $18, $19)", 19, params, NULL);
out:
	free(h.args);
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

void
tg_execlog_ids(struct tg_execlog *l, const json_t *o, const char *tool_key,
    const char *version_key)
{
	l->tool_id = str_member(o, tool_key, l->ids[0], sizeof(l->ids[0]));
	l->server_id = str_member(o, "server_id", l->ids[1], sizeof(l->ids[1]));
	l->version = str_member(o, version_key, l->ids[2], sizeof(l->ids[2]));
}

/* reliability: the row of a REST test run, before it runs (execlog.h). */
int
tg_mcp_log_test_begin(const struct tg_call *c, const json_t *tool,
    const json_t *args, struct tg_execlog *l)
{
	memset(l, 0, sizeof(*l));
	tg_execlog_ids(l, tool, "id", "current_version");
	l->tool_name = json_string_value(json_object_get(tool, "name"));
	if (l->tool_name == NULL)
		l->tool_name = "";
	l->kind = "test";
	l->arguments = args;
	return tg_execlog_start(c, l);
}

/* security: execution log of a REST test run (see execlog.h). */
int
tg_mcp_log_test(const struct tg_call *c, struct tg_execlog *l,
    const json_t *sbx, int run_rc, const char *diag, const json_t *secrets,
    int64_t duration_ms)
{
	json_t *result = NULL;
	char msg[512];
	const char *status = "error";
	int rc;

	l->result = NULL;
	l->sbx = NULL;
	l->error = NULL;
	if (run_rc == TG_OK) {
		if ((result = tg_mcp_result_from_sandbox(sbx, &status)) == NULL)
			return -TG_E_NOMEM;
		if (json_is_true(json_object_get(result, "isError")))
			l->error = json_string_value(json_object_get(json_array_get(
			    json_object_get(result, "content"), 0), "text"));
		l->result = result;
		l->sbx = sbx;
	} else {
		snprintf(msg, sizeof(msg), "The sandbox could not run the tool (%s)%s%s",
		    tg_status_name(run_rc), diag && diag[0] ? ": " : "", diag ? diag : "");
		status = run_rc == -TG_E_TIMEOUT ? "timeout" :
		    run_rc == -TG_E_BADREQ || run_rc == -TG_E_TOOLARGE ? "error" :
		    "unavailable";
		l->error = msg;
	}
	l->status = status;
	l->secrets = secrets;
	l->duration_ms = duration_ms;
	rc = tg_execlog_finish(c, l);
	l->result = NULL;
	l->sbx = NULL;
	l->error = NULL;
	json_decref(result);
	return rc;
}
