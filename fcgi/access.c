/*
 * access.c - the access step of the pipeline: authentication (JWT or API
 * key), the role -> permission table, and the per-principal rate limit.
 *
 * Order for a TG_R_AUTH route:
 *   1. Authorization header: "Bearer <credential>", at most TG_MAX_TOKEN
 *      bytes, one token of printable non-space ASCII. Anything else: 401.
 *   2. "tgk_..." -> API key: format check, lookup by its 12-char handle,
 *      SHA-256 compared in constant time, not revoked/expired, created after
 *      the owner's tokens_valid_after, owner not disabled; effective role =
 *      the lower of the key's and the owner's current role. The statements
 *      (one round trip for a key, one for a token, the rate-limit upsert)
 *      are lib/access_db.c: this file holds no SQL.
 *      Otherwise -> JWT: tg_auth_jwt_verify (docs/security.md "Access tokens"), then one query:
 *      user exists, not disabled, jti not blacklisted, iat not before
 *      tokens_valid_after, token role == the user's current role.
 *      A success may come from the worker's credential cache instead of the
 *      query (see "Worker caches" below); a failure never does.
 *   3. Rate limit: INSERT ... ON CONFLICT DO UPDATE ... RETURNING on the
 *      fixed window of the caller's bucket ("u:<id>" / "k:<id>"; "a:<addr>"
 *      for an anonymous caller a route admits, tg_access_anonymous), taking
 *      a lease of n requests at a time; limits by role from settings
 *      "rate_limits" (defaults in lib/access_db.h). 429 beyond.
 *   4. route->perm against the role: 403.
 * Every authentication failure is a 401 problem with WWW-Authenticate,
 * counted in metrics ("auth_failures") and audited (auth.reject). A database
 * failure is a 503, never an anonymous or weaker principal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fcgi/access.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "fcgi/route.h"
#include "lib/access_db.h"
#include "lib/arena.h"
#include "lib/audit.h"
#include "lib/auth.h"
#include "lib/config.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/inval.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/oauth.h"
#include "lib/parse.h"
#include "lib/perms.h"
#include "lib/status.h"

int
tg_access_can(const struct tg_req *req, unsigned perm)
{
	return req->who.authenticated && tg_access_role_can(req->who.role, perm);
}

/* 401: problem + WWW-Authenticate; metrics; audit (best effort). */
static int
deny(struct tg_req *req, struct tg_resp *resp, int presented, const char *why)
{
	tg_metrics_inc(req->ctx->metrics, "auth_failures");
	tg_log(TG_LOG_INFO, "auth.reject", "reason=%s remote=%s", tg_log_q(why),
	    tg_log_q(req->remote_addr));
	(void)tg_oauth_www_authenticate(req, resp, presented);
	memset(&req->who, 0, sizeof(req->who));
	/* security: aggregated per address, reason and interval */
	{
		struct tg_call c = tg_req_call(req);

		(void)tg_audit_reject_call(&c, "auth.reject", "denied", why);
	}
	return tg_resp_fail(req, resp, TG_E_UNAUTH, "authentication failed: %s", why);
}

/*
 * WWW-Authenticate of a 401: on an OAuth protected resource (/mcp) with
 * TOOLGATE_PUBLIC_URL set, it names the protected-resource metadata
 * (RFC 9728 section 5.1), which is how MCP clients find the
 * authorization server. handlers/mcp.c uses it for its own 401 too.
 */
int
tg_oauth_www_authenticate(struct tg_req *req, struct tg_resp *resp,
    int presented)
{
	char v[600], meta[TG_AUD_MAX + 64];
	const struct tg_config *cfg = req->ctx ? req->ctx->cfg : NULL;
	int n;

	if (req->route != NULL && (req->route->flags & TG_R_OAUTH) && cfg != NULL &&
	    tg_oauth_prm_url(cfg, meta, sizeof(meta)) == TG_OK)
		n = snprintf(v, sizeof(v), "Bearer realm=\"toolgate\"%s, resource_metadata=\"%s\"",
		    presented ? ", error=\"invalid_token\"" : "", meta);
	else
		n = snprintf(v, sizeof(v), "Bearer realm=\"toolgate\"%s",
		    presented ? ", error=\"invalid_token\"" : "");
	if (n < 0 || (size_t)n >= sizeof(v))
		return -TG_E_INTERNAL;
	return tg_resp_header(req, resp, "WWW-Authenticate", v);
}

/* "Bearer <tok>": scheme case-insensitive, one SP run, no trailing junk. */
static int
bearer(const char *h, const char **tok, size_t *len)
{
	const char *p;
	size_t n;

	if (h == NULL)
		return -1;
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return -2;
	p = h + 7;
	while (*p == ' ')
		p++;
	n = strlen(p);
	if (n == 0 || n > TG_MAX_TOKEN)
		return -2;
	for (size_t i = 0; i < n; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7f)
			return -2;
	*tok = p;
	*len = n;
	return 0;
}

static enum tg_role
lower_role(enum tg_role a, enum tg_role b)
{
	return a < b ? a : b;
}

static int rl_apply(struct tg_req *req, struct tg_resp *resp, const struct tg_rl *rl);

/*
 * Worker caches (lib/inval.h), so that a steady stream of MCP requests
 * costs no database round trip:
 *
 * Credentials: a successful authentication is remembered per credential
 * (API key handle + hash, or JWT jti + user + iat + role) with the epoch of
 * the "auth" domain. Any change to users, API keys, the JWT blacklist or the
 * settings moves that epoch (NOTIFY from sql/007_inval.sql, shared between
 * the workers of a master), and the TTL bounds everything else. Failures
 * are never cached: each one is checked against the database and audited.
 * API key expiry is checked on every hit.
 *
 * Rate limits: the count stays in PostgreSQL, but a worker takes a lease of
 * n requests at a time from its principal's window (one upsert adds n and
 * returns the total; the worker may use what fits under the limit). n
 * starts at 1 in each window and grows to (limit - count) / LEASE_DIV, at
 * most LEASE_MAX, so the limit is never exceeded and, near it, counting is
 * per request again. Requests leased but not used before the window ends
 * (or before an "auth" change) are lost: a principal served by several
 * workers may see 429 up to about (workers - 1) * 1.6% of its limit early.
 */
#define AUTH_CACHE 64
#define LEASES 64
#define TG_BUCKET_MAX 64	/* "a:" and an IPv6 address fit */
#define LEASE_DIV 64
#define LEASE_MAX 64

enum { AC_EMPTY, AC_APIKEY, AC_JWT };

static struct authent {
	int kind;
	char handle[TG_APIKEY_HANDLE_LEN + 1];
	char hash[TG_SHA256_HEX_LEN + 1];
	char jti[TG_JTI_LEN + 1];
	int64_t iat, user_id, api_key_id, expires_s;
	enum tg_role role;
	char username[72];
	struct tg_inval_stamp at;
} acache[AUTH_CACHE];
static unsigned acache_next;

static struct lease {
	char bucket[TG_BUCKET_MAX];
	int64_t limit, window, base, granted, used, last_hits, ends_ms;
	uint64_t epoch;
} leases[LEASES];
static unsigned lease_next;

/* The cached principal for an API key, or NULL. */
static const struct authent *
acache_apikey(const char *handle, const char *hash)
{
	for (int i = 0; i < AUTH_CACHE; i++) {
		const struct authent *e = &acache[i];

		if (e->kind == AC_APIKEY && strcmp(e->handle, handle) == 0 &&
		    tg_crypto_equal(e->hash, hash, TG_SHA256_HEX_LEN) &&
		    tg_inval_fresh(&e->at, TG_INV_AUTH) &&
		    (e->expires_s == 0 || (int64_t)time(NULL) < e->expires_s))
			return e;
	}
	return NULL;
}

static const struct authent *
acache_jwt(const struct tg_claims *c)
{
	for (int i = 0; i < AUTH_CACHE; i++) {
		const struct authent *e = &acache[i];

		if (e->kind == AC_JWT && e->user_id == c->user_id &&
		    e->iat == c->iat && e->role == c->role &&
		    tg_crypto_equal(e->jti, c->jti, TG_JTI_LEN) &&
		    tg_inval_fresh(&e->at, TG_INV_AUTH))
			return e;
	}
	return NULL;
}

/* Remembers a principal just read from the database under stamp at: in
 * the slot of the same credential, else the next one. key is a filled-in
 * entry without principal (kind, handle+hash or jti+user+iat+role). */
static void
acache_put(const struct authent *key, const struct tg_req *req,
    int64_t expires_s, const struct tg_inval_stamp *at)
{
	struct authent *e = NULL;

	if (tg_inval_ttl_ms() <= 0 || req->who.username == NULL)
		return;
	for (int i = 0; i < AUTH_CACHE && e == NULL; i++)
		if (acache[i].kind == key->kind && (key->kind == AC_APIKEY ?
		    strcmp(acache[i].handle, key->handle) == 0 &&
		    strcmp(acache[i].hash, key->hash) == 0 :
		    strcmp(acache[i].jti, key->jti) == 0 &&
		    acache[i].user_id == key->user_id && acache[i].iat == key->iat))
			e = &acache[i];
	if (e == NULL)
		e = &acache[acache_next++ % AUTH_CACHE];
	*e = *key;
	e->user_id = req->who.user_id;
	e->api_key_id = req->who.api_key_id;
	e->role = req->who.role;
	e->expires_s = expires_s;
	snprintf(e->username, sizeof(e->username), "%s", req->who.username);
	e->at = *at;
}

/* Fills req->who from a cache entry. */
static int
who_from(struct tg_req *req, const struct authent *e)
{
	memset(&req->who, 0, sizeof(req->who));
	req->who.user_id = e->user_id;
	req->who.api_key_id = e->api_key_id;
	req->who.role = e->role;
	req->who.username = tg_arena_strdup(req->a, e->username);
	if (req->who.username == NULL)
		return -TG_E_NOMEM;
	req->who.authenticated = 1;
	return TG_OK;
}

/* The rate-limit bucket of the caller: "k:<key id>", "u:<user id>", or
 * "a:<client address>" for an admitted anonymous caller. */
static void
bucket_of(const struct tg_req *req, char *buf, size_t cap)
{
	if (!req->who.authenticated)
		snprintf(buf, cap, "a:%s", req->remote_addr ? req->remote_addr : "");
	else if (req->who.api_key_id > 0)
		snprintf(buf, cap, "k:%lld", (long long)req->who.api_key_id);
	else
		snprintf(buf, cap, "u:%lld", (long long)req->who.user_id);
}

static struct lease *
lease_find(const char *bucket)
{
	for (int i = 0; i < LEASES; i++)
		if (strcmp(leases[i].bucket, bucket) == 0)
			return &leases[i];
	return NULL;
}

static int
lease_current(const struct lease *l)
{
	return l != NULL && tg_inval_ttl_ms() > 0 &&
	    tg_inval_now_ms() < l->ends_ms && l->epoch == tg_inval_epoch(TG_INV_AUTH);
}

/* How many requests the next upsert should take for bucket. */
static int64_t
lease_size(const char *bucket)
{
	const struct lease *l = lease_find(bucket);
	int64_t n;

	if (!lease_current(l))
		return 1;
	n = (l->limit - l->last_hits) / LEASE_DIV;
	return n < 1 ? 1 : n > LEASE_MAX ? LEASE_MAX : n;
}

/* Serves this request from the bucket's lease: 1 (rl filled) or 0. */
static int
lease_take(const char *bucket, struct tg_rl *rl)
{
	struct lease *l = lease_find(bucket);
	int64_t left;

	if (!lease_current(l) || l->used >= l->granted)
		return 0;
	l->used++;
	left = l->ends_ms - tg_inval_now_ms();
	rl->have = 1;
	rl->hits = l->base + l->used;
	rl->limit = l->limit;
	rl->window = l->window;
	rl->reset = (left + 999) / 1000;
	rl->reset_ms = left;
	return 1;
}

/*
 * An upsert added n to bucket and reported rl->hits in total: this request
 * takes the first of the n that fit under the limit, the lease keeps the
 * rest. rl->hits becomes this request's own count (over the limit when
 * none fit).
 */
static void
lease_store(const char *bucket, struct tg_rl *rl, int64_t n, uint64_t epoch)
{
	struct lease *l;
	int64_t base = rl->hits - n, granted = rl->limit - base;

	if (granted > n)
		granted = n;
	if (granted < 0)
		granted = 0;
	if (granted > 0)
		rl->hits = base + 1;
	if (tg_inval_ttl_ms() <= 0 || rl->reset_ms <= 0 || strlen(bucket) >= sizeof(l->bucket))
		return;
	if ((l = lease_find(bucket)) == NULL)
		l = &leases[lease_next++ % LEASES];
	snprintf(l->bucket, sizeof(l->bucket), "%s", bucket);
	l->limit = rl->limit;
	l->window = rl->window;
	l->base = base;
	l->granted = granted;
	l->used = granted > 0 ? 1 : 0;
	l->last_hits = base + n;
	l->ends_ms = tg_inval_now_ms() + rl->reset_ms;
	l->epoch = epoch;
}

static int
auth_apikey(struct tg_req *req, struct tg_resp *resp, const char *tok, size_t len,
    struct tg_rl *rl)
{
	char handle[TG_APIKEY_HANDLE_LEN + 1], hash[TG_SHA256_HEX_LEN + 1];
	char bucket[TG_BUCKET_MAX];
	struct tg_apikey_row row;
	const struct authent *hit;
	struct authent key;
	struct tg_inval_stamp st;
	int rc;

	rl->have = 0;
	if (tg_auth_apikey_parse(tok, len, handle, sizeof(handle), hash,
	    sizeof(hash)) != TG_OK)
		return deny(req, resp, 1, "malformed API key");
	if ((hit = acache_apikey(handle, hash)) != NULL)
		return who_from(req, hit);
	tg_inval_stamp(&st, TG_INV_AUTH);
	/* one round trip: the key, its owner and, when valid, its count */
	if ((rc = tg_access_apikey_lookup(req->ctx->db, handle, hash, &row)) != TG_OK)
		return rc;
	if (!row.found || strlen(row.hash) != TG_SHA256_HEX_LEN ||
	    !tg_crypto_equal(row.hash, hash, TG_SHA256_HEX_LEN))
		return deny(req, resp, 1, "unknown API key");
	if (row.revoked || row.stale)
		return deny(req, resp, 1, "API key revoked");
	if (row.expired)
		return deny(req, resp, 1, "API key expired");
	if (row.disabled)
		return deny(req, resp, 1, "user disabled");
	if (row.krole == TG_ROLE_NONE || row.urole == TG_ROLE_NONE)
		return deny(req, resp, 1, "no valid role");
	memset(&req->who, 0, sizeof(req->who));
	req->who.api_key_id = row.id;
	req->who.user_id = row.user_id;
	req->who.username = tg_arena_strdup(req->a, row.username);
	req->who.role = lower_role(row.krole, row.urole);
	*rl = row.rl;
	if (rl->have) {
		bucket_of(req, bucket, sizeof(bucket));
		lease_store(bucket, rl, 1, st.epoch);
	}
	memset(&key, 0, sizeof(key));
	key.kind = AC_APIKEY;
	memcpy(key.handle, handle, sizeof(key.handle));
	memcpy(key.hash, hash, sizeof(key.hash));
	acache_put(&key, req, row.have_exp ? row.exp_s : 0, &st);
	if (row.touch)
		(void)tg_access_apikey_touch(req->ctx->db, row.id);
	if (req->who.username == NULL)
		return -TG_E_NOMEM;
	req->who.authenticated = 1;
	return TG_OK;
}

static int
auth_jwt(struct tg_req *req, struct tg_resp *resp, const char *tok, size_t len)
{
	const struct tg_config *cfg = req->ctx->cfg;
	struct tg_claims c;
	const char *why = NULL;
	struct tg_jwt_row row;
	const struct authent *hit;
	struct authent key;
	struct tg_inval_stamp st;
	int rc;

	rc = tg_auth_jwt_verify(cfg->jwt_secret, cfg->jwt_secret_len,
	    cfg->jwt_issuer, tok, len, (int64_t)time(NULL), &c, &why);
	if (rc == -TG_E_NOMEM)
		return rc;
	if (rc != TG_OK)
		return deny(req, resp, 1, why ? why : "invalid token");
	/* security: an OAuth access token (lib/oauth.h) is for /mcp of this
	 * server only: never the REST API, never another resource. */
	if (c.aud[0] != '\0') {
		char res[TG_AUD_MAX];

		if (!(req->route->flags & TG_R_OAUTH))
			return deny(req, resp, 1, "an OAuth access token is for /mcp only;"
			    " the REST API takes a console session or an API key");
		if (tg_oauth_resource(cfg, res, sizeof(res)) != TG_OK ||
		    strcmp(res, c.aud) != 0)
			return deny(req, resp, 1, "the token's audience is another resource");
	}
	if ((hit = acache_jwt(&c)) != NULL) {
		if ((rc = who_from(req, hit)) != TG_OK)
			return rc;
		req->who.jti = tg_arena_strdup(req->a, c.jti);
		req->who.token_exp = c.exp;
		return req->who.jti ? TG_OK : -TG_E_NOMEM;
	}
	tg_inval_stamp(&st, TG_INV_AUTH);
	if ((rc = tg_access_jwt_lookup(req->ctx->db, c.user_id, c.jti, c.iat,
	    &row)) != TG_OK)
		return rc;
	if (!row.found)
		return deny(req, resp, 1, "unknown user");
	if (row.disabled)
		return deny(req, resp, 1, "user disabled");
	if (row.revoked)
		return deny(req, resp, 1, "token revoked");
	/* An OAuth grant may act with a lower role than the user's (chosen at
	 * consent); a role change bumps tokens_valid_after either way. */
	if (c.aud[0] != '\0' ? c.role > row.role : row.role != c.role)
		return deny(req, resp, 1, "role changed; sign in again");
	memset(&req->who, 0, sizeof(req->who));
	req->who.user_id = c.user_id;
	req->who.role = c.role;
	req->who.username = tg_arena_strdup(req->a, row.username);
	req->who.jti = tg_arena_strdup(req->a, c.jti);
	req->who.token_exp = c.exp;
	if (req->who.username == NULL || req->who.jti == NULL)
		return -TG_E_NOMEM;
	req->who.authenticated = 1;
	if (strlen(c.jti) == TG_JTI_LEN) {
		memset(&key, 0, sizeof(key));
		key.kind = AC_JWT;
		memcpy(key.jti, c.jti, sizeof(key.jti));
		key.iat = c.iat;
		key.user_id = c.user_id;
		acache_put(&key, req, 0, &st);
	}
	return TG_OK;
}

/* The role whose limit counts the caller: its own, or the viewer's for an
 * anonymous caller. */
static enum tg_role
limit_role(const struct tg_req *req)
{
	return req->who.authenticated ? req->who.role : TG_ROLE_VIEWER;
}

static int
rate_limit(struct tg_req *req, struct tg_resp *resp)
{
	char bucket[TG_BUCKET_MAX];
	struct tg_rl rl;
	uint64_t epoch;
	int64_t n;
	int rc;

	bucket_of(req, bucket, sizeof(bucket));
	if (lease_take(bucket, &rl))
		return rl_apply(req, resp, &rl);
	epoch = tg_inval_epoch(TG_INV_AUTH);
	n = lease_size(bucket);
	if ((rc = tg_access_rl_upsert(req->ctx->db, bucket, limit_role(req), n, &rl)) != TG_OK)
		return rc;
	lease_store(bucket, &rl, n, epoch);
	return rl_apply(req, resp, &rl);
}

/*
 * security: n more units for the caller of an admitted request (a JSON-RPC
 * batch of n + 1 messages), from the worker's lease when it holds n, else
 * straight from the shared count. Beyond the limit the whole request is
 * refused (429); the units stay counted, like any refused request's.
 */
int
tg_access_charge(struct tg_req *req, struct tg_resp *resp, int64_t n)
{
	char bucket[TG_BUCKET_MAX];
	struct lease *l;
	struct tg_rl rl;
	int64_t left;
	int rc;

	if (n <= 0 || !(req->who.authenticated || req->who.anonymous) ||
	    req->ctx == NULL || req->ctx->db == NULL)
		return TG_OK;
	bucket_of(req, bucket, sizeof(bucket));
	l = lease_find(bucket);
	if (lease_current(l) && l->granted - l->used >= n) {
		l->used += n;
		left = l->ends_ms - tg_inval_now_ms();
		rl.have = 1;
		rl.hits = l->base + l->used;
		rl.limit = l->limit;
		rl.window = l->window;
		rl.reset = (left + 999) / 1000;
		rl.reset_ms = left;
		return rl_apply(req, resp, &rl);
	}
	if ((rc = tg_access_rl_upsert(req->ctx->db, bucket, limit_role(req), n, &rl)) != TG_OK)
		return rc;
	return rl_apply(req, resp, &rl);
}

/*
 * security: an anonymous caller admitted by the route's own policy (/mcp
 * with TOOLGATE_MCP_AUTH=none, loopback only) is counted like any
 * principal: per client address, under the viewer limit (what it may do
 * is at most a viewer's). 429 beyond, 503 when the database fails.
 */
int
tg_access_anonymous(struct tg_req *req, struct tg_resp *resp)
{
	if (req->who.authenticated)
		return TG_OK;
	req->who.anonymous = 1;
	/* no database handle at all (unit tests' contexts; a worker always
	 * has one, connected or not): nothing to count with, as in
	 * tg_access_charge */
	if (req->ctx == NULL || req->ctx->db == NULL)
		return TG_OK;
	return rate_limit(req, resp);
}

/* Sets (or replaces: a batch's charge after the request's own) a header. */
static int
rl_header(struct tg_req *req, struct tg_resp *resp, const char *name,
    const char *val)
{
	const char *v;

	for (int i = 0; i < resp->nheaders; i++) {
		if (strcasecmp(resp->headers[i].name, name) == 0) {
			if ((v = tg_arena_strdup(req->a, val)) == NULL)
				return -TG_E_NOMEM;
			resp->headers[i].value = v;
			return TG_OK;
		}
	}
	return tg_resp_header(req, resp, name, val);
}

/* RateLimit-* headers, and 429 with Retry-After beyond the limit. */
static int
rl_apply(struct tg_req *req, struct tg_resp *resp, const struct tg_rl *rl)
{
	char val[32];
	int64_t hits = rl->hits, limit = rl->limit, window = rl->window,
	    reset = rl->reset;
	int rc;

	if (reset < 1)
		reset = 1;
	if (reset > window)
		reset = window;
	snprintf(val, sizeof(val), "%lld", (long long)limit);
	rc = rl_header(req, resp, "RateLimit-Limit", val);
	snprintf(val, sizeof(val), "%lld", (long long)(hits >= limit ? 0 : limit - hits));
	rc = rc ? rc : rl_header(req, resp, "RateLimit-Remaining", val);
	snprintf(val, sizeof(val), "%lld", (long long)reset);
	rc = rc ? rc : rl_header(req, resp, "RateLimit-Reset", val);
	if (rc != TG_OK)
		return rc;
	if (hits > limit) {
		tg_metrics_inc(req->ctx->metrics, "rate_limited");
		if ((rc = rl_header(req, resp, "Retry-After", val)) != TG_OK)
			return rc;
		return tg_resp_fail(req, resp, TG_E_RATE,
		    "rate limit of %lld requests per %lld s exceeded for this %s; retry in %lld s",
		    (long long)limit, (long long)window,
		    req->who.api_key_id > 0 ? "API key" : "user", (long long)reset);
	}
	return TG_OK;
}

int
tg_access_check(struct tg_req *req, struct tg_resp *resp)
{
	const struct tg_route *r = req->route;
	const char *h, *tok = NULL;
	struct tg_rl rl;
	size_t len = 0;
	int rc;

	memset(&req->who, 0, sizeof(req->who));
	if (r == NULL || !(r->flags & (TG_R_AUTH | TG_R_AUTH_OPTIONAL)))
		return TG_OK;
	h = tg_req_param(req, "HTTP_AUTHORIZATION");
	/* Optional authentication: anonymous without credentials; presented
	 * credentials are verified exactly like on TG_R_AUTH routes. */
	if (!(r->flags & TG_R_AUTH) && h == NULL)
		return TG_OK;
	if (req->ctx->db == NULL || req->ctx->cfg == NULL)
		return -TG_E_UNAVAIL;
	rc = bearer(h, &tok, &len);
	if (rc == -1)
		return deny(req, resp, 0, "no credentials (Authorization: Bearer <token>)");
	if (rc != 0)
		return deny(req, resp, 1, "malformed Authorization header");
	rl.have = 0;
	if (len > 4 && strncmp(tok, TG_APIKEY_PREFIX, 4) == 0)
		rc = auth_apikey(req, resp, tok, len, &rl);
	else
		rc = auth_jwt(req, resp, tok, len);
	if (rc != TG_OK) {
		memset(&req->who, 0, sizeof(req->who));
		return rc;
	}
	if ((rc = rl.have ? rl_apply(req, resp, &rl) : rate_limit(req, resp)) != TG_OK)
		return rc;
	if (!tg_access_role_can(req->who.role, r->perm))
		return tg_resp_fail(req, resp, TG_E_FORBIDDEN,
		    "the %s role may not do this", tg_role_name(req->who.role));
	return TG_OK;
}
