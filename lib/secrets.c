/*
 * secrets.c - server secrets (see secrets.h). Values are sealed with
 * lib/secretbox (AES-256-GCM, AAD server_secret:<server_id>:<key>) and
 * stored as hex-decoded bytea; plaintext lives only in stack buffers that
 * are wiped, or in the JSON handed to the sandbox.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lib/audit.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/crud.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/rows.h"
#include "lib/parse.h"
#include "lib/secretbox.h"
#include "lib/secrets.h"
#include "lib/servers.h"
#include "lib/sources.h"
#include "lib/status.h"

#define SECRET_JSON \
	"json_build_object('key', key, 'description', description," \
	" 'has_value', ciphertext IS NOT NULL, 'key_version', key_version," \
	" 'created_at', " TG_SQL_TS("created_at") ", 'updated_at', " TG_SQL_TS("updated_at") "," \
	" 'value_set_at', " TG_SQL_TS("value_set_at") ")::text"

int
tg_secrets_valid_key(const char *s)
{
	return tg_parse_ident(s, 64);
}

static int
server_exists(const struct tg_call *c, int64_t server_id, struct tg_err *err)
{
	json_t *s = NULL;
	int rc = tg_servers_get(c, server_id, &s, err);

	json_decref(s);
	return rc;
}

int
tg_secrets_list(const struct tg_call *c, int64_t server_id,
    const struct tg_page *pg, json_t **out, struct tg_err *err)
{
	return tg_servers_child_list(c, server_id, pg,
	    "SELECT json_build_object('id', id, 'key', key, 'description', description,"
	    " 'has_value', ciphertext IS NOT NULL, 'key_version', key_version,"
	    " 'created_at', " TG_SQL_TS("created_at") ", 'updated_at', " TG_SQL_TS("updated_at") ","
	    " 'value_set_at', " TG_SQL_TS("value_set_at") ")::text FROM server_secrets"
	    " WHERE server_id = $1::bigint AND id > $2::bigint ORDER BY id"
	    " LIMIT $3::bigint", 3, NULL, out, err);
}

/* Seals value for (server_id, key) into hex nonce/ciphertext strings. */
static int
seal_hex(const struct tg_config *cfg, int64_t server_id, const char *key,
    const char *value, char *nonce_hex, char **ct_hex)
{
	unsigned char nonce[TG_SECRETBOX_NONCE], *ct = NULL;
	char aad[128];
	size_t n = strlen(value);
	int rc;

	*ct_hex = NULL;
	if (cfg == NULL || !cfg->have_enc_key)
		return -TG_E_INTERNAL;
	if ((rc = tg_secretbox_aad(aad, sizeof(aad), server_id, key)) != TG_OK)
		return rc;
	if ((ct = malloc(n + TG_SECRETBOX_TAG)) == NULL ||
	    (*ct_hex = malloc(2 * (n + TG_SECRETBOX_TAG) + 1)) == NULL) {
		free(ct);
		return -TG_E_NOMEM;
	}
	rc = tg_secretbox_seal(cfg->enc_key, aad, (const unsigned char *)value, n,
	    nonce, ct);
	if (rc == TG_OK) {
		/* the buffers are sized for them: cannot fail */
		(void)tg_crypto_hex(nonce, sizeof(nonce), nonce_hex, 2 * TG_SECRETBOX_NONCE + 1);
		(void)tg_crypto_hex(ct, n + TG_SECRETBOX_TAG, *ct_hex, 2 * (n + TG_SECRETBOX_TAG) + 1);
	} else {
		free(*ct_hex);
		*ct_hex = NULL;
	}
	free(ct);
	return rc;
}

/* A secret's row written (store()): p the statement's parameters. */
struct store {
	int64_t server_id;
	const char *key;
	const char *const *p;
	int create_only, value_set;
};

static int
store_tx(const struct tg_call *c, void *arg, struct tg_err *err)
{
	struct store *a = arg;
	json_t *detail;
	int rc;

	if (a->create_only)
		rc = tg_db_exec(c->db,
		    "INSERT INTO server_secrets (server_id, key, description, nonce,"
		    " ciphertext, key_version, created_by, value_set_at)"
		    " VALUES ($1::bigint, $2, coalesce($3, ''), decode($4, 'hex'),"
		    " decode($5, 'hex'), CASE WHEN $4 IS NULL THEN NULL ELSE 1 END,"
		    " $6::bigint, CASE WHEN $4 IS NULL THEN NULL ELSE now() END)", 6, a->p, NULL);
	else
		rc = tg_db_exec(c->db,
		    "INSERT INTO server_secrets (server_id, key, description, nonce,"
		    " ciphertext, key_version, created_by, value_set_at)"
		    " VALUES ($1::bigint, $2, coalesce($3, ''), decode($4, 'hex'),"
		    " decode($5, 'hex'), 1, $6::bigint, now())"
		    " ON CONFLICT (server_id, key) DO UPDATE SET"
		    " description = coalesce($3, server_secrets.description),"
		    " nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext,"
		    " key_version = coalesce(server_secrets.key_version, 1),"
		    " value_set_at = now(), updated_at = now()", 6, a->p, NULL);
	if (rc == -TG_E_CONFLICT && strcmp(tg_db_sqlstate(c->db), "23505") == 0)
		return tg_err_set(err, rc, "server %lld already has a secret '%s'",
		    (long long)a->server_id, a->key);
	if (rc == -TG_E_CONFLICT)
		return tg_err_set(err, TG_E_NOTFOUND, "no server with id %lld",
		    (long long)a->server_id);
	if (rc != TG_OK)
		return rc;
	detail = json_pack("{s:I, s:s, s:b}", "server_id", (json_int_t)a->server_id,
	    "key", a->key, "value_set", a->value_set);
	rc = tg_audit_call(c, a->create_only ? "secret.create" : "secret.set",
	    a->key, TG_AUDIT_OK, detail);
	json_decref(detail);
	return rc;
}

static int
store(const struct tg_call *c, int64_t server_id, const char *key,
    const char *desc, const char *value, int create_only, struct tg_err *err)
{
	char sid[24], actor[24], nonce_hex[2 * TG_SECRETBOX_NONCE + 1], *ct_hex = NULL;
	const char *p[6];
	struct store a = {server_id, key, p, create_only, value != NULL};
	int rc;

	if (value && strlen(value) > TG_SECRETBOX_MAX_PLAIN)
		return tg_err_field(err, "value", "at most %d bytes", TG_SECRETBOX_MAX_PLAIN);
	if (value && (rc = seal_hex(c->cfg, server_id, key, value, nonce_hex,
	    &ct_hex)) != TG_OK)
		return tg_err_from(err, rc);
	snprintf(sid, sizeof(sid), "%lld", (long long)server_id);
	p[0] = sid;
	p[1] = key;
	p[2] = desc;
	p[3] = value ? nonce_hex : NULL;
	p[4] = ct_hex;
	p[5] = tg_svc_actor(c, actor, sizeof(actor));
	rc = tg_call_tx(c, store_tx, &a, err);
	tg_crypto_free_str(ct_hex);
	return rc;
}

static int
get_one(const struct tg_call *c, int64_t server_id, const char *key,
    json_t **out, struct tg_err *err)
{
	char sid[24];
	const char *p[2];
	int rc;

	snprintf(sid, sizeof(sid), "%lld", (long long)server_id);
	p[0] = sid;
	p[1] = key;
	rc = tg_svc_query_object(c->db, "SELECT " SECRET_JSON
	    " FROM server_secrets WHERE server_id = $1::bigint AND key = $2", 2, p, out);
	if (rc == -TG_E_NOTFOUND)
		return tg_err_set(err, rc, "server %lld has no secret '%s'",
		    (long long)server_id, key);
	return tg_err_from(err, rc);
}

/* Create (create_only) or set, on an existing server, then the row. */
static int
save(const struct tg_call *c, int64_t server_id, const char *key,
    const char *desc, const char *value, int create_only, json_t **out,
    struct tg_err *err)
{
	int rc;

	if ((rc = server_exists(c, server_id, err)) != TG_OK)
		return rc;
	if ((rc = store(c, server_id, key, desc, value, create_only, err)) != TG_OK)
		return rc;
	return get_one(c, server_id, key, out, err);
}

int
tg_secrets_create(const struct tg_call *c, int64_t server_id, json_t *in,
    json_t **out, struct tg_err *err)
{
	const char *key = NULL, *desc = NULL, *value = NULL;
	int rc;

	if ((rc = tg_svc_unpack(c, TG_P_WRITE, err, in, 0, "{s:s, s?s, s?s !}",
	    "key", &key, "description", &desc, "value", &value)) != TG_OK)
		return rc;
	if (!tg_secrets_valid_key(key))
		return tg_err_field(err, "key",
		    "1 to 64 characters of A-Z, a-z, 0-9 and '_', not starting with a digit");
	if (desc && strlen(desc) > 1024)
		return tg_err_field(err, "description", "at most 1024 bytes");
	if (value && (rc = tg_svc_need(c, TG_P_SECRETS, err)) != TG_OK)
		return tg_err_set(err, rc,
		    "only an admin can set a secret value; create the secret without \"value\" (a placeholder)");
	return save(c, server_id, key, desc, value, 1, out, err);
}

int
tg_secrets_set(const struct tg_call *c, int64_t server_id, const char *key,
    json_t *in, json_t **out, struct tg_err *err)
{
	const char *desc = NULL, *value = NULL;
	json_error_t je;
	int rc;

	if ((rc = tg_svc_need(c, TG_P_SECRETS, err)) != TG_OK)
		return rc;
	if (key == NULL || !tg_secrets_valid_key(key))
		return tg_err_set(err, TG_E_NOTFOUND, "no secret '%s'", key ? key : "");
	if (json_unpack_ex(in, &je, 0, "{s:s, s?s !}", "value", &value,
	    "description", &desc) != 0)
		return tg_err_field(err, "body", "%s", je.text);
	if (desc && strlen(desc) > 1024)
		return tg_err_field(err, "description", "at most 1024 bytes");
	return save(c, server_id, key, desc, value, 0, out, err);
}

int
tg_secrets_delete(const struct tg_call *c, int64_t server_id, const char *key,
    struct tg_err *err)
{
	char sid[24], missing[160];
	const char *p[2];
	int rc;

	if ((rc = tg_svc_need(c, TG_P_SECRETS, err)) != TG_OK)
		return rc;
	if ((rc = server_exists(c, server_id, err)) != TG_OK)
		return rc;
	snprintf(sid, sizeof(sid), "%lld", (long long)server_id);
	p[0] = sid;
	p[1] = key;
	snprintf(missing, sizeof(missing), "server %lld has no secret '%s'",
	    (long long)server_id, key);
	return tg_svc_exec_audited(c, "DELETE FROM server_secrets WHERE"
	    " server_id = $1::bigint AND key = $2 RETURNING id", 2, p,
	    "secret.delete", key, missing, err);
}

/* Opens row i of res (columns: server_id, key, nonce hex, ct hex) with
 * key k into a malloc'd NUL-terminated plaintext (*pt, wipe + free). */
static int
open_row(const PGresult *res, int i, const unsigned char *k, char **pt)
{
	unsigned char nonce[TG_SECRETBOX_NONCE], *ct = NULL;
	const char *ch = PQgetvalue(res, i, 3);
	size_t ctlen = strlen(ch) / 2, ptlen = 0;
	int64_t sid;
	char aad[128];
	int rc;

	*pt = NULL;
	if (tg_parse_i64(PQgetvalue(res, i, 0), 1, INT64_MAX, &sid) != TG_OK ||
	    tg_secretbox_aad(aad, sizeof(aad), sid, PQgetvalue(res, i, 1)) != TG_OK ||
	    tg_parse_hex(PQgetvalue(res, i, 2), nonce, sizeof(nonce)) != TG_OK ||
	    ctlen < TG_SECRETBOX_TAG)
		return -TG_E_UNAUTH;
	if ((ct = malloc(ctlen)) == NULL || (*pt = malloc(ctlen + 1)) == NULL) {
		free(ct);
		return -TG_E_NOMEM;
	}
	if (tg_parse_hex(ch, ct, ctlen) != TG_OK)
		rc = -TG_E_UNAUTH;
	else
		rc = tg_secretbox_open(k, aad, nonce, ct, ctlen,
		    (unsigned char *)*pt, &ptlen);
	free(ct);
	if (rc != TG_OK) {
		free(*pt);
		*pt = NULL;
		return rc;
	}
	(*pt)[ptlen] = '\0';
	return TG_OK;
}

#define SEALED_ROWS \
	"SELECT server_id, key, encode(nonce, 'hex'), encode(ciphertext, 'hex'), id" \
	" " TG_SECRETS_SEALED

/*
 * The server's secrets with a value as {key: value}: opened with the key of
 * cfg (or the old key during a rotation), or, when cfg is NULL, each with a
 * placeholder "[placeholder:KEY]" (no ciphertext is opened).
 */
/* Row i of res into o: its value opened with the key of cfg (or the old
 * key during a rotation), or a placeholder when cfg is NULL. */
static int
put_row(json_t *o, const PGresult *res, int i, const struct tg_config *cfg,
    const char *sid)
{
	const char *key = PQgetvalue(res, i, 1);
	char val[160], *pt = NULL;
	int rc;

	if (cfg == NULL) {
		if ((size_t)snprintf(val, sizeof(val), "[placeholder:%s]", key) >= sizeof(val) ||
		    json_object_set_new(o, key, json_string(val)) != 0)
			return -TG_E_NOMEM;
		return TG_OK;
	}
	rc = open_row(res, i, cfg->enc_key, &pt);
	if (rc == -TG_E_UNAUTH && cfg->have_enc_key_old)
		rc = open_row(res, i, cfg->enc_key_old, &pt);
	if (rc != TG_OK) {
		tg_log(TG_LOG_ERR, "secrets.open_failed", "server_id=%s key=%s",
		    sid, tg_log_q(key));
		return rc == -TG_E_NOMEM ? rc : -TG_E_INTERNAL;
	}
	if (json_object_set_new(o, key, json_string(pt)) != 0)
		rc = -TG_E_NOMEM;
	tg_crypto_free_str(pt);
	return rc;
}

/*
 * The server's secrets with a value as {key: value}: opened with the key of
 * cfg (or the old key during a rotation), or, when cfg is NULL, each with a
 * placeholder "[placeholder:KEY]" (no ciphertext is opened).
 */
static int
secret_map(struct tg_db *dbh, const struct tg_config *cfg, int64_t server_id,
    json_t **out)
{
	PGresult *res = NULL;
	json_t *o = NULL;
	char sid[24];
	const char *p[1] = {sid};
	int i, rc;

	snprintf(sid, sizeof(sid), "%lld", (long long)server_id);
	if ((rc = tg_db_exec(dbh, SEALED_ROWS " AND server_id = $1::bigint ORDER BY key",
	    1, p, &res)) != TG_OK)
		return rc;
	if ((o = json_object()) == NULL)
		rc = -TG_E_NOMEM;
	for (i = 0; rc == TG_OK && i < PQntuples(res); i++)
		rc = put_row(o, res, i, cfg, sid);
	PQclear(res);
	return tg_json_hand(out, o, rc);
}

int
tg_secrets_decrypt_all(struct tg_db *dbh, const struct tg_config *cfg,
    int64_t server_id, json_t **out)
{
	if (cfg == NULL || !cfg->have_enc_key)
		return -TG_E_INTERNAL;
	return secret_map(dbh, cfg, server_id, out);
}

/* security: the names only, each with a placeholder value; never opens a
 * ciphertext, so it works without the encryption key too. */
int
tg_secrets_placeholders(struct tg_db *dbh, int64_t server_id, json_t **out)
{
	return secret_map(dbh, NULL, server_id, out);
}

int
tg_secrets_rotate(struct tg_db *dbh, const unsigned char *old_key,
    const unsigned char *new_key, long *count, long *src_count)
{
	struct tg_config tmp;
	PGresult *res = NULL;
	char *pt = NULL, nonce_hex[2 * TG_SECRETBOX_NONCE + 1], *ct_hex = NULL;
	int64_t sid;
	long n = 0, ns = 0;
	int i, rc;

	memset(&tmp, 0, sizeof(tmp));
	memcpy(tmp.enc_key, new_key, sizeof(tmp.enc_key));
	tmp.have_enc_key = 1;
	if ((rc = tg_db_begin(dbh)) != TG_OK)
		goto out;
	if ((rc = tg_db_exec(dbh, SEALED_ROWS " ORDER BY id FOR UPDATE", 0, NULL,
	    &res)) != TG_OK)
		goto out;
	for (i = 0; i < PQntuples(res); i++) {
		if ((rc = open_row(res, i, old_key, &pt)) != TG_OK) {
			fprintf(stderr, "toolgate: secret %s of server %s does not open with the old key\n",
			    PQgetvalue(res, i, 1), PQgetvalue(res, i, 0));
			goto out;
		}
		if ((rc = tg_parse_i64(PQgetvalue(res, i, 0), 1, INT64_MAX, &sid)) != TG_OK ||
		    (rc = seal_hex(&tmp, sid, PQgetvalue(res, i, 1), pt, nonce_hex,
		    &ct_hex)) != TG_OK)
			goto out;
		if ((rc = tg_crud_reseal(dbh, "UPDATE server_secrets SET nonce = decode($2, 'hex'),"
		    " ciphertext = decode($3, 'hex'), key_version = coalesce(key_version, 1) + 1,"
		    " updated_at = now() WHERE id = $1::bigint", PQgetvalue(res, i, 4),
		    nonce_hex, ct_hex)) != TG_OK)
			goto out;
		tg_crypto_free_str(pt);
		tg_crypto_free_str(ct_hex);
		pt = ct_hex = NULL;
		n++;
	}
	/* security: external source credentials, in the same transaction. */
	if ((rc = tg_sources_cred_rotate(dbh, old_key, new_key, &ns)) != TG_OK)
		goto out;
	rc = tg_db_commit(dbh);
out:
	if (rc != TG_OK)
		tg_db_rollback(dbh);
	tg_crypto_free_str(pt);
	tg_crypto_free_str(ct_hex);
	OPENSSL_cleanse(&tmp, sizeof(tmp));
	PQclear(res);
	if (rc == TG_OK) {
		*count = n;
		*src_count = ns;
	}
	return rc;
}

int
tg_secrets_verify(struct tg_db *dbh, const unsigned char *key, long *ok,
    long *bad)
{
	PGresult *res = NULL;
	char *pt = NULL;
	int i, rc;

	*ok = *bad = 0;
	if ((rc = tg_db_exec(dbh, SEALED_ROWS " ORDER BY id", 0, NULL, &res)) != TG_OK)
		return rc;
	for (i = 0; i < PQntuples(res); i++) {
		if (open_row(res, i, key, &pt) == TG_OK) {
			(*ok)++;
		} else {
			(*bad)++;
			fprintf(stderr, "toolgate: secret %s of server %s does not open with this key\n",
			    PQgetvalue(res, i, 1), PQgetvalue(res, i, 0));
		}
		tg_crypto_free_str(pt);
		pt = NULL;
	}
	PQclear(res);
	return TG_OK;
}
