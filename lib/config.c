/*
 * config.c - environment -> struct tg_config, validated once in the master
 * (documented in docs/configuration.md). Every rejection is one line that
 * names the variable and what is wrong with it, never its value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/config.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/slots.h"
#include "lib/status.h"
#include "lib/trace.h"

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -TG_E_BADREQ;
}

static int
copy_str(char *dst, size_t cap, const char *src)
{
	int n = snprintf(dst, cap, "%s", src);
	return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

static int
get_int(tg_getenv_fn get, const char *name, int64_t lo, int64_t hi,
    int64_t def, int64_t *out, char *err, size_t errlen)
{
	const char *v = get(name);

	if (v == NULL || *v == '\0') {
		*out = def;
		return 0;
	}
	if (tg_parse_i64(v, lo, hi, out) != 0)
		return fail(err, errlen, "%s must be an integer between %lld and %lld",
		    name, (long long)lo, (long long)hi);
	return 0;
}

static int
get_bool(tg_getenv_fn get, const char *name, int def, int *out, char *err,
    size_t errlen)
{
	const char *v = get(name);

	if (v == NULL || *v == '\0')
		*out = def;
	else if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") ||
	    !strcmp(v, "on"))
		*out = 1;
	else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") ||
	    !strcmp(v, "off"))
		*out = 0;
	else
		return fail(err, errlen, "%s must be 1 or 0", name);
	return 0;
}

/* An integer or boolean setting: its variable, range, default and field. */
struct num_var {
	const char *name;
	int64_t lo, hi, def;
	size_t off;		/* offsetof(struct tg_config, ...) */
	int is_bool;		/* an int field read by get_bool (lo, hi unused) */
};

#define INT_VAR(n, l, h, d, f) {n, l, h, d, offsetof(struct tg_config, f), 0}
#define BOOL_VAR(n, d, f) {n, 0, 1, d, offsetof(struct tg_config, f), 1}

/* Reads the n settings of v into c in order; the first bad one fails. */
static int
get_nums(tg_getenv_fn get, const struct num_var *v, size_t n,
    struct tg_config *c, char *err, size_t errlen)
{
	char *base = (char *)c;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if (v[i].is_bool)
			rc = get_bool(get, v[i].name, (int)v[i].def,
			    (int *)(void *)(base + v[i].off), err, errlen);
		else
			rc = get_int(get, v[i].name, v[i].lo, v[i].hi, v[i].def,
			    (int64_t *)(void *)(base + v[i].off), err, errlen);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The settings that need no more than a range check, in the order read. */
static const struct num_var plain_nums[] = {
	INT_VAR("TOOLGATE_MAX_BODY", 1024, TG_MAX_BODY_CEILING, TG_MAX_BODY_DEFAULT,
	    max_body),
	BOOL_VAR("TOOLGATE_TEST_ROUTES", 0, test_routes),
	INT_VAR("TOOLGATE_MAINTENANCE_INTERVAL", 0, 86400, 60, maintenance_interval_s),
	INT_VAR("TOOLGATE_CACHE_TTL_MS", 0, 60000, 2000, cache_ttl_ms),
	BOOL_VAR("TOOLGATE_SANDBOX_ALLOW_DEGRADED", 0, sandbox_allow_degraded),
	INT_VAR("TOOLGATE_SANDBOX_TIMEOUT_MS", 100, 600000, 30000, sandbox_timeout_ms),
	INT_VAR("TOOLGATE_SANDBOX_MEMORY_MB", 16, 65536, 256, sandbox_memory_mb),
	INT_VAR("TOOLGATE_SANDBOX_OUTPUT_BYTES", 1024, 16 * 1024 * 1024, 100 * 1024,
	    sandbox_output_bytes),
	BOOL_VAR("TOOLGATE_SANDBOX_WARM", 1, sandbox_warm),
	INT_VAR("TOOLGATE_SANDBOX_WARM_CALLS", 0, 1000000000, 1000, sandbox_warm_calls),
	INT_VAR("TOOLGATE_SANDBOX_WARM_MINUTES", 0, 10080, 10, sandbox_warm_minutes),
};

/* The waits and timeouts, read after the tool slots. */
static const struct num_var timeout_nums[] = {
	INT_VAR("TOOLGATE_TOOL_QUEUE_WAIT_MS", 0, 600000,
	    TG_SLOTS_QUEUE_WAIT_DEFAULT_MS, tool_queue_wait_ms),
	INT_VAR("TOOLGATE_DB_STATEMENT_TIMEOUT_MS", 0, 3600000,
	    TG_DB_STATEMENT_TIMEOUT_DEFAULT_MS, db_statement_timeout_ms),
	INT_VAR("TOOLGATE_DB_LOCK_TIMEOUT_MS", 0, 3600000,
	    TG_DB_LOCK_TIMEOUT_DEFAULT_MS, db_lock_timeout_ms),
	INT_VAR("TOOLGATE_DB_IDLE_TX_TIMEOUT_MS", 0, 3600000,
	    TG_DB_IDLE_TX_TIMEOUT_DEFAULT_MS, db_idle_tx_timeout_ms),
	INT_VAR("TOOLGATE_CLIENT_WRITE_TIMEOUT_MS", 100, 600000, 10000,
	    client_write_timeout_ms),
};

#define NUMS(a) (a), sizeof(a) / sizeof((a)[0])

/* The setting into dst (cap bytes), "" when unset. */
static int
get_str(tg_getenv_fn get, const char *name, char *dst, size_t cap, char *err,
    size_t errlen)
{
	const char *v = get(name);

	if (copy_str(dst, cap, v ? v : "") != 0)
		return fail(err, errlen, "%s is too long", name);
	return 0;
}

/* An http(s) URL into dst (cap bytes), "" when unset. */
static int
get_url(tg_getenv_fn get, const char *name, char *dst, size_t cap, char *err,
    size_t errlen)
{
	int rc;

	if ((rc = get_str(get, name, dst, cap, err, errlen)) != 0)
		return rc;
	if (dst[0] && strncmp(dst, "http://", 7) != 0 &&
	    strncmp(dst, "https://", 8) != 0)
		return fail(err, errlen, "%s must be an http(s) URL", name);
	return 0;
}

/* An absolute path into dst (cap bytes), def when unset. */
static int
get_path(tg_getenv_fn get, const char *name, const char *def, char *dst,
    size_t cap, char *err, size_t errlen)
{
	const char *v = get(name);

	if (copy_str(dst, cap, v && *v ? v : def) != 0)
		return fail(err, errlen, "%s is too long", name);
	if (dst[0] != '/')
		return fail(err, errlen, "%s must be an absolute path", name);
	return 0;
}

/* An encryption key (32 bytes as 64 hex characters), when set; hint ends
 * the rejection. */
static int
get_key(tg_getenv_fn get, const char *name, unsigned char *key, int *have,
    const char *hint, char *err, size_t errlen)
{
	const char *v = get(name);

	if (v == NULL || *v == '\0')
		return 0;
	if (tg_parse_hex(v, key, 32) != 0)
		return fail(err, errlen,
		    "%s must be exactly 64 hex characters (32 bytes)%s", name, hint);
	*have = 1;
	return 0;
}

static int
parse_origins(struct tg_config *c, const char *v, char *err, size_t errlen)
{
	char *p, *tok, *save = NULL;

	c->n_origins = 0;
	if (v == NULL || *v == '\0')
		return 0;
	if (copy_str(c->origins_buf, sizeof(c->origins_buf), v) != 0)
		return fail(err, errlen, "TOOLGATE_ALLOWED_ORIGINS is too long");
	for (p = c->origins_buf; (tok = strtok_r(p, ", ", &save)) != NULL; p = NULL) {
		if (strncmp(tok, "http://", 7) != 0 && strncmp(tok, "https://", 8) != 0)
			return fail(err, errlen,
			    "TOOLGATE_ALLOWED_ORIGINS: each origin must start with http:// or https:// (got %s)",
			    tg_log_q(tok));
		if (tok[strlen(tok) - 1] == '/')
			return fail(err, errlen,
			    "TOOLGATE_ALLOWED_ORIGINS: origins have no trailing slash (got %s)",
			    tg_log_q(tok));
		if (c->n_origins >= TG_MAX_ORIGINS)
			return fail(err, errlen, "TOOLGATE_ALLOWED_ORIGINS: at most %d origins",
			    TG_MAX_ORIGINS);
		c->origins[c->n_origins++] = tok;
	}
	return 0;
}

/*
 * reliability: tool slots and queue (lib/slots.h) and the per-connection
 * database timeouts. Slots + queue must leave at least one worker free for
 * the control plane (health, REST, tools/list) when there are two or more.
 */
/*
 * TOOLGATE_PUBLIC_URL: scheme://host[:port], nothing after. The issuer and
 * the audience of OAuth tokens come from here, never from the Host header
 * of a request (docs/configuration.md). http:// only for a loopback host.
 */
static int
public_url(struct tg_config *c, const char *v, char *err, size_t errlen)
{
	const char *host;
	size_t i, n;

	c->public_url[0] = '\0';
	if (v == NULL || *v == '\0')
		return TG_OK;
	n = strlen(v);
	if (n >= sizeof(c->public_url))
		return fail(err, errlen, "TOOLGATE_PUBLIC_URL is too long");
	if (strncmp(v, "https://", 8) == 0)
		host = v + 8;
	else if (strncmp(v, "http://", 7) == 0)
		host = v + 7;
	else
		return fail(err, errlen, "TOOLGATE_PUBLIC_URL must start with https:// (or http:// for a loopback host)");
	if (*host == '\0')
		return fail(err, errlen, "TOOLGATE_PUBLIC_URL has no host");
	for (i = 0; host[i]; i++) {
		char ch = host[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '.' || ch == '-' || ch == ':' || ch == '[' || ch == ']'))
			return fail(err, errlen,
			    "TOOLGATE_PUBLIC_URL must be scheme://host[:port] in lower case, without a path, query or trailing slash (got %s)", v);
	}
	if (host == v + 7 && strncmp(host, "127.", 4) != 0 &&
	    strcmp(host, "localhost") != 0 && strncmp(host, "localhost:", 10) != 0 &&
	    strncmp(host, "[::1]", 5) != 0)
		return fail(err, errlen, "TOOLGATE_PUBLIC_URL: http:// is for a loopback host only; use https://");
	memcpy(c->public_url, v, n + 1);
	return TG_OK;
}

static int
tools_and_db(struct tg_config *c, tg_getenv_fn get, char *err, size_t errlen)
{
	int64_t n;
	int rc, defs, defq;

	tg_slots_defaults(c->workers, &defs, &defq);
	if ((rc = get_int(get, "TOOLGATE_TOOL_SLOTS", 1, TG_SLOTS_MAX, defs, &n,
	    err, errlen)) != 0)
		return rc;
	c->tool_slots = (int)n;
	if (defq > c->workers - 1 - c->tool_slots)
		defq = c->workers - 1 - c->tool_slots;
	if (defq < 0)
		defq = 0;
	if ((rc = get_int(get, "TOOLGATE_TOOL_QUEUE", 0, TG_SLOTS_MAX, defq, &n,
	    err, errlen)) != 0)
		return rc;
	c->tool_queue = (int)n;
	if (c->workers > 1 && c->tool_slots + c->tool_queue >= c->workers)
		return fail(err, errlen,
		    "TOOLGATE_TOOL_SLOTS + TOOLGATE_TOOL_QUEUE (%d + %d) must be below TOOLGATE_WORKERS (%d): at least one worker must stay free for /health, REST and tools/list",
		    c->tool_slots, c->tool_queue, c->workers);
	return get_nums(get, NUMS(timeout_nums), c, err, errlen);
}

/* Third-party packages (docs/packages.md): all optional. */
static int
packages_config(struct tg_config *c, tg_getenv_fn get, char *err, size_t errlen)
{
	int rc;

	if ((rc = get_url(get, "TOOLGATE_PIP_INDEX_URL", c->pip_index_url,
	    sizeof(c->pip_index_url), err, errlen)) != 0 ||
	    (rc = get_url(get, "TOOLGATE_OSV_URL", c->osv_url, sizeof(c->osv_url),
	    err, errlen)) != 0)
		return rc;
	/* hosts the index's file links point to (pypi.org: files.pythonhosted.org) */
	if ((rc = get_str(get, "TOOLGATE_PIP_EXTRA_HOSTS", c->pip_extra_hosts,
	    sizeof(c->pip_extra_hosts), err, errlen)) != 0)
		return rc;
	if (strspn(c->pip_extra_hosts, "abcdefghijklmnopqrstuvwxyz0123456789.-:,") !=
	    strlen(c->pip_extra_hosts))
		return fail(err, errlen, "TOOLGATE_PIP_EXTRA_HOSTS must be comma-separated"
		    " lower-case host[:port] names");
	if ((rc = get_str(get, "TOOLGATE_PACKAGES_DIR", c->packages_dir,
	    sizeof(c->packages_dir), err, errlen)) != 0)
		return rc;
	if (c->packages_dir[0] && c->packages_dir[0] != '/')
		return fail(err, errlen, "TOOLGATE_PACKAGES_DIR must be an absolute path");
	if (strncmp(c->packages_dir, "/tmp/", 5) == 0 || strcmp(c->packages_dir, "/tmp") == 0)
		return fail(err, errlen, "TOOLGATE_PACKAGES_DIR must not be under /tmp (the"
		    " sandbox mounts its new root there)");
	/* the installer's own download cap (the egress proxy's download
	 * mode), MiB; a tool's egress keeps its 5 MiB */
	return get_int(get, "TOOLGATE_PIP_MAX_DOWNLOAD", 1, 4096, 256,
	    &c->pip_max_download_mb, err, errlen);
}

/* The stream process's settings (docs/configuration.md). */
static const struct num_var stream_nums[] = {
	INT_VAR("TOOLGATE_STREAMS_MAX", 1, 1000000, 10000, streams_max),
	INT_VAR("TOOLGATE_STREAMS_PER_PRINCIPAL", 1, 1000000, 64, streams_per_principal),
	INT_VAR("TOOLGATE_STREAM_HEARTBEAT_S", 1, 60, 15, stream_heartbeat_s),
	INT_VAR("TOOLGATE_STREAM_COALESCE_MS", 0, 10000, 50, stream_coalesce_ms),
};

/* TOOLGATE_STREAM_SOCKET: a path, "off", or by default the FastCGI
 * socket's path + ".stream". */
static int
stream_config(struct tg_config *c, tg_getenv_fn get, char *err, size_t errlen)
{
	const char *v = get("TOOLGATE_STREAM_SOCKET");
	int n;

	if (v != NULL && strcmp(v, "off") == 0)
		c->stream_socket[0] = '\0';
	else if (v != NULL && *v) {
		if (v[0] != '/')
			return fail(err, errlen, "TOOLGATE_STREAM_SOCKET must be an absolute path or off");
		if (copy_str(c->stream_socket, sizeof(c->stream_socket), v) != 0)
			return fail(err, errlen,
			    "TOOLGATE_STREAM_SOCKET is too long (a unix socket path must be under 108 bytes)");
	} else if (c->socket_path[0]) {
		n = snprintf(c->stream_socket, sizeof(c->stream_socket), "%s.stream",
		    c->socket_path);
		if (n < 0 || (size_t)n >= sizeof(c->stream_socket))
			return fail(err, errlen,
			    "TOOLGATE_SOCKET is too long to derive TOOLGATE_STREAM_SOCKET from; set it (or off)");
	}
	return get_nums(get, NUMS(stream_nums), c, err, errlen);
}

/* Observability (issue #23, docs/operations.md "Tracing"): all optional. */
static const struct num_var obs_nums[] = {
	INT_VAR("TOOLGATE_OTLP_TIMEOUT_MS", 100, 60000, 2000, otlp_timeout_ms),
	INT_VAR("TOOLGATE_DB_HEALTH_INTERVAL_S", 0, 3600, 15, db_health_interval_s),
};

static int
obs_config(struct tg_config *c, tg_getenv_fn get, char *err, size_t errlen)
{
	const char *v;
	size_t n;

	v = get("TOOLGATE_OTLP_ENDPOINT");
	if (copy_str(c->otlp_endpoint, sizeof(c->otlp_endpoint) - 16, v ? v : "") != 0)
		return fail(err, errlen, "TOOLGATE_OTLP_ENDPOINT is too long");
	if (c->otlp_endpoint[0] && strncmp(c->otlp_endpoint, "http://", 7) != 0 &&
	    strncmp(c->otlp_endpoint, "https://", 8) != 0)
		return fail(err, errlen, "TOOLGATE_OTLP_ENDPOINT must be an http(s) URL");
	if (strpbrk(c->otlp_endpoint, " \t\r\n") != NULL)
		return fail(err, errlen, "TOOLGATE_OTLP_ENDPOINT must not contain spaces");
	/* a base URL (no path) gets the OTLP/HTTP traces path */
	if (c->otlp_endpoint[0] &&
	    strchr(strchr(c->otlp_endpoint, ':') + 3, '/') == NULL) {
		n = strlen(c->otlp_endpoint);
		snprintf(c->otlp_endpoint + n, sizeof(c->otlp_endpoint) - n, "/v1/traces");
	}
	v = get("TOOLGATE_OTLP_SERVICE_NAME");
	if (copy_str(c->otlp_service, sizeof(c->otlp_service), v && *v ? v : "toolgate") != 0)
		return fail(err, errlen, "TOOLGATE_OTLP_SERVICE_NAME is too long");
	if (strspn(c->otlp_service, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
	    strlen(c->otlp_service))
		return fail(err, errlen, "TOOLGATE_OTLP_SERVICE_NAME may hold letters, digits, '.', '_' and '-' only");
	v = get("TOOLGATE_OTLP_SAMPLE_RATIO");
	c->otlp_sample_ppm = 1000000;
	if (v && *v && (c->otlp_sample_ppm = tg_trace_ratio_ppm(v)) < 0)
		return fail(err, errlen, "TOOLGATE_OTLP_SAMPLE_RATIO must be a number from 0 to 1");
	return get_nums(get, NUMS(obs_nums), c, err, errlen);
}

int
tg_config_load(struct tg_config *c, int need, tg_getenv_fn get, char *err,
    size_t errlen)
{
	const char *v;
	int64_t n;
	long ncpu;
	int rc;

	memset(c, 0, sizeof(*c));

	v = get("TOOLGATE_LOG_LEVEL");
	c->log_level = TG_LOG_INFO;
	if (v && *v && tg_log_level_parse(v, &c->log_level) != 0)
		return fail(err, errlen, "TOOLGATE_LOG_LEVEL must be err, warn, info or debug");

	v = get("TOOLGATE_SOCKET");
	if (v && *v) {
		if (v[0] != '/')
			return fail(err, errlen, "TOOLGATE_SOCKET must be an absolute path");
		if (copy_str(c->socket_path, sizeof(c->socket_path), v) != 0)
			return fail(err, errlen,
			    "TOOLGATE_SOCKET is too long (a unix socket path must be under 108 bytes)");
	}

	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 1)
		ncpu = 1;
	if ((rc = get_int(get, "TOOLGATE_WORKERS", 1, TG_MAX_WORKERS,
	    ncpu * 2 > TG_MAX_WORKERS ? TG_MAX_WORKERS : ncpu * 2, &n, err, errlen)) != 0)
		return rc;
	c->workers = (int)n;

	v = get("TOOLGATE_USER");
	if (copy_str(c->user, sizeof(c->user), v && *v ? v : "nobody") != 0)
		return fail(err, errlen, "TOOLGATE_USER is too long");
	v = get("TOOLGATE_PIDFILE");
	if (v && *v && copy_str(c->pidfile, sizeof(c->pidfile), v) != 0)
		return fail(err, errlen, "TOOLGATE_PIDFILE is too long");

	if ((rc = get_key(get, "TOOLGATE_ENCRYPTION_KEY", c->enc_key, &c->have_enc_key,
	    "; generate one with: openssl rand -hex 32", err, errlen)) != 0)
		return rc;
	if (!c->have_enc_key && (need & (TG_CFG_SERVE | TG_CFG_SECRETS)))
		return fail(err, errlen,
		    "TOOLGATE_ENCRYPTION_KEY is required (64 hex characters; generate one with: openssl rand -hex 32)");
	if ((rc = get_key(get, "TOOLGATE_ENCRYPTION_KEY_OLD", c->enc_key_old,
	    &c->have_enc_key_old, "", err, errlen)) != 0)
		return rc;

	v = get("TOOLGATE_JWT_SECRET");
	if (v && *v) {
		size_t len = strlen(v);
		if (len < 32)
			return fail(err, errlen, "TOOLGATE_JWT_SECRET must be at least 32 bytes");
		if (len > sizeof(c->jwt_secret))
			return fail(err, errlen, "TOOLGATE_JWT_SECRET must be at most %zu bytes",
			    sizeof(c->jwt_secret));
		memcpy(c->jwt_secret, v, len);
		c->jwt_secret_len = len;
	} else if (c->have_enc_key) {
		/* HMAC-SHA256(enc_key, label): independent of the AES use. */
		unsigned int mdlen = 0;
		static const char label[] = "toolgate-jwt-secret-v1";
		if (HMAC(EVP_sha256(), c->enc_key, sizeof(c->enc_key),
		    (const unsigned char *)label, sizeof(label) - 1, c->jwt_secret,
		    &mdlen) == NULL || mdlen != 32)
			return fail(err, errlen, "cannot derive the JWT secret");
		c->jwt_secret_len = mdlen;
		c->jwt_derived = 1;
	}
	v = get("TOOLGATE_JWT_ISSUER");
	if (copy_str(c->jwt_issuer, sizeof(c->jwt_issuer), v && *v ? v : "toolgate") != 0)
		return fail(err, errlen, "TOOLGATE_JWT_ISSUER is too long");

	if ((rc = public_url(c, get("TOOLGATE_PUBLIC_URL"), err, errlen)) != 0)
		return rc;

	v = get("TOOLGATE_MCP_AUTH");
	if (v == NULL || *v == '\0' || !strcmp(v, "required"))
		c->mcp_auth_required = 1;
	else if (!strcmp(v, "none"))
		c->mcp_auth_required = 0;
	else
		return fail(err, errlen, "TOOLGATE_MCP_AUTH must be required or none");

	if ((rc = parse_origins(c, get("TOOLGATE_ALLOWED_ORIGINS"), err, errlen)) != 0)
		return rc;

	if ((rc = get_path(get, "TOOLGATE_SANDBOX_HELPER",
	    "/usr/local/lib/toolgate/toolgate-sandbox", c->sandbox_helper,
	    sizeof(c->sandbox_helper), err, errlen)) != 0 ||
	    (rc = get_path(get, "TOOLGATE_SANDBOX_PYTHON", "/usr/bin/python3.11",
	    c->sandbox_python, sizeof(c->sandbox_python), err, errlen)) != 0)
		return rc;
	if ((rc = get_nums(get, NUMS(plain_nums), c, err, errlen)) != 0)
		return rc;
	if ((rc = packages_config(c, get, err, errlen)) != 0)
		return rc;
	if ((rc = tools_and_db(c, get, err, errlen)) != 0)
		return rc;
	if ((rc = stream_config(c, get, err, errlen)) != 0)
		return rc;
	if ((rc = obs_config(c, get, err, errlen)) != 0)
		return rc;

	if ((need & TG_CFG_SERVE) && c->socket_path[0] == '\0')
		return fail(err, errlen,
		    "TOOLGATE_SOCKET is required to serve FastCGI (absolute path, under 108 bytes)");
	return TG_OK;
}

int
tg_config_origin_allowed(const struct tg_config *c, const char *origin)
{
	int i;

	if (origin == NULL)
		return 0;
	for (i = 0; i < c->n_origins; i++)
		if (strcmp(c->origins[i], origin) == 0)
			return 1;
	return 0;
}

void
tg_config_wipe(struct tg_config *c)
{
	OPENSSL_cleanse(c->enc_key, sizeof(c->enc_key));
	OPENSSL_cleanse(c->enc_key_old, sizeof(c->enc_key_old));
	OPENSSL_cleanse(c->jwt_secret, sizeof(c->jwt_secret));
}
