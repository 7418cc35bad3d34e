/*
 * sources.c - external MCP sources: CRUD, discover, import, health with a
 * circuit breaker, and passthrough calls (see sources.h).
 *
 * Network calls never run inside a database transaction: a source row is
 * loaded (credentials decrypted into fixed buffers that are wiped at the
 * end), the remote exchange runs with one deadline (lib/mcp_client.c),
 * and then the outcome, the remote session and the health counters are
 * written back in single statements. Credentials are sealed with
 * lib/secretbox (AAD "source_cred:<id>") and never leave this file except
 * as an HTTP header on the wire.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fcgi/config.h"
#include "fcgi/log.h"
#include "fcgi/request.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/mcp_client.h"
#include "lib/parse.h"
#include "lib/secretbox.h"
#include "lib/servers.h"
#include "lib/sources.h"
#include "lib/status.h"
#include "lib/tools.h"

#define SOURCE_FIELDS \
	"'id', e.id, 'server_id', e.server_id, 'server_name', s.name, 'name', e.name," \
	" 'description', e.description, 'url', e.url, 'transport', e.transport," \
	" 'internal', e.internal, 'enabled', e.enabled, 'auth_type', e.auth_type," \
	" 'auth_header', e.auth_header, 'has_credential', e.cred_ciphertext IS NOT NULL," \
	" 'connect_timeout_ms', e.connect_timeout_ms, 'timeout_ms', e.timeout_ms," \
	" 'max_response_bytes', e.max_response_bytes," \
	" 'failure_threshold', e.failure_threshold, 'cooldown_s', e.cooldown_s," \
	" 'status', e.status, 'consecutive_failures', e.consecutive_failures," \
	" 'circuit_open_until', e.circuit_open_until, 'last_health_at', e.last_health_at," \
	" 'last_latency_ms', e.last_latency_ms, 'last_error', e.last_error," \
	" 'last_error_at', e.last_error_at, 'protocol_version', e.protocol_version," \
	" 'server_info', e.server_info," \
	" 'tool_count', (SELECT count(*) FROM tools t WHERE t.source_id = e.id)," \
	" 'created_by', e.created_by, 'created_at', e.created_at, 'updated_at', e.updated_at"
#define SOURCE_FROM " FROM external_sources e JOIN servers s ON s.id = e.server_id"

/* Columns of a loaded source (struct src). */
#define SRC_COLS \
	"e.id, e.server_id, e.name, e.url, e.internal, e.enabled, e.auth_type," \
	" e.auth_header, e.cred_nonce, e.cred_ciphertext, e.connect_timeout_ms," \
	" e.timeout_ms, e.max_response_bytes, coalesce(e.session_id, '')," \
	" coalesce(e.protocol_version, ''), e.status, e.consecutive_failures," \
	" (e.circuit_open_until IS NOT NULL AND e.circuit_open_until > now())," \
	" coalesce(to_char(e.circuit_open_until AT TIME ZONE 'UTC'," \
	" 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), coalesce(e.last_error, '')"

/* A source loaded for a remote exchange. auth_value holds the credential. */
struct src {
	int64_t id, server_id;
	char name[64];
	char url[TG_MCP_URL_MAX + 1];
	int internal, enabled;
	char auth_name[80];
	char auth_value[TG_SOURCE_CRED_MAX + 16];
	long connect_ms, timeout_ms;
	size_t max_bytes;
	char session[TG_MCP_CLIENT_SESSION_MAX];
	char version[32];
	char status[16];
	long failures;
	int circuit_open;
	char open_until[40];
	char last_error[256];
};

static void
i64s(char *buf, size_t cap, int64_t v)
{
	snprintf(buf, cap, "%lld", (long long)v);
}

static int
no_source(struct tg_err *err, int64_t id)
{
	return tg_err_set(err, TG_E_NOTFOUND, "no source with id %lld", (long long)id);
}

static int
cred_aad(char *buf, size_t cap, int64_t id)
{
	int n = snprintf(buf, cap, "source_cred:%lld", (long long)id);

	return n < 0 || (size_t)n >= cap ? -TG_E_TOOLARGE : TG_OK;
}

/* ---------------------------------------------------------------- reads */

int
tg_sources_list(struct tg_req *req, int64_t server_id, const struct tg_page *pg,
    json_t **out, struct tg_err *err)
{
	char sid[24], lim[24], aft[24];
	const char *p[3];
	int64_t limit, after;
	json_t *rows = NULL, *one = NULL;
	int rc;

	if ((rc = tg_svc_need_role(req, TG_ROLE_VIEWER, err)) != TG_OK)
		return rc;
	if ((rc = tg_svc_page_args(pg, &limit, &after, err)) != TG_OK)
		return rc;
	if ((rc = tg_servers_get(req, server_id, &one, err)) != TG_OK)
		return rc;
	json_decref(one);
	i64s(sid, sizeof(sid), server_id);
	i64s(aft, sizeof(aft), after);
	i64s(lim, sizeof(lim), limit + 1);
	p[0] = sid;
	p[1] = aft;
	p[2] = lim;
	rc = tg_svc_query_array(req->ctx->db,
	    "SELECT json_build_object(" SOURCE_FIELDS ")::text" SOURCE_FROM
	    " WHERE e.server_id = $1::bigint AND e.id > $2::bigint"
	    " ORDER BY e.id LIMIT $3::bigint", 3, p, &rows);
	if (rc != TG_OK)
		return tg_err_from(err, rc);
	return tg_err_from(err, tg_svc_page_wrap(rows, limit, "id", out));
}

static int
get_row(struct tg_req *req, int64_t id, json_t **out, struct tg_err *err)
{
	char ids[24];
	const char *p[1];
	int rc;

	i64s(ids, sizeof(ids), id);
	p[0] = ids;
	rc = tg_svc_query_object(req->ctx->db, "SELECT json_build_object("
	    SOURCE_FIELDS ")::text" SOURCE_FROM " WHERE e.id = $1::bigint", 1, p, out);
	if (rc == -TG_E_NOTFOUND)
		return no_source(err, id);
	return tg_err_from(err, rc);
}

int
tg_sources_get(struct tg_req *req, int64_t id, json_t **out, struct tg_err *err)
{
	int rc;

	if ((rc = tg_svc_need_role(req, TG_ROLE_VIEWER, err)) != TG_OK)
		return rc;
	return get_row(req, id, out, err);
}

/* --------------------------------------------------------------- input */

struct src_in {
	const char *name, *url, *description, *transport, *auth_type;
	json_t *auth_header, *credential;	/* borrowed; may be JSON null */
	int internal, enabled;			/* -1: absent */
	json_int_t connect_ms, timeout_ms, max_bytes, threshold, cooldown;	/* -1 absent */
};

int
tg_sources_valid_header(const char *h)
{
	static const char *const banned[] = {"host", "content-length", "content-type",
		"accept", "transfer-encoding", "connection", "expect", "upgrade",
		"te", "trailer", "keep-alive", "proxy-authorization", "proxy-connection",
		"mcp-session-id", "mcp-protocol-version", "last-event-id", "cookie", NULL};
	size_t i, n = strlen(h);

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((h[i] >= 'A' && h[i] <= 'Z') || (h[i] >= 'a' && h[i] <= 'z') ||
		    (h[i] >= '0' && h[i] <= '9') || h[i] == '-'))
			return 0;
	for (i = 0; banned[i]; i++)
		if (strcasecmp(h, banned[i]) == 0)
			return 0;
	return 1;
}

static int
valid_credential(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > TG_SOURCE_CRED_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int
range(struct tg_err *err, const char *field, json_int_t v, json_int_t lo, json_int_t hi)
{
	if (v != -1 && (v < lo || v > hi))
		return tg_err_field(err, field, "must be between %lld and %lld",
		    (long long)lo, (long long)hi);
	return TG_OK;
}

/* The URL's host when it is a literal (or localhost) that the policy
 * refuses for a non-internal source. */
int
tg_sources_url_ok(const char *url, int internal, char *why, size_t cap)
{
	struct tg_mcp_url u;
	int k;

	if (tg_mcp_url_check(url, &u, why, cap) != TG_OK)
		return -1;
	k = tg_mcp_addr_classify_str(u.host);
	if (k < 0 && (strcasecmp(u.host, "localhost") == 0 ||
	    (strlen(u.host) > 10 && strcasecmp(u.host + strlen(u.host) - 10, ".localhost") == 0)))
		k = TG_ADDR_LOOPBACK;
	if (k >= 0 && !tg_mcp_addr_allowed((enum tg_addr_class)k, internal)) {
		snprintf(why, cap, "%s is a %s address%s", u.host,
		    tg_mcp_addr_class_name((enum tg_addr_class)k),
		    tg_mcp_addr_allowed((enum tg_addr_class)k, 1) ?
		    "; only an admin can allow it by marking the source internal" :
		    " and is never allowed");
		return -1;
	}
	return 0;
}

static int
check_url(const char *url, int internal, struct tg_err *err)
{
	char why[320];

	if (tg_sources_url_ok(url, internal, why, sizeof(why)) != 0)
		return tg_err_field(err, "url", "%s", why);
	return TG_OK;
}

static int
parse_in(struct tg_req *req, json_t *in, int create, struct src_in *si,
    struct tg_err *err)
{
	json_error_t je;
	int rc;

	memset(si, 0, sizeof(*si));
	si->internal = si->enabled = -1;
	si->connect_ms = si->timeout_ms = si->max_bytes = si->threshold = si->cooldown = -1;
	if ((rc = tg_svc_check_object(in, create ?
	    "name:s!,url:s!,description:s,transport:s,internal:b,enabled:b,auth_type:s,"
	    "auth_header:S,credential:S,connect_timeout_ms:I,timeout_ms:I,"
	    "max_response_bytes:I,failure_threshold:I,cooldown_s:I" :
	    "name:s,url:s,description:s,transport:s,internal:b,enabled:b,auth_type:s,"
	    "auth_header:S,credential:S,connect_timeout_ms:I,timeout_ms:I,"
	    "max_response_bytes:I,failure_threshold:I,cooldown_s:I", err)) != TG_OK)
		return rc;
	if (json_unpack_ex(in, &je, 0, "{s?s, s?s, s?s, s?s, s?b, s?b, s?s, s?o, s?o,"
	    " s?I, s?I, s?I, s?I, s?I !}", "name", &si->name, "url", &si->url,
	    "description", &si->description, "transport", &si->transport,
	    "internal", &si->internal, "enabled", &si->enabled, "auth_type", &si->auth_type,
	    "auth_header", &si->auth_header, "credential", &si->credential,
	    "connect_timeout_ms", &si->connect_ms, "timeout_ms", &si->timeout_ms,
	    "max_response_bytes", &si->max_bytes, "failure_threshold", &si->threshold,
	    "cooldown_s", &si->cooldown) != 0)
		return tg_err_field(err, "body", "%s", je.text);
	if (si->name && !tg_svc_valid_server_name(si->name))
		tg_err_field(err, "name", "1-48 of a-z, 0-9, '_' and '-', starting with a letter or digit");
	if (si->description && strlen(si->description) > 4096)
		tg_err_field(err, "description", "at most 4096 bytes");
	if (si->transport && strcmp(si->transport, "streamable_http") != 0)
		tg_err_field(err, "transport", "only \"streamable_http\" is supported");
	if (si->auth_type && strcmp(si->auth_type, "none") != 0 &&
	    strcmp(si->auth_type, "bearer") != 0 && strcmp(si->auth_type, "header") != 0)
		tg_err_field(err, "auth_type", "one of none, bearer, header");
	if (json_is_string(si->auth_header) &&
	    !tg_sources_valid_header(json_string_value(si->auth_header)))
		tg_err_field(err, "auth_header", "a header name of A-Z, a-z, 0-9 and '-' (at most"
		    " 64) that is not a transport or MCP header");
	if (json_is_string(si->credential) &&
	    !valid_credential(json_string_value(si->credential),
	    json_string_length(si->credential)))
		tg_err_field(err, "credential", "1-%d bytes without control characters",
		    TG_SOURCE_CRED_MAX);
	range(err, "connect_timeout_ms", si->connect_ms, 100, 60000);
	range(err, "timeout_ms", si->timeout_ms, 100, 120000);
	range(err, "max_response_bytes", si->max_bytes, 1024, 67108864);
	range(err, "failure_threshold", si->threshold, 1, 100);
	range(err, "cooldown_s", si->cooldown, 1, 86400);
	if (err->status)
		return -err->status;
	/* admin-only members */
	if ((si->internal != -1 || (si->credential && !json_is_null(si->credential))) &&
	    req->who.role != TG_ROLE_ADMIN)
		return tg_err_set(err, TG_E_FORBIDDEN, "only an admin can set %s",
		    si->internal != -1 ? "\"internal\"" : "a source credential");
	return TG_OK;
}

/* Seals the credential of source id into nonce/ct (ct: hex "\\x..." for a
 * bytea parameter). */
static int
seal_cred(struct tg_req *req, int64_t id, const char *cred, size_t n,
    char *nonce_hex, size_t ncap, char **ct_hex, struct tg_err *err)
{
	const struct tg_config *cfg = req->ctx->cfg;
	unsigned char nonce[TG_SECRETBOX_NONCE], *ct = NULL;
	char aad[64];
	size_t cap;
	int rc;

	*ct_hex = NULL;
	if (!cfg->have_enc_key)
		return tg_err_set(err, TG_E_UNAVAIL, "no encryption key is configured"
		    " (TOOLGATE_ENCRYPTION_KEY); credentials cannot be stored");
	if ((rc = cred_aad(aad, sizeof(aad), id)) != TG_OK)
		return tg_err_from(err, rc);
	if ((ct = malloc(n + TG_SECRETBOX_TAG)) == NULL)
		return tg_err_from(err, -TG_E_NOMEM);
	cap = 2 * (n + TG_SECRETBOX_TAG) + 3;
	if ((*ct_hex = malloc(cap)) == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	if ((rc = tg_secretbox_seal(cfg->enc_key, aad, (const unsigned char *)cred, n,
	    nonce, ct)) != TG_OK)
		goto out;
	memcpy(*ct_hex, "\\x", 2);
	memcpy(nonce_hex, "\\x", 2);
	if ((rc = tg_crypto_hex(ct, n + TG_SECRETBOX_TAG, *ct_hex + 2, cap - 2)) != TG_OK ||
	    (rc = tg_crypto_hex(nonce, sizeof(nonce), nonce_hex + 2, ncap - 2)) != TG_OK)
		goto out;
out:
	if (rc != TG_OK) {
		free(*ct_hex);
		*ct_hex = NULL;
	}
	free(ct);
	return tg_err_from(err, rc);
}

static int
store_cred(struct tg_req *req, int64_t id, json_t *cred, struct tg_err *err)
{
	char ids[24], nonce_hex[2 * TG_SECRETBOX_NONCE + 3], *ct_hex = NULL;
	const char *p[3];
	int rc;

	i64s(ids, sizeof(ids), id);
	p[0] = ids;
	if (json_is_null(cred))
		return tg_err_from(err, tg_db_exec(req->ctx->db, "UPDATE external_sources SET"
		    " cred_nonce = NULL, cred_ciphertext = NULL, cred_key_version = NULL"
		    " WHERE id = $1::bigint", 1, p, NULL));
	if ((rc = seal_cred(req, id, json_string_value(cred), json_string_length(cred),
	    nonce_hex, sizeof(nonce_hex), &ct_hex, err)) != TG_OK)
		return rc;
	p[1] = nonce_hex;
	p[2] = ct_hex;
	rc = tg_db_exec(req->ctx->db, "UPDATE external_sources SET cred_nonce = $2::bytea,"
	    " cred_ciphertext = $3::bytea, cred_key_version = 1 WHERE id = $1::bigint",
	    3, p, NULL);
	free(ct_hex);
	return tg_err_from(err, rc);
}

static int
conflict(struct tg_req *req, struct tg_err *err, int rc, const char *name)
{
	if (rc == -TG_E_CONFLICT && strcmp(tg_db_sqlstate(req->ctx->db), "23505") == 0)
		return tg_err_set(err, TG_E_CONFLICT, "this server already has a source"
		    " named '%s'", name ? name : "");
	if (rc == -TG_E_UNPROCESSABLE)
		return tg_err_set(err, TG_E_UNPROCESSABLE, "the source violates a rule (%s)",
		    tg_db_constraint(req->ctx->db));
	return tg_err_from(err, rc);
}

/* --------------------------------------------------------------- writes */

int
tg_sources_create(struct tg_req *req, int64_t server_id, json_t *in, json_t **out,
    struct tg_err *err)
{
	struct src_in si;
	char sid[24], actor[24], ints[6][24];
	const char *p[14];
	PGresult *res = NULL;
	json_t *one = NULL, *detail = NULL;
	const char *auth_type;
	int64_t id = 0;
	int rc;

	if ((rc = tg_svc_need_role(req, TG_ROLE_DEVELOPER, err)) != TG_OK)
		return rc;
	if ((rc = parse_in(req, in, 1, &si, err)) != TG_OK)
		return rc;
	auth_type = si.auth_type ? si.auth_type : "none";
	if ((rc = check_url(si.url, si.internal == 1, err)) != TG_OK)
		return rc;
	if (strcmp(auth_type, "header") == 0 && !json_is_string(si.auth_header))
		return tg_err_field(err, "auth_header", "required for auth_type \"header\"");
	if (strcmp(auth_type, "none") != 0 && !json_is_string(si.credential))
		return tg_err_field(err, "credential", "required for auth_type \"%s\"", auth_type);
	if (strcmp(auth_type, "none") == 0 && json_is_string(si.credential))
		return tg_err_field(err, "credential", "not used with auth_type \"none\"");
	if ((rc = tg_servers_get(req, server_id, &one, err)) != TG_OK)
		return rc;
	json_decref(one);
	i64s(sid, sizeof(sid), server_id);
	i64s(ints[0], 24, si.connect_ms == -1 ? 5000 : si.connect_ms);
	i64s(ints[1], 24, si.timeout_ms == -1 ? 30000 : si.timeout_ms);
	i64s(ints[2], 24, si.max_bytes == -1 ? 4194304 : si.max_bytes);
	i64s(ints[3], 24, si.threshold == -1 ? 3 : si.threshold);
	i64s(ints[4], 24, si.cooldown == -1 ? 30 : si.cooldown);
	p[0] = sid;
	p[1] = si.name;
	p[2] = si.description ? si.description : "";
	p[3] = si.url;
	p[4] = si.internal == 1 ? "true" : "false";
	p[5] = si.enabled == 0 ? "false" : "true";
	p[6] = auth_type;
	p[7] = strcmp(auth_type, "header") == 0 ? json_string_value(si.auth_header) : NULL;
	p[8] = ints[0];
	p[9] = ints[1];
	p[10] = ints[2];
	p[11] = ints[3];
	p[12] = ints[4];
	p[13] = tg_svc_actor(req, actor, sizeof(actor));
	if ((rc = tg_db_begin(req->ctx->db)) != TG_OK)
		return tg_err_from(err, rc);
	rc = tg_db_exec(req->ctx->db, "INSERT INTO external_sources (server_id, name,"
	    " description, url, internal, enabled, auth_type, auth_header,"
	    " connect_timeout_ms, timeout_ms, max_response_bytes, failure_threshold,"
	    " cooldown_s, created_by) VALUES ($1::bigint, $2, $3, $4, $5::boolean,"
	    " $6::boolean, $7, $8, $9::integer, $10::integer, $11::integer, $12::integer,"
	    " $13::integer, $14::bigint) RETURNING id", 14, p, &res);
	if (rc != TG_OK) {
		rc = conflict(req, err, rc, si.name);
		goto out;
	}
	if ((rc = tg_parse_i64(PQgetvalue(res, 0, 0), 1, INT64_MAX, &id)) != TG_OK)
		goto out;
	if (json_is_string(si.credential) &&
	    (rc = store_cred(req, id, si.credential, err)) != TG_OK)
		goto out;
	/* the audit detail names the auth type, never the credential */
	detail = json_pack("{s:s, s:I, s:s, s:b, s:s}", "name", si.name, "server_id",
	    (json_int_t)server_id, "url", si.url, "internal", si.internal == 1,
	    "auth_type", auth_type);
	if ((rc = tg_svc_audit(req, "source.create", PQgetvalue(res, 0, 0), "success",
	    detail)) != TG_OK)
		goto out;
	if ((rc = tg_db_commit(req->ctx->db)) != TG_OK)
		goto out;
	rc = get_row(req, id, out, err);
out:
	if (rc != TG_OK)
		tg_db_rollback(req->ctx->db);
	json_decref(detail);
	PQclear(res);
	return tg_err_from(err, rc);
}

int
tg_sources_update(struct tg_req *req, int64_t id, json_t *in, json_t **out,
    struct tg_err *err)
{
	struct src_in si;
	char ids[24], ints[5][24];
	const char *p[16];
	PGresult *row = NULL;
	json_t *detail = NULL;
	const char *auth_type, *url;
	int internal, rc, had_cred;

	if ((rc = tg_svc_need_role(req, TG_ROLE_DEVELOPER, err)) != TG_OK)
		return rc;
	if ((rc = parse_in(req, in, 0, &si, err)) != TG_OK)
		return rc;
	i64s(ids, sizeof(ids), id);
	p[0] = ids;
	if ((rc = tg_db_begin(req->ctx->db)) != TG_OK)
		return tg_err_from(err, rc);
	rc = tg_db_exec(req->ctx->db, "SELECT url, internal, auth_type, auth_header,"
	    " cred_ciphertext IS NOT NULL FROM external_sources WHERE id = $1::bigint"
	    " FOR UPDATE", 1, p, &row);
	if (rc != TG_OK)
		goto out;
	if (PQntuples(row) == 0) {
		rc = no_source(err, id);
		goto out;
	}
	internal = si.internal != -1 ? si.internal : strcmp(PQgetvalue(row, 0, 1), "t") == 0;
	url = si.url ? si.url : PQgetvalue(row, 0, 0);
	auth_type = si.auth_type ? si.auth_type : PQgetvalue(row, 0, 2);
	had_cred = strcmp(PQgetvalue(row, 0, 4), "t") == 0;
	if (si.url && strcmp(PQgetvalue(row, 0, 1), "t") == 0 &&
	    req->who.role != TG_ROLE_ADMIN) {
		rc = tg_err_set(err, TG_E_FORBIDDEN, "only an admin can change the URL of an"
		    " internal source");
		goto out;
	}
	/* security: the credential only an admin can set must not follow a
	 * URL someone else chose: it would be sent there on the next call. */
	if (si.url && had_cred && strcmp(auth_type, "none") != 0 &&
	    strcmp(si.url, PQgetvalue(row, 0, 0)) != 0 && req->who.role != TG_ROLE_ADMIN) {
		rc = tg_err_set(err, TG_E_FORBIDDEN, "only an admin can change the URL of a"
		    " source with a credential (it would be sent to the new URL); or set"
		    " auth_type \"none\" with it");
		goto out;
	}
	if ((rc = check_url(url, internal, err)) != TG_OK)
		goto out;
	if (strcmp(auth_type, "header") == 0 && !json_is_string(si.auth_header) &&
	    (json_is_null(si.auth_header) || PQgetisnull(row, 0, 3))) {
		rc = tg_err_field(err, "auth_header", "required for auth_type \"header\"");
		goto out;
	}
	if (strcmp(auth_type, "none") != 0 && !json_is_string(si.credential) &&
	    (json_is_null(si.credential) || !had_cred)) {
		rc = tg_err_field(err, "credential", "required for auth_type \"%s\"", auth_type);
		goto out;
	}
	i64s(ints[0], 24, si.connect_ms);
	i64s(ints[1], 24, si.timeout_ms);
	i64s(ints[2], 24, si.max_bytes);
	i64s(ints[3], 24, si.threshold);
	i64s(ints[4], 24, si.cooldown);
	p[1] = si.name;
	p[2] = si.description;
	p[3] = si.url;
	p[4] = si.internal == -1 ? NULL : si.internal ? "true" : "false";
	p[5] = si.enabled == -1 ? NULL : si.enabled ? "true" : "false";
	p[6] = si.auth_type;
	p[7] = strcmp(auth_type, "header") == 0 ? (json_is_string(si.auth_header) ?
	    json_string_value(si.auth_header) : "") : NULL;	/* "" keep, NULL clear */
	p[8] = si.connect_ms == -1 ? NULL : ints[0];
	p[9] = si.timeout_ms == -1 ? NULL : ints[1];
	p[10] = si.max_bytes == -1 ? NULL : ints[2];
	p[11] = si.threshold == -1 ? NULL : ints[3];
	p[12] = si.cooldown == -1 ? NULL : ints[4];
	rc = tg_db_exec(req->ctx->db, "UPDATE external_sources SET"
	    " name = coalesce($2, name), description = coalesce($3, description),"
	    " url = coalesce($4, url), internal = coalesce($5::boolean, internal),"
	    " enabled = coalesce($6::boolean, enabled), auth_type = coalesce($7, auth_type),"
	    " auth_header = CASE WHEN $8::text IS NULL THEN NULL WHEN $8 = '' THEN auth_header"
	    " ELSE $8 END,"
	    " connect_timeout_ms = coalesce($9::integer, connect_timeout_ms),"
	    " timeout_ms = coalesce($10::integer, timeout_ms),"
	    " max_response_bytes = coalesce($11::integer, max_response_bytes),"
	    " failure_threshold = coalesce($12::integer, failure_threshold),"
	    " cooldown_s = coalesce($13::integer, cooldown_s),"
	    /* a new URL or new credentials: forget the session and the health */
	    " session_id = CASE WHEN $4::text IS NOT NULL OR $7::text IS NOT NULL"
	    " THEN NULL ELSE session_id END,"
	    " protocol_version = CASE WHEN $4::text IS NOT NULL OR $7::text IS NOT NULL"
	    " THEN NULL ELSE protocol_version END,"
	    " status = CASE WHEN $4::text IS NOT NULL THEN 'unknown' ELSE status END,"
	    " consecutive_failures = CASE WHEN $4::text IS NOT NULL OR $6::boolean"
	    " THEN 0 ELSE consecutive_failures END,"
	    " circuit_open_until = CASE WHEN $4::text IS NOT NULL OR $6::boolean"
	    " THEN NULL ELSE circuit_open_until END,"
	    " updated_at = now() WHERE id = $1::bigint", 13, p, NULL);
	if (rc != TG_OK) {
		rc = conflict(req, err, rc, si.name);
		goto out;
	}
	if (si.credential != NULL || strcmp(auth_type, "none") == 0) {
		if ((rc = store_cred(req, id, strcmp(auth_type, "none") == 0 ? json_null() :
		    si.credential, err)) != TG_OK)
			goto out;
		if (json_is_string(si.credential) && (rc = tg_db_exec(req->ctx->db,
		    "UPDATE external_sources SET session_id = NULL, protocol_version = NULL"
		    " WHERE id = $1::bigint", 1, p, NULL)) != TG_OK)
			goto out;
	}
	detail = json_pack("{s:b, s:b, s:b}", "url_changed", si.url != NULL,
	    "credential_changed", si.credential != NULL, "internal", internal);
	if ((rc = tg_svc_audit(req, "source.update", ids, "success", detail)) != TG_OK)
		goto out;
	if ((rc = tg_db_commit(req->ctx->db)) != TG_OK)
		goto out;
	rc = get_row(req, id, out, err);
out:
	if (rc != TG_OK)
		tg_db_rollback(req->ctx->db);
	json_decref(detail);
	PQclear(row);
	return tg_err_from(err, rc);
}

int
tg_sources_delete(struct tg_req *req, int64_t id, struct tg_err *err)
{
	char ids[24], missing[64];
	const char *p[1];
	int rc;

	if ((rc = tg_svc_need_role(req, TG_ROLE_DEVELOPER, err)) != TG_OK)
		return rc;
	i64s(ids, sizeof(ids), id);
	p[0] = ids;
	snprintf(missing, sizeof(missing), "no source with id %lld", (long long)id);
	return tg_svc_exec_audited(req, "DELETE FROM external_sources WHERE id = $1::bigint"
	    " RETURNING name", 1, p, "source.delete", ids, missing, err);
}

/* ------------------------------------------------------ remote exchanges */

static void
copy_val(char *dst, size_t cap, const PGresult *r, int col)
{
	snprintf(dst, cap, "%s", PQgetisnull(r, 0, col) ? "" : PQgetvalue(r, 0, col));
}

static void
src_wipe(struct src *s)
{
	tg_crypto_wipe(s->auth_value, sizeof(s->auth_value));
}

/* Decrypts the credential (bytea hex columns 8, 9) into s->auth_value. */
static int
open_cred(const struct tg_config *cfg, const PGresult *r, struct src *s)
{
	unsigned char nonce[TG_SECRETBOX_NONCE], ct[TG_SOURCE_CRED_MAX + TG_SECRETBOX_TAG],
	    pt[TG_SOURCE_CRED_MAX + TG_SECRETBOX_TAG];
	const char *nh = PQgetvalue(r, 0, 8), *ch = PQgetvalue(r, 0, 9);
	size_t nlen = strlen(nh), clen = strlen(ch), ptlen = 0, i;
	char aad[64];
	int rc = -TG_E_INTERNAL, prefix;

	if (nlen != 2 + 2 * TG_SECRETBOX_NONCE || clen < 2 || (clen - 2) / 2 > sizeof(ct) ||
	    strncmp(nh, "\\x", 2) != 0 || strncmp(ch, "\\x", 2) != 0)
		goto out;
	for (i = 0; i < TG_SECRETBOX_NONCE; i++)
		if (sscanf(nh + 2 + 2 * i, "%2hhx", &nonce[i]) != 1)
			goto out;
	for (i = 0; i < (clen - 2) / 2; i++)
		if (sscanf(ch + 2 + 2 * i, "%2hhx", &ct[i]) != 1)
			goto out;
	if (cred_aad(aad, sizeof(aad), s->id) != TG_OK)
		goto out;
	rc = -TG_E_UNAUTH;
	if (cfg->have_enc_key)
		rc = tg_secretbox_open(cfg->enc_key, aad, nonce, ct, (clen - 2) / 2, pt, &ptlen);
	if (rc != TG_OK && cfg->have_enc_key_old)
		rc = tg_secretbox_open(cfg->enc_key_old, aad, nonce, ct, (clen - 2) / 2, pt,
		    &ptlen);
	if (rc != TG_OK)
		goto out;
	prefix = strcmp(PQgetvalue(r, 0, 6), "bearer") == 0;
	if (ptlen + 8 >= sizeof(s->auth_value)) {
		rc = -TG_E_INTERNAL;
		goto out;
	}
	if (prefix) {
		memcpy(s->auth_value, "Bearer ", 7);
		memcpy(s->auth_value + 7, pt, ptlen);
		s->auth_value[7 + ptlen] = '\0';
		snprintf(s->auth_name, sizeof(s->auth_name), "Authorization");
	} else {
		memcpy(s->auth_value, pt, ptlen);
		s->auth_value[ptlen] = '\0';
		copy_val(s->auth_name, sizeof(s->auth_name), r, 7);
	}
	rc = TG_OK;
out:
	tg_crypto_wipe(pt, sizeof(pt));
	if (rc != TG_OK)
		tg_log(TG_LOG_ERR, "sources.cred_open_failed", "source=%lld", (long long)s->id);
	return rc;
}

static int
load_src(struct tg_req *req, const char *where, const char *param, struct src *s,
    char *remote, size_t rcap, struct tg_err *err)
{
	char sql[1024];
	const char *p[1] = {param};
	PGresult *r = NULL;
	int rc, n;

	memset(s, 0, sizeof(*s));
	n = snprintf(sql, sizeof(sql), "SELECT " SRC_COLS ", %s FROM external_sources e"
	    " %s", remote ? "t.remote_name" : "''", where);
	if (n < 0 || (size_t)n >= sizeof(sql))
		return tg_err_from(err, -TG_E_INTERNAL);
	if ((rc = tg_db_exec(req->ctx->db, sql, 1, p, &r)) != TG_OK)
		return tg_err_from(err, rc);
	if (PQntuples(r) == 0) {
		rc = tg_err_set(err, TG_E_NOTFOUND, "no source %s", param);
		goto out;
	}
	if ((rc = tg_parse_i64(PQgetvalue(r, 0, 0), 1, INT64_MAX, &s->id)) != TG_OK ||
	    (rc = tg_parse_i64(PQgetvalue(r, 0, 1), 1, INT64_MAX, &s->server_id)) != TG_OK)
		goto out;
	copy_val(s->name, sizeof(s->name), r, 2);
	copy_val(s->url, sizeof(s->url), r, 3);
	s->internal = strcmp(PQgetvalue(r, 0, 4), "t") == 0;
	s->enabled = strcmp(PQgetvalue(r, 0, 5), "t") == 0;
	s->connect_ms = strtol(PQgetvalue(r, 0, 10), NULL, 10);
	s->timeout_ms = strtol(PQgetvalue(r, 0, 11), NULL, 10);
	s->max_bytes = (size_t)strtol(PQgetvalue(r, 0, 12), NULL, 10);
	copy_val(s->session, sizeof(s->session), r, 13);
	copy_val(s->version, sizeof(s->version), r, 14);
	copy_val(s->status, sizeof(s->status), r, 15);
	s->failures = strtol(PQgetvalue(r, 0, 16), NULL, 10);
	s->circuit_open = strcmp(PQgetvalue(r, 0, 17), "t") == 0;
	copy_val(s->open_until, sizeof(s->open_until), r, 18);
	copy_val(s->last_error, sizeof(s->last_error), r, 19);
	if (remote)
		copy_val(remote, rcap, r, 20);
	if (strcmp(PQgetvalue(r, 0, 6), "none") != 0 && !PQgetisnull(r, 0, 9) &&
	    (rc = open_cred(req->ctx->cfg, r, s)) != TG_OK) {
		rc = tg_err_set(err, TG_E_INTERNAL, "the source's credential cannot be"
		    " decrypted (was the encryption key changed?)");
		goto out;
	}
out:
	PQclear(r);
	return rc;
}

static void
client_for(struct tg_mcp_client *c, struct src *s)
{
	tg_mcp_client_init(c);
	c->url = s->url;
	c->internal = s->internal;
	c->auth_name = s->auth_value[0] ? s->auth_name : NULL;
	c->auth_value = s->auth_value[0] ? s->auth_value : NULL;
	c->connect_timeout_ms = s->connect_ms;
	c->timeout_ms = s->timeout_ms;
	c->max_bytes = s->max_bytes;
	snprintf(c->session_id, sizeof(c->session_id), "%s", s->session);
	snprintf(c->version, sizeof(c->version), "%s", s->version);
	tg_mcp_client_begin(c);
}

/* A transport failure that counts for the circuit breaker. */
static int
counts(int failure)
{
	return failure == -TG_E_TIMEOUT || failure == -TG_E_UNAVAIL ||
	    failure == -TG_E_TOOLARGE || failure == -TG_E_BADREQ ||
	    failure == -TG_E_FORBIDDEN;
}

/*
 * Writes back the session (when it changed) and the outcome: ok (the
 * source answered, even with a JSON-RPC error) or a counted failure.
 * latency_ms >= 0 marks a health check. Skips the write when nothing
 * changed (the common successful call).
 */
static void
record(struct tg_req *req, struct src *s, struct tg_mcp_client *c, int ok,
    long latency_ms)
{
	char ids[24], lat[24], *info = NULL;
	const char *p[7];

	if (ok && !c->session_changed && latency_ms < 0 && s->failures == 0 &&
	    strcmp(s->status, "healthy") == 0)
		return;
	i64s(ids, sizeof(ids), s->id);
	snprintf(lat, sizeof(lat), "%ld", latency_ms);
	if (c->server_info)
		info = json_dumps(c->server_info, JSON_COMPACT);
	p[0] = ids;
	p[1] = c->session_changed ? "t" : "f";
	p[2] = c->session_id[0] ? c->session_id : NULL;
	p[3] = c->version[0] ? c->version : NULL;
	p[4] = info;
	p[5] = latency_ms >= 0 ? lat : NULL;
	p[6] = ok ? NULL : c->error;
	if (tg_db_exec(req->ctx->db, "UPDATE external_sources SET"
	    " session_id = CASE WHEN $2::boolean THEN $3 ELSE session_id END,"
	    " protocol_version = CASE WHEN $2::boolean THEN $4 ELSE protocol_version END,"
	    " session_at = CASE WHEN $2::boolean THEN now() ELSE session_at END,"
	    " server_info = coalesce($5::jsonb, server_info),"
	    " last_health_at = CASE WHEN $6::integer IS NULL THEN last_health_at ELSE now() END,"
	    " last_latency_ms = coalesce($6::integer, last_latency_ms),"
	    " last_error = coalesce(left($7, 1000), last_error),"
	    " last_error_at = CASE WHEN $7::text IS NULL THEN last_error_at ELSE now() END,"
	    " consecutive_failures = CASE WHEN $7::text IS NULL THEN 0"
	    " ELSE consecutive_failures + 1 END,"
	    " status = CASE WHEN $7::text IS NULL THEN 'healthy'"
	    " WHEN consecutive_failures + 1 >= failure_threshold THEN 'unhealthy' ELSE status END,"
	    " circuit_open_until = CASE WHEN $7::text IS NULL THEN NULL"
	    " WHEN consecutive_failures + 1 >= failure_threshold"
	    " THEN now() + cooldown_s * interval '1 second' ELSE circuit_open_until END"
	    " WHERE id = $1::bigint", 7, p, NULL) != TG_OK)
		tg_log(TG_LOG_WARN, "sources.record_failed", "source=%lld", (long long)s->id);
	if (!ok)
		tg_log(TG_LOG_WARN, "sources.failure", "source=%lld failures=%ld msg=%s",
		    (long long)s->id, s->failures + 1, tg_log_q(c->error));
	free(info);
}

static int
remote_failed(struct tg_err *err, struct src *s, struct tg_mcp_client *c)
{
	return tg_err_set(err, c->failure == -TG_E_TIMEOUT ? TG_E_TIMEOUT : TG_E_UNAVAIL,
	    "source '%s': %s", s->name, c->error);
}

/* Hash of what the model reads: description, input schema, annotations. */
static int
remote_hash(const json_t *tool, char hex[TG_SHA256_HEX_LEN + 1])
{
	json_t *o;
	char *txt;
	int rc;

	o = json_pack("{s:O?, s:O?, s:O?}", "d", json_object_get(tool, "description"),
	    "s", json_object_get(tool, "inputSchema"), "a",
	    json_object_get(tool, "annotations"));
	if (o == NULL)
		return -TG_E_NOMEM;
	txt = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (txt == NULL)
		return -TG_E_NOMEM;
	rc = tg_crypto_sha256_hex(txt, strlen(txt), hex);
	free(txt);
	return rc;
}

/* Fetches the remote tool list of source id (recording the outcome). */
static int
fetch_tools(struct tg_req *req, int64_t id, struct src *s, json_t **tools,
    json_t **info, char *version, size_t vcap, struct tg_err *err)
{
	struct tg_mcp_client c;
	char ids[24];
	int rc;

	i64s(ids, sizeof(ids), id);
	if ((rc = load_src(req, "WHERE e.id = $1::bigint", ids, s, NULL, 0, err)) != TG_OK)
		return rc == -TG_E_NOTFOUND ? no_source(err, id) : rc;
	client_for(&c, s);
	rc = tg_mcp_client_list_tools(&c, tools);
	record(req, s, &c, rc == TG_OK || !counts(rc), -1);
	if (rc != TG_OK) {
		rc = remote_failed(err, s, &c);
	} else {
		snprintf(version, vcap, "%s", c.version);
		*info = c.server_info ? json_incref(c.server_info) : NULL;
	}
	tg_mcp_client_cleanup(&c);
	src_wipe(s);
	return rc;
}

static char *
dumps_or_null(const json_t *v)
{
	if (v == NULL || json_is_null(v))
		return NULL;
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* A remote change of an imported tool: new version, back to review. */
static int
apply_change(struct tg_req *req, const char *tool_id, const json_t *rt,
    const char *hash, struct tg_err *err)
{
	const json_t *d = json_object_get(rt, "description");
	char *schema = dumps_or_null(json_object_get(rt, "inputSchema"));
	char *annot = json_is_object(json_object_get(rt, "annotations")) ?
	    dumps_or_null(json_object_get(rt, "annotations")) : NULL;
	char actor[24];
	const char *p[6];
	json_t *detail = NULL;
	int rc;

	p[0] = tool_id;
	p[1] = json_is_string(d) ? json_string_value(d) : "";
	p[2] = schema ? schema : "{\"type\":\"object\"}";
	p[3] = annot;
	p[4] = hash;
	p[5] = tg_svc_actor(req, actor, sizeof(actor));
	if ((rc = tg_db_begin(req->ctx->db)) != TG_OK)
		goto out;
	rc = tg_db_exec(req->ctx->db, "UPDATE tools SET description = $2,"
	    " input_schema = $3::json, annotations = $4::json, remote_hash = $5,"
	    " current_version = current_version + 1, updated_by = $6::bigint,"
	    " status = CASE status WHEN 'approved' THEN 'pending_review'"
	    " WHEN 'rejected' THEN 'draft' ELSE status END,"
	    " review_reason = CASE WHEN status = 'approved'"
	    " THEN 'the remote tool changed' ELSE review_reason END, updated_at = now()"
	    " WHERE id = $1::bigint AND kind = 'external'", 6, p, NULL);
	if (rc != TG_OK)
		goto out;
	p[1] = "remote description/schema changed (discover)";
	p[2] = p[5];
	if ((rc = tg_db_exec(req->ctx->db, "INSERT INTO tool_versions (tool_id, version,"
	    " code, description, input_schema, schema_source, annotations, change_summary,"
	    " author_id) SELECT id, current_version, code, description, input_schema,"
	    " schema_source, annotations, $2, $3::bigint FROM tools WHERE id = $1::bigint",
	    3, p, NULL)) != TG_OK)
		goto out;
	detail = json_pack("{s:s}", "reason", "remote tool changed");
	if ((rc = tg_svc_audit(req, "tool.remote_changed", tool_id, "success", detail)) != TG_OK)
		goto out;
	rc = tg_db_commit(req->ctx->db);
out:
	if (rc != TG_OK)
		tg_db_rollback(req->ctx->db);
	json_decref(detail);
	free(schema);
	free(annot);
	return tg_err_from(err, rc);
}

int
tg_sources_discover(struct tg_req *req, int64_t id, json_t **out, struct tg_err *err)
{
	struct src s;
	json_t *tools = NULL, *info = NULL, *list = NULL, *missing = NULL, *rt, *item;
	PGresult *imp = NULL;
	char ids[24], version[32] = "", hash[TG_SHA256_HEX_LEN + 1];
	const char *p[1];
	size_t i;
	int rc, row, *seen = NULL;

	if ((rc = tg_svc_need_role(req, TG_ROLE_DEVELOPER, err)) != TG_OK)
		return rc;
	if ((rc = fetch_tools(req, id, &s, &tools, &info, version, sizeof(version), err)) != TG_OK)
		return rc;
	i64s(ids, sizeof(ids), id);
	p[0] = ids;
	if ((rc = tg_db_exec(req->ctx->db, "SELECT id, name, remote_name,"
	    " coalesce(remote_hash, ''), status FROM tools WHERE source_id = $1::bigint"
	    " ORDER BY id", 1, p, &imp)) != TG_OK)
		goto out;
	if ((seen = calloc((size_t)PQntuples(imp) + 1, sizeof(*seen))) == NULL ||
	    (list = json_array()) == NULL || (missing = json_array()) == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	json_array_foreach(tools, i, rt) {
		const char *name = json_string_value(json_object_get(rt, "name"));
		const json_t *schema = json_object_get(rt, "inputSchema");

		item = json_pack("{s:s, s:O?, s:O?, s:O, s:O?, s:b}", "name", name,
		    "title", json_object_get(rt, "title"),
		    "description", json_object_get(rt, "description"),
		    "input_schema", schema ? schema : json_null(),
		    "annotations", json_object_get(rt, "annotations"), "imported", 0);
		if (item == NULL || json_array_append_new(list, item) != 0) {
			rc = -TG_E_NOMEM;
			goto out;
		}
		for (row = 0; row < PQntuples(imp); row++) {
			int changed;
			int64_t tid;

			if (strcmp(PQgetvalue(imp, row, 2), name) != 0)
				continue;
			seen[row] = 1;
			if ((rc = remote_hash(rt, hash)) != TG_OK)
				goto out;
			changed = strcmp(hash, PQgetvalue(imp, row, 3)) != 0;
			if (changed && (rc = apply_change(req, PQgetvalue(imp, row, 0), rt, hash,
			    err)) != TG_OK)
				goto out;
			if ((rc = tg_parse_i64(PQgetvalue(imp, row, 0), 1, INT64_MAX, &tid)) != TG_OK)
				goto out;
			if (json_object_set_new(item, "imported", json_true()) ||
			    json_object_set_new(item, "tool_id", json_integer(tid)) ||
			    json_object_set_new(item, "local_name",
			    json_string(PQgetvalue(imp, row, 1))) ||
			    json_object_set_new(item, "status", json_string(changed &&
			    strcmp(PQgetvalue(imp, row, 4), "approved") == 0 ? "pending_review" :
			    changed && strcmp(PQgetvalue(imp, row, 4), "rejected") == 0 ? "draft" :
			    PQgetvalue(imp, row, 4))) ||
			    json_object_set_new(item, "changed", json_boolean(changed))) {
				rc = -TG_E_NOMEM;
				goto out;
			}
		}
	}
	for (row = 0; row < PQntuples(imp); row++) {
		if (seen[row])
			continue;
		item = json_pack("{s:s, s:s, s:s}", "tool_id", PQgetvalue(imp, row, 0),
		    "local_name", PQgetvalue(imp, row, 1), "remote_name", PQgetvalue(imp, row, 2));
		if (item == NULL || json_array_append_new(missing, item) != 0) {
			rc = -TG_E_NOMEM;
			goto out;
		}
	}
	*out = json_pack("{s:I, s:s, s:o, s:o, s:o}", "source_id", (json_int_t)id,
	    "protocol_version", version, "server_info", info ? info : json_null(),
	    "tools", list, "missing", missing);
	info = list = missing = NULL;
	rc = *out ? TG_OK : -TG_E_NOMEM;
out:
	free(seen);
	PQclear(imp);
	json_decref(tools);
	json_decref(info);
	json_decref(list);
	json_decref(missing);
	return tg_err_from(err, rc);
}

static const json_t *
find_remote(const json_t *tools, const char *name)
{
	const json_t *t;
	size_t i;

	json_array_foreach(tools, i, t)
		if (strcmp(json_string_value(json_object_get(t, "name")), name) == 0)
			return t;
	return NULL;
}

int
tg_sources_import(struct tg_req *req, int64_t id, json_t *in, json_t **out,
    struct tg_err *err)
{
	struct src s;
	json_t *tools = NULL, *info = NULL, *want, *w, *done = NULL, *already = NULL,
	    *ids_new = NULL, *one = NULL, *detail = NULL;
	PGresult *srv = NULL, *res = NULL;
	char version[32] = "", field[48], sid[24], srcid[24], actor[24],
	    hash[TG_SHA256_HEX_LEN + 1], *schema = NULL, *annot = NULL;
	const char *p[10];
	json_error_t je;
	size_t i;
	int rc;

	if ((rc = tg_svc_need_role(req, TG_ROLE_DEVELOPER, err)) != TG_OK)
		return rc;
	if ((rc = tg_svc_check_object(in, "tools:a!", err)) != TG_OK)
		return rc;
	if (json_unpack_ex(in, &je, 0, "{s:o !}", "tools", &want) != 0)
		return tg_err_field(err, "body", "%s", je.text);
	if (json_array_size(want) == 0 || json_array_size(want) > 500)
		return tg_err_field(err, "tools", "1 to 500 tool names");
	json_array_foreach(want, i, w) {
		const char *rn = NULL, *ln = NULL;

		snprintf(field, sizeof(field), "tools[%zu]", i);
		if (json_is_string(w))
			rn = json_string_value(w);
		else if (json_is_object(w) && json_unpack_ex(w, &je, 0, "{s:s, s?s !}", "name",
		    &rn, "local_name", &ln) == 0)
			;
		else
			return tg_err_field(err, field, "a remote tool name, or {\"name\","
			    " \"local_name\"?}");
		if (!tg_svc_valid_tool_name(ln ? ln : rn))
			tg_err_field(err, field, "'%s' is not a valid tool name here; give a"
			    " local_name ([A-Za-z0-9_][A-Za-z0-9_.-]{0,63})", ln ? ln : rn);
	}
	if (err->status)
		return -err->status;
	if ((rc = fetch_tools(req, id, &s, &tools, &info, version, sizeof(version), err)) != TG_OK)
		return rc;
	json_array_foreach(want, i, w) {
		const char *rn = json_is_string(w) ? json_string_value(w) :
		    json_string_value(json_object_get(w, "name"));

		snprintf(field, sizeof(field), "tools[%zu]", i);
		if (find_remote(tools, rn) == NULL)
			tg_err_field(err, field, "the source offers no tool named '%s'", rn);
	}
	if (err->status) {
		rc = -err->status;
		goto out;
	}
	if ((done = json_array()) == NULL || (already = json_array()) == NULL ||
	    (ids_new = json_array()) == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	i64s(sid, sizeof(sid), s.server_id);
	i64s(srcid, sizeof(srcid), s.id);
	if ((rc = tg_db_begin(req->ctx->db)) != TG_OK)
		goto out;
	p[0] = sid;
	if ((rc = tg_db_exec(req->ctx->db, "SELECT status FROM servers WHERE id = $1::bigint"
	    " FOR SHARE", 1, p, &srv)) != TG_OK)
		goto out;
	if (PQntuples(srv) == 0) {
		rc = tg_err_set(err, TG_E_NOTFOUND, "the source's server is gone");
		goto out;
	}
	json_array_foreach(want, i, w) {
		const char *rn = json_is_string(w) ? json_string_value(w) :
		    json_string_value(json_object_get(w, "name"));
		const char *ln = json_is_object(w) && json_is_string(json_object_get(w,
		    "local_name")) ? json_string_value(json_object_get(w, "local_name")) : rn;
		const json_t *rt = find_remote(tools, rn), *d;
		int64_t tid;

		p[0] = srcid;
		p[1] = rn;
		PQclear(res);
		res = NULL;
		if ((rc = tg_db_exec(req->ctx->db, "SELECT id FROM tools WHERE source_id ="
		    " $1::bigint AND remote_name = $2", 2, p, &res)) != TG_OK)
			goto out;
		if (PQntuples(res) > 0) {
			one = json_pack("{s:s, s:s}", "remote_name", rn, "tool_id",
			    PQgetvalue(res, 0, 0));
			if (one == NULL || json_array_append_new(already, one) != 0) {
				one = NULL;
				rc = -TG_E_NOMEM;
				goto out;
			}
			one = NULL;
			continue;
		}
		if (strcmp(PQgetvalue(srv, 0, 0), "running") == 0 &&
		    (rc = tg_servers_check_clash(req, s.server_id, NULL, ln, err)) != TG_OK)
			goto out;
		if ((rc = remote_hash(rt, hash)) != TG_OK)
			goto out;
		free(schema);
		free(annot);
		schema = dumps_or_null(json_object_get(rt, "inputSchema"));
		annot = json_is_object(json_object_get(rt, "annotations")) ?
		    dumps_or_null(json_object_get(rt, "annotations")) : NULL;
		d = json_object_get(rt, "description");
		p[0] = sid;
		p[1] = ln;
		p[2] = json_is_string(d) ? json_string_value(d) : "";
		p[3] = schema ? schema : "{\"type\":\"object\"}";
		p[4] = annot;
		p[5] = tg_svc_actor(req, actor, sizeof(actor));
		p[6] = srcid;
		p[7] = rn;
		p[8] = hash;
		PQclear(res);
		res = NULL;
		rc = tg_db_exec(req->ctx->db, "INSERT INTO tools (server_id, name, description,"
		    " code, input_schema, schema_source, annotations, status, created_by,"
		    " updated_by, kind, source_id, remote_name, remote_hash)"
		    " VALUES ($1::bigint, $2, $3, '', $4::json, 'explicit', $5::json,"
		    " 'pending_review', $6::bigint, $6::bigint, 'external', $7::bigint, $8, $9)"
		    " RETURNING id", 9, p, &res);
		if (rc == -TG_E_CONFLICT) {
			rc = tg_err_set(err, TG_E_CONFLICT, "the server already has a tool named"
			    " '%s'; import it under another local_name", ln);
			goto out;
		}
		if (rc != TG_OK)
			goto out;
		if ((rc = tg_parse_i64(PQgetvalue(res, 0, 0), 1, INT64_MAX, &tid)) != TG_OK)
			goto out;
		p[0] = PQgetvalue(res, 0, 0);
		p[1] = "imported from an external source";
		p[2] = p[5];
		if ((rc = tg_db_exec(req->ctx->db, "INSERT INTO tool_versions (tool_id, version,"
		    " code, description, input_schema, schema_source, annotations,"
		    " change_summary, author_id) SELECT id, current_version, code, description,"
		    " input_schema, schema_source, annotations, $2, $3::bigint FROM tools"
		    " WHERE id = $1::bigint", 3, p, NULL)) != TG_OK)
			goto out;
		if (json_array_append_new(ids_new, json_integer(tid)) != 0) {
			rc = -TG_E_NOMEM;
			goto out;
		}
		detail = json_pack("{s:s, s:s, s:I}", "remote_name", rn, "name", ln,
		    "source_id", (json_int_t)s.id);
		if ((rc = tg_svc_audit(req, "tool.import", PQgetvalue(res, 0, 0), "success",
		    detail)) != TG_OK)
			goto out;
		json_decref(detail);
		detail = NULL;
	}
	if ((rc = tg_db_commit(req->ctx->db)) != TG_OK)
		goto out;
	json_array_foreach(ids_new, i, w) {
		if ((rc = tg_tools_get(req, json_integer_value(w), &one, err)) != TG_OK)
			goto out;
		if (json_array_append_new(done, one) != 0) {
			one = NULL;
			rc = -TG_E_NOMEM;
			goto out;
		}
		one = NULL;
	}
	*out = json_pack("{s:I, s:o, s:o}", "source_id", (json_int_t)id, "imported", done,
	    "already_imported", already);
	done = already = NULL;
	rc = *out ? TG_OK : -TG_E_NOMEM;
out:
	if (rc != TG_OK)
		tg_db_rollback(req->ctx->db);
	free(schema);
	free(annot);
	PQclear(srv);
	PQclear(res);
	json_decref(tools);
	json_decref(info);
	json_decref(done);
	json_decref(already);
	json_decref(ids_new);
	json_decref(one);
	json_decref(detail);
	return tg_err_from(err, rc);
}

int
tg_sources_health(struct tg_req *req, int64_t id, json_t **out, struct tg_err *err)
{
	struct tg_mcp_client c;
	struct src s;
	json_t *row = NULL;
	char ids[24];
	int64_t t0;
	long latency;
	int rc, ok;

	if ((rc = tg_svc_need_role(req, TG_ROLE_VIEWER, err)) != TG_OK)
		return rc;
	i64s(ids, sizeof(ids), id);
	if ((rc = load_src(req, "WHERE e.id = $1::bigint", ids, &s, NULL, 0, err)) != TG_OK)
		return rc == -TG_E_NOTFOUND ? no_source(err, id) : rc;
	client_for(&c, &s);
	t0 = tg_now_us();
	rc = tg_mcp_client_initialize(&c);
	if (rc == TG_OK)
		rc = tg_mcp_client_ping(&c);
	latency = (long)((tg_now_us() - t0) / 1000);
	ok = rc == TG_OK;
	record(req, &s, &c, ok || !counts(rc), latency);
	src_wipe(&s);
	if ((rc = get_row(req, id, &row, err)) != TG_OK)
		goto out;
	*out = json_pack("{s:I, s:b, s:O, s:i, s:s?, s:O?, s:s?, s:O, s:O}", "source_id",
	    (json_int_t)id, "ok", ok, "status", json_object_get(row, "status"),
	    "latency_ms", (int)latency, "protocol_version", ok ? c.version : NULL,
	    "server_info", ok ? c.server_info : NULL, "error", ok ? NULL : c.error,
	    "consecutive_failures", json_object_get(row, "consecutive_failures"),
	    "circuit_open_until", json_object_get(row, "circuit_open_until"));
	rc = *out ? TG_OK : -TG_E_NOMEM;
out:
	tg_mcp_client_cleanup(&c);
	json_decref(row);
	return tg_err_from(err, rc);
}

/* ------------------------------------------------------------ passthrough */

int
tg_sources_is_external(const json_t *t)
{
	const json_t *k = json_object_get(t, "kind");

	return json_is_string(k) && strcmp(json_string_value(k), "external") == 0;
}

static json_t *
error_result(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *
error_result(const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text", msg,
	    "isError", 1);
}

int
tg_sources_call(struct tg_req *req, int64_t tool_id, json_t *arguments,
    json_t **result, const char **status, char *error, size_t cap)
{
	struct tg_mcp_client c;
	struct tg_err err;
	struct src s;
	json_t *params = NULL, *res = NULL;
	char tid[24], remote[260];
	int rc;

	tg_err_init(&err);
	tg_mcp_client_init(&c);
	memset(&s, 0, sizeof(s));
	*status = "error";
	error[0] = '\0';
	i64s(tid, sizeof(tid), tool_id);
	rc = load_src(req, "JOIN tools t ON t.source_id = e.id WHERE t.id = $1::bigint"
	    " AND t.kind = 'external'", tid, &s, remote, sizeof(remote), &err);
	if (rc == -TG_E_NOTFOUND || rc == -TG_E_NOMEM || rc == -TG_E_DB)
		goto out;
	if (rc != TG_OK) {
		snprintf(error, cap, "%s", err.detail);
		*status = "unavailable";
		*result = error_result("The external source is unavailable: %s", err.detail);
		rc = *result ? TG_OK : -TG_E_NOMEM;
		goto out;
	}
	if (!s.enabled) {
		snprintf(error, cap, "source '%s' is disabled", s.name);
		*status = "unavailable";
		*result = error_result("The external source '%s' is disabled by an"
		    " administrator.", s.name);
		rc = *result ? TG_OK : -TG_E_NOMEM;
		goto out;
	}
	if (s.circuit_open) {
		snprintf(error, cap, "source '%s' is unhealthy (circuit open until %s)",
		    s.name, s.open_until);
		*status = "unavailable";
		*result = error_result("The external source '%s' is unhealthy after %ld"
		    " consecutive failures (last error: %s); calls are refused until %s.",
		    s.name, s.failures, s.last_error[0] ? s.last_error : "unknown", s.open_until);
		rc = *result ? TG_OK : -TG_E_NOMEM;
		goto out;
	}
	params = json_pack("{s:s, s:o}", "name", remote, "arguments",
	    arguments ? json_incref(arguments) : json_object());
	if (params == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	client_for(&c, &s);
	rc = tg_mcp_client_request(&c, "tools/call", params, &res);
	if (rc == TG_OK && !json_is_array(json_object_get(res, "content"))) {
		rc = c.failure = -TG_E_BADREQ;
		snprintf(c.error, sizeof(c.error), "the source's tools/call result has no"
		    " content array");
	}
	record(req, &s, &c, rc == TG_OK || !counts(rc), -1);
	if (rc == TG_OK) {
		*status = json_is_true(json_object_get(res, "isError")) ? "error" : "ok";
		*result = res;
		res = NULL;
		goto out;
	}
	snprintf(error, cap, "%s", c.error);
	if (rc == -TG_E_UNPROCESSABLE) {
		*result = error_result("The external source rejected the call: %s", c.error);
	} else {
		*status = rc == -TG_E_TIMEOUT ? "timeout" : "unavailable";
		*result = error_result("The external source '%s' failed: %s", s.name, c.error);
	}
	rc = *result ? TG_OK : -TG_E_NOMEM;
out:
	tg_mcp_client_cleanup(&c);
	src_wipe(&s);
	tg_err_clear(&err);
	json_decref(params);
	json_decref(res);
	return rc;
}

/* ------------------------------------------------- key rotation (CLI) */

#define CRED_ROWS \
	"SELECT id, encode(cred_nonce, 'hex'), encode(cred_ciphertext, 'hex')" \
	" FROM external_sources WHERE cred_ciphertext IS NOT NULL"

/* Opens the credential of row i of CRED_ROWS with key into pt (at least
 * TG_SOURCE_CRED_MAX bytes); *id gets the source id. */
static int
cred_open_row(const PGresult *res, int i, const unsigned char *key,
    unsigned char *pt, size_t *ptlen, int64_t *id)
{
	unsigned char nonce[TG_SECRETBOX_NONCE], ct[TG_SOURCE_CRED_MAX + TG_SECRETBOX_TAG];
	const char *ch = PQgetvalue(res, i, 2);
	size_t ctlen = strlen(ch) / 2;
	char aad[64];
	int rc;

	if (tg_parse_i64(PQgetvalue(res, i, 0), 1, INT64_MAX, id) != TG_OK ||
	    cred_aad(aad, sizeof(aad), *id) != TG_OK ||
	    tg_parse_hex(PQgetvalue(res, i, 1), nonce, sizeof(nonce)) != TG_OK ||
	    ctlen < TG_SECRETBOX_TAG || ctlen > sizeof(ct) ||
	    tg_parse_hex(ch, ct, ctlen) != TG_OK)
		return -TG_E_INTERNAL;
	rc = tg_secretbox_open(key, aad, nonce, ct, ctlen, pt, ptlen);
	tg_crypto_wipe(ct, sizeof(ct));
	return rc;
}

int
tg_sources_cred_rotate(struct tg_db *db, const unsigned char *old_key,
    const unsigned char *new_key, long *count)
{
	PGresult *res = NULL;
	unsigned char pt[TG_SOURCE_CRED_MAX], nonce[TG_SECRETBOX_NONCE],
	    ct[TG_SOURCE_CRED_MAX + TG_SECRETBOX_TAG];
	char nonce_hex[2 * TG_SECRETBOX_NONCE + 3],
	    ct_hex[2 * (TG_SOURCE_CRED_MAX + TG_SECRETBOX_TAG) + 3], aad[64];
	const char *p[3];
	size_t ptlen = 0;
	int64_t id;
	long n = 0;
	int i, rc;

	if ((rc = tg_db_exec(db, CRED_ROWS " ORDER BY id FOR UPDATE", 0, NULL, &res)) != TG_OK)
		goto out;
	for (i = 0; i < PQntuples(res); i++) {
		if ((rc = cred_open_row(res, i, old_key, pt, &ptlen, &id)) != TG_OK) {
			fprintf(stderr, "toolgate: the credential of source %s does not open"
			    " with the old key\n", PQgetvalue(res, i, 0));
			goto out;
		}
		memcpy(nonce_hex, "\\x", 2);
		memcpy(ct_hex, "\\x", 2);
		if ((rc = cred_aad(aad, sizeof(aad), id)) != TG_OK ||
		    (rc = tg_secretbox_seal(new_key, aad, pt, ptlen, nonce, ct)) != TG_OK ||
		    (rc = tg_crypto_hex(nonce, sizeof(nonce), nonce_hex + 2,
		    sizeof(nonce_hex) - 2)) != TG_OK ||
		    (rc = tg_crypto_hex(ct, ptlen + TG_SECRETBOX_TAG, ct_hex + 2,
		    sizeof(ct_hex) - 2)) != TG_OK)
			goto out;
		p[0] = PQgetvalue(res, i, 0);
		p[1] = nonce_hex;
		p[2] = ct_hex;
		if ((rc = tg_db_exec(db, "UPDATE external_sources SET cred_nonce = $2::bytea,"
		    " cred_ciphertext = $3::bytea,"
		    " cred_key_version = coalesce(cred_key_version, 1) + 1"
		    " WHERE id = $1::bigint", 3, p, NULL)) != TG_OK)
			goto out;
		tg_crypto_wipe(pt, sizeof(pt));
		n++;
	}
	*count = n;
out:
	tg_crypto_wipe(pt, sizeof(pt));
	PQclear(res);
	return rc;
}

int
tg_sources_cred_verify(struct tg_db *db, const unsigned char *key, long *ok,
    long *bad)
{
	PGresult *res = NULL;
	unsigned char pt[TG_SOURCE_CRED_MAX];
	size_t ptlen = 0;
	int64_t id;
	int i, rc;

	*ok = *bad = 0;
	if ((rc = tg_db_exec(db, CRED_ROWS " ORDER BY id", 0, NULL, &res)) != TG_OK)
		return rc;
	for (i = 0; i < PQntuples(res); i++) {
		if (cred_open_row(res, i, key, pt, &ptlen, &id) == TG_OK) {
			(*ok)++;
		} else {
			(*bad)++;
			fprintf(stderr, "toolgate: the credential of source %s does not open"
			    " with this key\n", PQgetvalue(res, i, 0));
		}
		tg_crypto_wipe(pt, sizeof(pt));
	}
	PQclear(res);
	return TG_OK;
}
