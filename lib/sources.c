/*
 * sources.c - external MCP sources: CRUD with validation, the sealed
 * credentials and their key rotation (see sources.h). The remote
 * exchanges (discover, import, health with a circuit breaker, passthrough
 * calls) are in sources_remote.c.
 *
 * Network calls never run inside a database transaction: a source row is
 * loaded (credentials decrypted into fixed buffers that are wiped at the
 * end), the remote exchange runs with one deadline (lib/mcp_client.c),
 * and then the outcome, the remote session and the health counters are
 * written back in single statements. Credentials are sealed with
 * lib/secretbox (AAD "source_cred:<id>") and never leave this file except
 * as an HTTP header on the wire.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/audit.h"
#include "lib/call.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/crypto.h"
#include "lib/crud.h"
#include "lib/db.h"
#include "lib/mcp_client.h"
#include "lib/parse.h"
#include "lib/secretbox.h"
#include "lib/servers.h"
#include "lib/sources.h"
#include "lib/sources_int.h"
#include "lib/status.h"
#include "lib/versions.h"

#define SOURCE_FIELDS \
	"'id', e.id, 'server_id', e.server_id, 'server_name', s.name, 'name', e.name," \
	" 'description', e.description, 'url', e.url, 'transport', e.transport," \
	" 'internal', e.internal, 'enabled', e.enabled, 'auth_type', e.auth_type," \
	" 'auth_header', e.auth_header, 'has_credential', e.cred_ciphertext IS NOT NULL," \
	" 'connect_timeout_ms', e.connect_timeout_ms, 'timeout_ms', e.timeout_ms," \
	" 'max_response_bytes', e.max_response_bytes," \
	" 'failure_threshold', e.failure_threshold, 'cooldown_s', e.cooldown_s," \
	" 'status', e.status, 'consecutive_failures', e.consecutive_failures," \
	" 'circuit_open_until', " TG_SQL_TS("e.circuit_open_until") ", 'last_health_at', " TG_SQL_TS("e.last_health_at") "," \
	" 'last_latency_ms', e.last_latency_ms, 'last_error', e.last_error," \
	" 'last_error_at', " TG_SQL_TS("e.last_error_at") ", 'protocol_version', e.protocol_version," \
	" 'server_info', e.server_info," \
	" 'tool_count', (SELECT count(*) FROM tools t WHERE t.source_id = e.id)," \
	" 'created_by', e.created_by, 'created_at', " TG_SQL_TS("e.created_at") ", 'updated_at', " TG_SQL_TS("e.updated_at")
#define SOURCE_FROM " FROM external_sources e JOIN servers s ON s.id = e.server_id"

int
tg_sources_no_source(struct tg_err *err, int64_t id)
{
	return tg_err_set(err, TG_E_NOTFOUND, "no source with id %lld", (long long)id);
}

int
tg_sources_cred_aad(char *buf, size_t cap, int64_t id)
{
	int n = snprintf(buf, cap, "source_cred:%lld", (long long)id);

	return n < 0 || (size_t)n >= cap ? -TG_E_TOOLARGE : TG_OK;
}

/* ---------------------------------------------------------------- reads */

int
tg_sources_list(const struct tg_call *c, int64_t server_id,
    const struct tg_page *pg, json_t **out, struct tg_err *err)
{
	return tg_servers_child_list(c, server_id, pg,
	    "SELECT json_build_object(" SOURCE_FIELDS ")::text" SOURCE_FROM
	    " WHERE e.server_id = $1::bigint AND e.id > $2::bigint"
	    " ORDER BY e.id LIMIT $3::bigint", 3, NULL, out, err);
}

int
tg_sources_get_row(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err)
{
	int rc = tg_svc_query_id(c->db, "SELECT json_build_object(" SOURCE_FIELDS
	    ")::text" SOURCE_FROM " WHERE e.id = $1::bigint", id, out);

	if (rc == -TG_E_NOTFOUND)
		return tg_sources_no_source(err, id);
	return tg_err_from(err, rc);
}

int
tg_sources_get(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err)
{
	int rc;

	if ((rc = tg_svc_need(c, TG_P_READ, err)) != TG_OK)
		return rc;
	return tg_sources_get_row(c, id, out, err);
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

#define NUM_ROW(n, lo, hi, d) {#n, lo, hi, d},
const struct tg_source_num tg_source_nums[TG_SOURCE_NNUMS] = {TG_SOURCE_NUMS(NUM_ROW)};

/* The numeric settings of si in the order of tg_source_nums (-1: absent). */
static void
nums_of(const struct src_in *si, const json_int_t *v[TG_SOURCE_NNUMS])
{
	v[0] = &si->connect_ms;
	v[1] = &si->timeout_ms;
	v[2] = &si->max_bytes;
	v[3] = &si->threshold;
	v[4] = &si->cooldown;
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
parse_in(const struct tg_call *c, json_t *in, struct src_in *si,
    struct tg_err *err)
{
	const json_int_t *num[TG_SOURCE_NNUMS];
	json_error_t je;
	int i;

	memset(si, 0, sizeof(*si));
	si->internal = si->enabled = -1;
	si->connect_ms = si->timeout_ms = si->max_bytes = si->threshold = si->cooldown = -1;
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
	nums_of(si, num);
	for (i = 0; i < TG_SOURCE_NNUMS; i++)
		if (*num[i] != -1 && (*num[i] < tg_source_nums[i].min ||
		    *num[i] > tg_source_nums[i].max))
			tg_err_field(err, tg_source_nums[i].name, "must be between %lld and %lld",
			    tg_source_nums[i].min, tg_source_nums[i].max);
	if (err->status)
		return -err->status;
	/* admin-only members */
	if ((si->internal != -1 && !tg_call_can(c, TG_P_APPROVE)) ||
	    (si->credential && !json_is_null(si->credential) &&
	    !tg_call_can(c, TG_P_SECRETS)))
		return tg_err_set(err, TG_E_FORBIDDEN, "only an admin can set %s",
		    si->internal != -1 ? "\"internal\"" : "a source credential");
	return TG_OK;
}

/* Seals the credential of source id into nonce/ct (ct: hex "\\x..." for a
 * bytea parameter). */
static int
seal_cred(const struct tg_call *c, int64_t id, const char *cred, size_t n,
    char *nonce_hex, size_t ncap, char **ct_hex, struct tg_err *err)
{
	const struct tg_config *cfg = c->cfg;
	unsigned char nonce[TG_SECRETBOX_NONCE], *ct = NULL;
	char aad[64];
	size_t cap;
	int rc;

	*ct_hex = NULL;
	if (!cfg->have_enc_key)
		return tg_err_set(err, TG_E_UNAVAIL, "no encryption key is configured"
		    " (TOOLGATE_ENCRYPTION_KEY); credentials cannot be stored");
	if ((rc = tg_sources_cred_aad(aad, sizeof(aad), id)) != TG_OK)
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
store_cred(const struct tg_call *c, int64_t id, json_t *cred,
    struct tg_err *err)
{
	char ids[24], nonce_hex[2 * TG_SECRETBOX_NONCE + 3], *ct_hex = NULL;
	const char *p[3];
	int rc;

	tg_i64s(ids, sizeof(ids), id);
	p[0] = ids;
	if (json_is_null(cred))
		return tg_err_from(err, tg_db_exec(c->db, "UPDATE external_sources SET"
		    " cred_nonce = NULL, cred_ciphertext = NULL, cred_key_version = NULL"
		    " WHERE id = $1::bigint", 1, p, NULL));
	if ((rc = seal_cred(c, id, json_string_value(cred), json_string_length(cred),
	    nonce_hex, sizeof(nonce_hex), &ct_hex, err)) != TG_OK)
		return rc;
	p[1] = nonce_hex;
	p[2] = ct_hex;
	rc = tg_db_exec(c->db, "UPDATE external_sources SET cred_nonce = $2::bytea,"
	    " cred_ciphertext = $3::bytea, cred_key_version = 1 WHERE id = $1::bigint",
	    3, p, NULL);
	free(ct_hex);
	return tg_err_from(err, rc);
}

static int
conflict(const struct tg_call *c, struct tg_err *err, int rc, const char *name)
{
	if (rc == -TG_E_CONFLICT && strcmp(tg_db_sqlstate(c->db), "23505") == 0)
		return tg_err_set(err, TG_E_CONFLICT, "this server already has a source"
		    " named '%s'", name ? name : "");
	if (rc == -TG_E_UNPROCESSABLE)
		return tg_err_set(err, TG_E_UNPROCESSABLE, "the source violates a rule (%s)",
		    tg_db_constraint(c->db));
	return tg_err_from(err, rc);
}

/* --------------------------------------------------------------- writes */

struct create {
	int64_t server_id;
	const struct src_in *si;
	const char *auth_type;
	const char *p[14];
	int64_t id;		/* out */
};

static int
create_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct create *a = arg;
	const struct src_in *si = a->si;
	PGresult *res = NULL;
	json_t *detail = NULL;
	int rc;

	rc = tg_db_exec(c->db, "INSERT INTO external_sources (server_id, name,"
	    " description, url, internal, enabled, auth_type, auth_header,"
	    " connect_timeout_ms, timeout_ms, max_response_bytes, failure_threshold,"
	    " cooldown_s, created_by) VALUES ($1::bigint, $2, $3, $4, $5::boolean,"
	    " $6::boolean, $7, $8, $9::integer, $10::integer, $11::integer, $12::integer,"
	    " $13::integer, $14::bigint) RETURNING id", 14, a->p, &res);
	if (rc != TG_OK) {
		rc = conflict(c, err, rc, si->name);
		goto out;
	}
	if ((rc = tg_parse_i64(PQgetvalue(res, 0, 0), 1, INT64_MAX, &a->id)) != TG_OK)
		goto out;
	if (json_is_string(si->credential) &&
	    (rc = store_cred(c, a->id, si->credential, err)) != TG_OK)
		goto out;
	/* the audit detail names the auth type, never the credential */
	detail = json_pack("{s:s, s:I, s:s, s:b, s:s}", "name", si->name, "server_id",
	    (json_int_t)a->server_id, "url", si->url, "internal", si->internal == 1,
	    "auth_type", a->auth_type);
	rc = tg_audit_call(c, "source.create", PQgetvalue(res, 0, 0), TG_AUDIT_OK, detail);
out:
	json_decref(detail);
	PQclear(res);
	return tg_err_from(err, rc);
}

int
tg_sources_create(const struct tg_call *c, int64_t server_id, json_t *in,
    json_t **out, struct tg_err *err)
{
	struct create a = {.server_id = server_id};
	struct src_in si;
	char sid[24], actor[24], ints[6][24];
	const json_int_t *num[TG_SOURCE_NNUMS];
	json_t *one = NULL;
	const char *auth_type;
	int i, rc;

	if ((rc = tg_svc_need(c, TG_P_WRITE, err)) != TG_OK)
		return rc;
	if ((rc = parse_in(c, in, &si, err)) != TG_OK)
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
	if ((rc = tg_servers_get(c, server_id, &one, err)) != TG_OK)
		return rc;
	json_decref(one);
	tg_i64s(sid, sizeof(sid), server_id);
	nums_of(&si, num);
	for (i = 0; i < TG_SOURCE_NNUMS; i++)
		tg_i64s(ints[i], 24, *num[i] == -1 ? tg_source_nums[i].def : *num[i]);
	a.si = &si;
	a.auth_type = auth_type;
	a.p[0] = sid;
	a.p[1] = si.name;
	a.p[2] = si.description ? si.description : "";
	a.p[3] = si.url;
	a.p[4] = si.internal == 1 ? "true" : "false";
	a.p[5] = si.enabled == 0 ? "false" : "true";
	a.p[6] = auth_type;
	a.p[7] = strcmp(auth_type, "header") == 0 ? json_string_value(si.auth_header) : NULL;
	a.p[8] = ints[0];
	a.p[9] = ints[1];
	a.p[10] = ints[2];
	a.p[11] = ints[3];
	a.p[12] = ints[4];
	a.p[13] = tg_svc_actor(c, actor, sizeof(actor));
	return tg_call_tx_read(c, create_tx, &a, tg_sources_get_row, &a.id, out, err);
}

struct update {
	int64_t id;
	struct src_in si;
};

static int
update_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct update *a = arg;
	const struct src_in si = a->si;
	int64_t id = a->id;
	char ids[24], ints[TG_SOURCE_NNUMS][24];
	const json_int_t *num[TG_SOURCE_NNUMS];
	const char *p[16];
	PGresult *row = NULL;
	json_t *detail = NULL;
	const char *auth_type, *url;
	int i, internal, rc, had_cred, keeps_cred, url_changed, endpoint_changed;

	tg_i64s(ids, sizeof(ids), id);
	p[0] = ids;
	rc = tg_db_exec(c->db, "SELECT url, internal, auth_type, auth_header,"
	    " cred_ciphertext IS NOT NULL, transport FROM external_sources"
	    " WHERE id = $1::bigint FOR UPDATE", 1, p, &row);
	if (rc != TG_OK)
		goto out;
	if (PQntuples(row) == 0) {
		rc = tg_sources_no_source(err, id);
		goto out;
	}
	internal = si.internal != -1 ? si.internal : strcmp(PQgetvalue(row, 0, 1), "t") == 0;
	url = si.url ? si.url : PQgetvalue(row, 0, 0);
	auth_type = si.auth_type ? si.auth_type : PQgetvalue(row, 0, 2);
	had_cred = strcmp(PQgetvalue(row, 0, 4), "t") == 0;
	if (si.url && strcmp(PQgetvalue(row, 0, 1), "t") == 0 &&
	    !tg_call_can(c, TG_P_APPROVE)) {
		rc = tg_err_set(err, TG_E_FORBIDDEN, "only an admin can change the URL of an"
		    " internal source");
		goto out;
	}
	/*
	 * security (issue #14): the credential an admin stored goes to the
	 * host the admin chose. A developer may move a source elsewhere only
	 * when the credential goes away with the same change (auth_type
	 * "none"); otherwise a new URL needs an admin (403).
	 */
	url_changed = si.url != NULL && strcmp(si.url, PQgetvalue(row, 0, 0)) != 0;
	keeps_cred = had_cred && strcmp(auth_type, "none") != 0 && !json_is_null(si.credential);
	if (url_changed && keeps_cred && !tg_call_can(c, TG_P_SECRETS)) {
		rc = tg_err_set(err, TG_E_FORBIDDEN, "only an admin can change the URL of a"
		    " source that has a credential (or set auth_type \"none\" in the same"
		    " change, which deletes the credential)");
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
	nums_of(&si, num);
	for (i = 0; i < TG_SOURCE_NNUMS; i++)
		tg_i64s(ints[i], 24, *num[i]);
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
	rc = tg_db_exec(c->db, "UPDATE external_sources SET"
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
		rc = conflict(c, err, rc, si.name);
		goto out;
	}
	if (si.credential != NULL || strcmp(auth_type, "none") == 0) {
		if ((rc = store_cred(c, id, strcmp(auth_type, "none") == 0 ? json_null() :
		    si.credential, err)) != TG_OK)
			goto out;
		if (json_is_string(si.credential) && (rc = tg_db_exec(c->db,
		    "UPDATE external_sources SET session_id = NULL, protocol_version = NULL"
		    " WHERE id = $1::bigint", 1, p, NULL)) != TG_OK)
			goto out;
	}
	/*
	 * security (issue #14): an imported tool was approved for what this
	 * endpoint served with this credential. A new URL, transport, auth
	 * type, auth header or credential sends every approved tool of the
	 * source back to review (an imported tool is served only while
	 * approved, so it stops being called until an admin approves it).
	 */
	endpoint_changed = url_changed || si.credential != NULL ||
	    (si.transport && strcmp(si.transport, PQgetvalue(row, 0, 5)) != 0) ||
	    (si.auth_type && strcmp(si.auth_type, PQgetvalue(row, 0, 2)) != 0) ||
	    (json_is_string(si.auth_header) && (PQgetisnull(row, 0, 3) ||
	    strcmp(json_string_value(si.auth_header), PQgetvalue(row, 0, 3)) != 0));
	if (endpoint_changed && (rc = tg_versions_review_source(c->db, ids,
	    "the source's URL, transport or credential changed")) != TG_OK)
		goto out;
	detail = json_pack("{s:b, s:b, s:b, s:b}", "url_changed", si.url != NULL,
	    "credential_changed", si.credential != NULL, "internal", internal,
	    "tools_to_review", endpoint_changed);
	rc = tg_audit_call(c, "source.update", ids, TG_AUDIT_OK, detail);
out:
	json_decref(detail);
	PQclear(row);
	return tg_err_from(err, rc);
}

int
tg_sources_update(const struct tg_call *c, int64_t id, json_t *in, json_t **out,
    struct tg_err *err)
{
	struct update a = {.id = id};
	int rc;

	if ((rc = tg_svc_need(c, TG_P_WRITE, err)) != TG_OK)
		return rc;
	if ((rc = parse_in(c, in, &a.si, err)) != TG_OK)
		return rc;
	return tg_call_tx_read(c, update_tx, &a, tg_sources_get_row, &id, out, err);
}

int
tg_sources_delete(const struct tg_call *c, int64_t id, struct tg_err *err)
{
	return tg_crud_delete(c, TG_P_WRITE, "DELETE FROM external_sources"
	    " WHERE id = $1::bigint RETURNING name", "source.delete", "source", id, err);
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
	    tg_sources_cred_aad(aad, sizeof(aad), *id) != TG_OK ||
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
		if ((rc = tg_sources_cred_aad(aad, sizeof(aad), id)) != TG_OK ||
		    (rc = tg_secretbox_seal(new_key, aad, pt, ptlen, nonce, ct)) != TG_OK ||
		    (rc = tg_crypto_hex(nonce, sizeof(nonce), nonce_hex + 2,
		    sizeof(nonce_hex) - 2)) != TG_OK ||
		    (rc = tg_crypto_hex(ct, ptlen + TG_SECRETBOX_TAG, ct_hex + 2,
		    sizeof(ct_hex) - 2)) != TG_OK)
			goto out;
		if ((rc = tg_crud_reseal(db, "UPDATE external_sources SET cred_nonce = $2::bytea,"
		    " cred_ciphertext = $3::bytea,"
		    " cred_key_version = coalesce(cred_key_version, 1) + 1"
		    " WHERE id = $1::bigint", PQgetvalue(res, i, 0), nonce_hex,
		    ct_hex)) != TG_OK)
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
