/*
 * sources_remote.c - the remote exchanges of external MCP sources (see
 * sources.h): discover, import, health with a circuit breaker, and
 * passthrough calls.
 *
 * Network calls never run inside a database transaction: a source row is
 * loaded (credentials decrypted into fixed buffers that are wiped at the
 * end), the remote exchange runs with one deadline (lib/mcp_client.c),
 * and then the outcome, the remote session and the health counters are
 * written back in single statements. A credential never leaves this file
 * except as an HTTP header on the wire. What an import or a remote change
 * does to a tool's versions and approval is the one tool-versioning rule
 * (lib/versions.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/audit.h"
#include "lib/call.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/crud.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/mcp_client.h"
#include "lib/parse.h"
#include "lib/secretbox.h"
#include "lib/servers.h"
#include "lib/sources.h"
#include "lib/sources_int.h"
#include "lib/status.h"
#include "lib/tools.h"
#include "lib/versions.h"

/* Columns of a loaded source (struct src). */
#define SRC_COLS \
	"e.id, e.server_id, e.name, e.url, e.internal, e.enabled, e.auth_type," \
	" e.auth_header, e.cred_nonce, e.cred_ciphertext, e.connect_timeout_ms," \
	" e.timeout_ms, e.max_response_bytes, coalesce(e.session_id, '')," \
	" coalesce(e.protocol_version, ''), e.status, e.consecutive_failures," \
	" (e.circuit_open_until IS NOT NULL AND e.circuit_open_until > now())," \
	" coalesce(" TG_SQL_TS("e.circuit_open_until") ", ''), coalesce(e.last_error, '')"

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
	if (tg_sources_cred_aad(aad, sizeof(aad), s->id) != TG_OK)
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
load_src(const struct tg_call *c, const char *where, const char *param,
    struct src *s, char *remote, size_t rcap, struct tg_err *err)
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
	if ((rc = tg_db_exec(c->db, sql, 1, p, &r)) != TG_OK)
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
	    (rc = open_cred(c->cfg, r, s)) != TG_OK) {
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
record(const struct tg_call *c, struct src *s, struct tg_mcp_client *mc, int ok,
    long latency_ms)
{
	char ids[24], lat[24], *info = NULL;
	const char *p[7];

	if (ok && !mc->session_changed && latency_ms < 0 && s->failures == 0 &&
	    strcmp(s->status, "healthy") == 0)
		return;
	tg_i64s(ids, sizeof(ids), s->id);
	snprintf(lat, sizeof(lat), "%ld", latency_ms);
	if (mc->server_info)
		info = json_dumps(mc->server_info, JSON_COMPACT);
	p[0] = ids;
	p[1] = mc->session_changed ? "t" : "f";
	p[2] = mc->session_id[0] ? mc->session_id : NULL;
	p[3] = mc->version[0] ? mc->version : NULL;
	p[4] = info;
	p[5] = latency_ms >= 0 ? lat : NULL;
	p[6] = ok ? NULL : mc->error;
	if (tg_db_exec(c->db, "UPDATE external_sources SET"
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
		    (long long)s->id, s->failures + 1, tg_log_q(mc->error));
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
fetch_tools(const struct tg_call *c, int64_t id, struct src *s, json_t **tools,
    json_t **info, char *version, size_t vcap, struct tg_err *err)
{
	struct tg_mcp_client mc;
	char ids[24];
	int rc;

	tg_i64s(ids, sizeof(ids), id);
	if ((rc = load_src(c, "WHERE e.id = $1::bigint", ids, s, NULL, 0, err)) != TG_OK)
		return rc == -TG_E_NOTFOUND ? tg_sources_no_source(err, id) : rc;
	client_for(&mc, s);
	rc = tg_mcp_client_list_tools(&mc, tools);
	record(c, s, &mc, rc == TG_OK || !counts(rc), -1);
	if (rc != TG_OK) {
		rc = remote_failed(err, s, &mc);
	} else {
		snprintf(version, vcap, "%s", mc.version);
		*info = mc.server_info ? json_incref(mc.server_info) : NULL;
	}
	tg_mcp_client_cleanup(&mc);
	src_wipe(s);
	return rc;
}

/* What the model reads of a remote tool, as tools' column values. */
struct remote_content {
	const char *description, *schema;	/* schema: never NULL */
	char *schema_txt, *annot;		/* owned; annot may be NULL */
};

static int
remote_content(const json_t *rt, struct remote_content *rc)
{
	const json_t *d = json_object_get(rt, "description"), *s, *a;

	s = json_object_get(rt, "inputSchema");
	a = json_object_get(rt, "annotations");
	rc->description = json_is_string(d) ? json_string_value(d) : "";
	rc->schema_txt = s == NULL || json_is_null(s) ? NULL :
	    json_dumps(s, JSON_COMPACT | JSON_ENCODE_ANY);
	rc->annot = json_is_object(a) ? json_dumps(a, JSON_COMPACT) : NULL;
	rc->schema = rc->schema_txt ? rc->schema_txt : "{\"type\":\"object\"}";
	if ((s != NULL && !json_is_null(s) && rc->schema_txt == NULL) ||
	    (json_is_object(a) && rc->annot == NULL))
		return -TG_E_NOMEM;
	return TG_OK;
}

static void
remote_content_free(struct remote_content *rc)
{
	free(rc->schema_txt);
	free(rc->annot);
	rc->schema_txt = rc->annot = NULL;
}

struct change {
	const char *tool_id;
	const json_t *rt;
	const char *hash;
	char status[16];	/* out: the tool's status after the change */
};

/* A remote change of an imported tool: a new version, back to review (the
 * tool-versioning rule; an imported tool's approval never survives). */
static int
change_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct change *a = arg;
	struct remote_content rcn = {0};
	struct tg_vchange vc;
	char actor[24];
	const char *p[5];
	json_t *detail = NULL;
	int rc;

	if ((rc = remote_content(a->rt, &rcn)) != TG_OK)
		goto out;
	p[0] = a->tool_id;
	p[1] = rcn.description;
	p[2] = rcn.schema;
	p[3] = rcn.annot;
	p[4] = a->hash;
	if ((rc = tg_db_exec(c->db, "UPDATE tools SET description = $2,"
	    " input_schema = $3::json, annotations = $4::json, remote_hash = $5"
	    " WHERE id = $1::bigint AND kind = 'external'", 5, p, NULL)) != TG_OK)
		goto out;
	memset(&vc, 0, sizeof(vc));
	vc.tool_id = a->tool_id;
	vc.summary = "remote description/schema changed (discover)";
	vc.actor = tg_svc_actor(c, actor, sizeof(actor));
	vc.rule = TG_V_EDIT;
	vc.reason = "the remote tool changed";
	if ((rc = tg_versions_bump(c->db, &vc, a->status, sizeof(a->status))) != TG_OK)
		goto out;
	detail = json_pack("{s:s}", "reason", "remote tool changed");
	rc = tg_audit_call(c, "tool.remote_changed", a->tool_id, TG_AUDIT_OK, detail);
out:
	json_decref(detail);
	remote_content_free(&rcn);
	return tg_err_from(err, rc);
}

int
tg_sources_discover(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err)
{
	struct src s;
	json_t *tools = NULL, *info = NULL, *list = NULL, *missing = NULL, *rt, *item;
	PGresult *imp = NULL;
	char ids[24], version[32] = "", hash[TG_SHA256_HEX_LEN + 1];
	const char *p[1];
	size_t i;
	int rc, row, *seen = NULL;

	if ((rc = tg_svc_need(c, TG_P_WRITE, err)) != TG_OK)
		return rc;
	if ((rc = fetch_tools(c, id, &s, &tools, &info, version, sizeof(version), err)) != TG_OK)
		return rc;
	tg_i64s(ids, sizeof(ids), id);
	p[0] = ids;
	if ((rc = tg_db_exec(c->db, "SELECT id, name, remote_name,"
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
			struct change ch = {.rt = rt, .hash = hash};
			int changed;
			int64_t tid;

			if (strcmp(PQgetvalue(imp, row, 2), name) != 0)
				continue;
			seen[row] = 1;
			if ((rc = remote_hash(rt, hash)) != TG_OK)
				goto out;
			changed = strcmp(hash, PQgetvalue(imp, row, 3)) != 0;
			ch.tool_id = PQgetvalue(imp, row, 0);
			if (changed && (rc = tg_call_tx(c, change_tx, &ch, err)) != TG_OK)
				goto out;
			if ((rc = tg_parse_i64(PQgetvalue(imp, row, 0), 1, INT64_MAX, &tid)) != TG_OK)
				goto out;
			if (json_object_set_new(item, "imported", json_true()) ||
			    json_object_set_new(item, "tool_id", json_integer(tid)) ||
			    json_object_set_new(item, "local_name",
			    json_string(PQgetvalue(imp, row, 1))) ||
			    json_object_set_new(item, "status", json_string(changed ?
			    ch.status : PQgetvalue(imp, row, 4))) ||
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

struct import {
	int64_t server_id, source_id;
	json_t *want, *tools;		/* borrowed */
	json_t *already, *ids_new;	/* filled */
	char sid[24], srcid[24];	/* server_id, source_id as text */
};

/* Imports remote tool rt (remote name rn) as ln; the server row is locked
 * (srv_status its status). One already imported goes to a->already. */
static int
import_one(const struct tg_call *c, struct import *a, const char *srv_status,
    const json_t *rt, const char *rn, const char *ln, struct tg_err *err)
{
	struct remote_content rcn = {0};
	char actor[24], hash[TG_SHA256_HEX_LEN + 1];
	const char *p[9];
	PGresult *res = NULL;
	json_t *one = NULL, *detail = NULL;
	int64_t tid;
	int rc;

	p[0] = a->srcid;
	p[1] = rn;
	if ((rc = tg_db_exec(c->db, "SELECT id FROM tools WHERE source_id ="
	    " $1::bigint AND remote_name = $2", 2, p, &res)) != TG_OK)
		goto out;
	if (PQntuples(res) > 0) {
		one = json_pack("{s:s, s:s}", "remote_name", rn, "tool_id",
		    PQgetvalue(res, 0, 0));
		if (one == NULL || json_array_append_new(a->already, one) != 0)
			rc = -TG_E_NOMEM;
		goto out;
	}
	if (strcmp(srv_status, "running") == 0 &&
	    (rc = tg_servers_check_clash(c, a->server_id, NULL, ln, err)) != TG_OK)
		goto out;
	/* security (issue #14): nor the name another tool of the server
	 * is served under (its approved version's, during a rename) */
	if ((rc = tg_tools_served_as(c->db, a->server_id, 0, ln, &tid)) != TG_OK)
		goto out;
	if (tid != 0) {
		rc = tg_err_set(err, TG_E_CONFLICT, "a tool of the server is served as"
		    " '%s' until its rename is approved; import it under another"
		    " local_name", ln);
		goto out;
	}
	if ((rc = remote_hash(rt, hash)) != TG_OK ||
	    (rc = remote_content(rt, &rcn)) != TG_OK)
		goto out;
	p[0] = a->sid;
	p[1] = ln;
	p[2] = rcn.description;
	p[3] = rcn.schema;
	p[4] = rcn.annot;
	p[5] = tg_svc_actor(c, actor, sizeof(actor));
	p[6] = a->srcid;
	p[7] = rn;
	p[8] = hash;
	PQclear(res);
	res = NULL;
	rc = tg_db_exec(c->db, "INSERT INTO tools (server_id, name, description,"
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
	if ((rc = tg_versions_append(c->db, PQgetvalue(res, 0, 0),
	    "imported from an external source", p[5])) != TG_OK)
		goto out;
	if (json_array_append_new(a->ids_new, json_integer(tid)) != 0) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	detail = json_pack("{s:s, s:s, s:I}", "remote_name", rn, "name", ln,
	    "source_id", (json_int_t)a->source_id);
	rc = tg_audit_call(c, "tool.import", PQgetvalue(res, 0, 0), TG_AUDIT_OK, detail);
out:
	remote_content_free(&rcn);
	json_decref(detail);
	PQclear(res);
	return tg_err_from(err, rc);
}

static int
import_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct import *a = arg;
	PGresult *srv = NULL;
	json_t *w;
	size_t i;
	int rc;

	if ((rc = tg_servers_lock(c, a->server_id, 0, "status", &srv,
	    err)) == -TG_E_NOTFOUND)
		rc = tg_err_set(err, TG_E_NOTFOUND, "the source's server is gone");
	if (rc != TG_OK)
		goto out;
	tg_i64s(a->sid, sizeof(a->sid), a->server_id);
	tg_i64s(a->srcid, sizeof(a->srcid), a->source_id);
	json_array_foreach(a->want, i, w) {
		const char *rn = json_is_string(w) ? json_string_value(w) :
		    json_string_value(json_object_get(w, "name"));
		const char *ln = json_is_object(w) && json_is_string(json_object_get(w,
		    "local_name")) ? json_string_value(json_object_get(w, "local_name")) : rn;

		if ((rc = import_one(c, a, PQgetvalue(srv, 0, 0), find_remote(a->tools, rn),
		    rn, ln, err)) != TG_OK)
			goto out;
	}
out:
	PQclear(srv);
	return tg_err_from(err, rc);
}

int
tg_sources_import(const struct tg_call *c, int64_t id, json_t *in, json_t **out,
    struct tg_err *err)
{
	struct import a = {0};
	struct src s;
	json_t *tools = NULL, *info = NULL, *want, *w, *done = NULL, *one = NULL;
	char version[32] = "", field[48];
	json_error_t je;
	size_t i;
	int rc;

	if ((rc = tg_svc_unpack(c, TG_P_WRITE, err, in, 0, "{s:o !}", "tools",
	    &want)) != TG_OK)
		return rc;
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
	if ((rc = fetch_tools(c, id, &s, &tools, &info, version, sizeof(version), err)) != TG_OK)
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
	a.server_id = s.server_id;
	a.source_id = s.id;
	a.want = want;
	a.tools = tools;
	if ((done = json_array()) == NULL || (a.already = json_array()) == NULL ||
	    (a.ids_new = json_array()) == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	if ((rc = tg_call_tx(c, import_tx, &a, err)) != TG_OK)
		goto out;
	json_array_foreach(a.ids_new, i, w) {
		if ((rc = tg_tools_get(c, json_integer_value(w), &one, err)) != TG_OK)
			goto out;
		if (json_array_append_new(done, one) != 0) {
			one = NULL;
			rc = -TG_E_NOMEM;
			goto out;
		}
		one = NULL;
	}
	*out = json_pack("{s:I, s:o, s:o}", "source_id", (json_int_t)id, "imported", done,
	    "already_imported", a.already);
	done = a.already = NULL;
	rc = *out ? TG_OK : -TG_E_NOMEM;
out:
	json_decref(tools);
	json_decref(info);
	json_decref(done);
	json_decref(a.already);
	json_decref(a.ids_new);
	json_decref(one);
	return tg_err_from(err, rc);
}

int
tg_sources_health(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err)
{
	struct tg_mcp_client mc;
	struct src s;
	json_t *row = NULL;
	char ids[24];
	int64_t t0;
	long latency;
	int rc, ok;

	if ((rc = tg_svc_need(c, TG_P_READ, err)) != TG_OK)
		return rc;
	tg_i64s(ids, sizeof(ids), id);
	if ((rc = load_src(c, "WHERE e.id = $1::bigint", ids, &s, NULL, 0, err)) != TG_OK)
		return rc == -TG_E_NOTFOUND ? tg_sources_no_source(err, id) : rc;
	client_for(&mc, &s);
	t0 = tg_now_us();
	rc = tg_mcp_client_initialize(&mc);
	if (rc == TG_OK)
		rc = tg_mcp_client_ping(&mc);
	latency = (long)((tg_now_us() - t0) / 1000);
	ok = rc == TG_OK;
	record(c, &s, &mc, ok || !counts(rc), latency);
	src_wipe(&s);
	if ((rc = tg_sources_get_row(c, id, &row, err)) != TG_OK)
		goto out;
	*out = json_pack("{s:I, s:b, s:O, s:i, s:s?, s:O?, s:s?, s:O, s:O}", "source_id",
	    (json_int_t)id, "ok", ok, "status", json_object_get(row, "status"),
	    "latency_ms", (int)latency, "protocol_version", ok ? mc.version : NULL,
	    "server_info", ok ? mc.server_info : NULL, "error", ok ? NULL : mc.error,
	    "consecutive_failures", json_object_get(row, "consecutive_failures"),
	    "circuit_open_until", json_object_get(row, "circuit_open_until"));
	rc = *out ? TG_OK : -TG_E_NOMEM;
out:
	tg_mcp_client_cleanup(&mc);
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
tg_sources_call(const struct tg_call *c, int64_t tool_id, json_t *arguments,
    json_t **result, const char **status, char *error, size_t cap)
{
	struct tg_mcp_client mc;
	struct tg_err err;
	struct src s;
	json_t *params = NULL, *res = NULL;
	char tid[24], remote[260];
	int rc;

	tg_err_init(&err);
	tg_mcp_client_init(&mc);
	memset(&s, 0, sizeof(s));
	*status = "error";
	error[0] = '\0';
	tg_i64s(tid, sizeof(tid), tool_id);
	rc = load_src(c, "JOIN tools t ON t.source_id = e.id WHERE t.id = $1::bigint"
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
		*result = error_result("The external source '%s' is disabled (its"
		    " \"enabled\" setting is false).", s.name);
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
	client_for(&mc, &s);
	rc = tg_mcp_client_request(&mc, "tools/call", params, &res);
	if (rc == TG_OK && !json_is_array(json_object_get(res, "content"))) {
		rc = mc.failure = -TG_E_BADREQ;
		snprintf(mc.error, sizeof(mc.error), "the source's tools/call result has no"
		    " content array");
	}
	record(c, &s, &mc, rc == TG_OK || !counts(rc), -1);
	if (rc == TG_OK) {
		*status = json_is_true(json_object_get(res, "isError")) ? "error" : "ok";
		*result = res;
		res = NULL;
		goto out;
	}
	snprintf(error, cap, "%s", mc.error);
	if (rc == -TG_E_UNPROCESSABLE) {
		*result = error_result("The external source rejected the call: %s", mc.error);
	} else {
		*status = rc == -TG_E_TIMEOUT ? "timeout" : "unavailable";
		*result = error_result("The external source '%s' failed: %s", s.name, mc.error);
	}
	rc = *result ? TG_OK : -TG_E_NOMEM;
out:
	tg_mcp_client_cleanup(&mc);
	src_wipe(&s);
	tg_err_clear(&err);
	json_decref(params);
	json_decref(res);
	return rc;
}
