/*
 * settings.c - runtime settings over defaults (see settings.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/audit.h"
#include "lib/auth.h"	/* TG_REFRESH_REUSE_* */
#include "lib/db.h"
#include "lib/settings.h"
#include "lib/status.h"

static const char *const default_modules[] = {
	"json", "math", "re", "datetime", "time", "random", "string",
	"collections", "itertools", "functools", "typing", "dataclasses",
	"decimal", "fractions", "statistics", "base64", "hashlib", "hmac",
	"uuid", "urllib.parse", "textwrap", "enum", "asyncio", "operator",
	"copy", "bisect", "heapq", "unicodedata", NULL,
};

struct range {
	const char *name;
	json_int_t lo, hi, def;
};

static const struct range limit_ranges[] = {
	{"timeout_ms", 100, 600000, 30000},
	{"memory_mb", 32, 65536, 256},
	{"max_procs", 1, 4096, 64},
	{"output_bytes", 1024, 64LL << 20, 100 * 1024},
	{"code_bytes", 1024, 1024 * 1024, 256 * 1024},
	{NULL, 0, 0, 0},
};

static const struct range rate_ranges[] = {
	{"admin", 1, 1000000, 600},
	{"developer", 1, 1000000, 300},
	{"viewer", 1, 1000000, 120},
	{NULL, 0, 0, 0},
};

/* Top-level integer settings (read directly by the MCP gateway). */
static const struct range scalar_ranges[] = {
	{"mcp_session_idle_seconds", 60, 2592000, 3600},
	{"log_max_bytes", 256, 16777216, 16384},
	/* lib/sessions.c: retry of a rotated refresh token (0: off) */
	{"refresh_reuse_interval_seconds", 0, TG_REFRESH_REUSE_MAX, TG_REFRESH_REUSE_DEFAULT},
	{NULL, 0, 0, 0},
};

static const struct range *
scalar_range(const char *k)
{
	const struct range *r;

	for (r = scalar_ranges; r->name; r++)
		if (strcmp(r->name, k) == 0)
			return r;
	return NULL;
}

static json_t *
ranges_default(const struct range *r)
{
	json_t *o = json_object();

	for (; o && r->name; r++)
		json_object_set_new(o, r->name, json_integer(r->def));
	return o;
}

static json_t *
defaults(void)
{
	json_t *d, *mods;
	int i;

	mods = json_array();
	for (i = 0; mods && default_modules[i]; i++)
		json_array_append_new(mods, json_string(default_modules[i]));
	d = json_pack("{s:o, s:I, s:o, s:o, s:s}", "allowed_modules", mods,
	    "log_retention_days", (json_int_t)30, "limits", ranges_default(limit_ranges),
	    "rate_limits", ranges_default(rate_ranges), "approval_reset_on",
	    "code+description+schema");
	if (d != NULL) {
		json_t *sc = ranges_default(scalar_ranges);

		if (sc == NULL || json_object_update(d, sc) != 0) {
			json_decref(d);
			d = NULL;
		}
		json_decref(sc);
	}
	return d;
}

int
tg_settings_effective(struct tg_db *db, json_t **out)
{
	PGresult *res = NULL;
	json_t *d = NULL, *v, *cur;
	json_error_t je;
	int i, rc;

	if ((rc = tg_db_exec(db, "SELECT key, value::text FROM settings", 0,
	    NULL, &res)) != TG_OK)
		goto out;
	if ((d = defaults()) == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	for (i = 0; i < PQntuples(res); i++) {
		const char *k = PQgetvalue(res, i, 0);

		cur = json_object_get(d, k);
		if (cur == NULL)
			continue; /* someone else's key */
		v = json_loads(PQgetvalue(res, i, 1), JSON_DECODE_ANY, &je);
		if (v == NULL)
			continue;
		if (json_is_object(cur) && json_is_object(v))
			json_object_update_existing(cur, v);
		else
			json_object_set(d, k, v);
		json_decref(v);
	}
	*out = d;
	d = NULL;
out:
	json_decref(d);
	PQclear(res);
	return rc;
}

int
tg_settings_value(struct tg_db *db, const char *key, json_t **out)
{
	json_t *all = NULL, *v;
	int rc;

	if ((rc = tg_settings_effective(db, &all)) != TG_OK)
		return rc;
	v = json_object_get(all, key);
	if (v == NULL) {
		json_decref(all);
		return -TG_E_NOTFOUND;
	}
	*out = json_incref(v);
	json_decref(all);
	return TG_OK;
}

int
tg_settings_reset_code_only(struct tg_db *db, int *code_only)
{
	json_t *v = NULL;
	int rc;

	if ((rc = tg_settings_value(db, "approval_reset_on", &v)) != TG_OK)
		return rc;
	*code_only = json_is_string(v) && strcmp(json_string_value(v), "code") == 0;
	json_decref(v);
	return TG_OK;
}

int
tg_settings_valid_module(const char *s)
{
	size_t n = strlen(s);
	int start = 1;

	if (n == 0 || n > 128)
		return 0;
	for (; *s; s++) {
		if (*s == '.') {
			if (start)
				return 0;
			start = 1;
			continue;
		}
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    *s == '_' || (!start && *s >= '0' && *s <= '9')))
			return 0;
		start = 0;
	}
	return !start;
}

static void
check_ranges(json_t *v, const char *prefix, const struct range *ranges,
    struct tg_err *err)
{
	const struct range *r;
	const char *k;
	json_t *x;
	char field[96];

	if (!json_is_object(v)) {
		tg_err_field(err, prefix, "must be an object");
		return;
	}
	json_object_foreach(v, k, x) {
		snprintf(field, sizeof(field), "%s.%s", prefix, k);
		for (r = ranges; r->name && strcmp(r->name, k) != 0; r++)
			;
		if (r->name == NULL)
			tg_err_field(err, field, "unknown member");
		else if (!json_is_integer(x) || json_integer_value(x) < r->lo ||
		    json_integer_value(x) > r->hi)
			tg_err_field(err, field, "must be an integer from %lld to %lld",
			    (long long)r->lo, (long long)r->hi);
	}
}

static int
validate(json_t *in, struct tg_err *err)
{
	const struct range *r;
	const char *k;
	json_t *v, *m;
	size_t i;
	char field[64];

	if (!json_is_object(in))
		return tg_err_field(err, "body", "must be a JSON object");
	json_object_foreach(in, k, v) {
		if (strcmp(k, "allowed_modules") == 0) {
			if (!json_is_array(v) || json_array_size(v) > 1000) {
				tg_err_field(err, k, "must be an array of at most 1000 module names");
				continue;
			}
			json_array_foreach(v, i, m) {
				if (!json_is_string(m) ||
				    !tg_settings_valid_module(json_string_value(m))) {
					snprintf(field, sizeof(field), "allowed_modules[%zu]", i);
					tg_err_field(err, field, "must be a Python module name such as 'json' or 'urllib.parse'");
				}
			}
		} else if (strcmp(k, "log_retention_days") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > 3650)
				tg_err_field(err, k, "must be an integer from 1 to 3650");
		} else if ((r = scalar_range(k)) != NULL) {
			if (!json_is_integer(v) || json_integer_value(v) < r->lo ||
			    json_integer_value(v) > r->hi)
				tg_err_field(err, k, "must be an integer from %lld to %lld",
				    (long long)r->lo, (long long)r->hi);
		} else if (strcmp(k, "limits") == 0) {
			check_ranges(v, k, limit_ranges, err);
		} else if (strcmp(k, "rate_limits") == 0) {
			check_ranges(v, k, rate_ranges, err);
		} else if (strcmp(k, "approval_reset_on") == 0) {
			if (!json_is_string(v) ||
			    (strcmp(json_string_value(v), "code") != 0 &&
			    strcmp(json_string_value(v), "code+description+schema") != 0))
				tg_err_field(err, k, "must be \"code\" or \"code+description+schema\"");
		} else {
			tg_err_field(err, k, "unknown setting");
		}
	}
	return err->status ? -err->status : TG_OK;
}

int
tg_settings_store(const struct tg_call *c, json_t *in, struct tg_err *err)
{
	const char *k, *p[3];
	json_t *v, *cur = NULL, *merged;
	char actor[24], *txt = NULL;
	int rc;

	if ((rc = validate(in, err)) != TG_OK)
		return rc;
	if ((rc = tg_settings_effective(c->db, &cur)) != TG_OK)
		return tg_err_from(err, rc);
	p[2] = tg_svc_actor(c, actor, sizeof(actor));
	json_object_foreach(in, k, v) {
		merged = json_object_get(cur, k);
		if (json_is_object(v) && json_is_object(merged)) {
			json_object_update(merged, v);
			v = merged;
		}
		free(txt);
		txt = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (txt == NULL) {
			rc = -TG_E_NOMEM;
			break;
		}
		p[0] = k;
		p[1] = txt;
		rc = tg_db_exec(c->db,
		    "INSERT INTO settings (key, value, updated_at, updated_by)"
		    " VALUES ($1, $2::jsonb, now(), $3::bigint) ON CONFLICT (key)"
		    " DO UPDATE SET value = EXCLUDED.value, updated_at = now(),"
		    " updated_by = EXCLUDED.updated_by", 3, p, NULL);
		if (rc != TG_OK)
			break;
	}
	free(txt);
	json_decref(cur);
	return tg_err_from(err, rc);
}

int
tg_settings_allow_module(const struct tg_call *c, const char *module)
{
	json_t *mods = NULL, *m, *in = NULL;
	struct tg_err err;
	size_t i;
	int rc;

	tg_err_init(&err);
	if ((rc = tg_settings_value(c->db, "allowed_modules", &mods)) != TG_OK)
		return rc;
	json_array_foreach(mods, i, m) {
		if (strcmp(json_string_value(m), module) == 0)
			goto out;
	}
	json_array_append_new(mods, json_string(module));
	in = json_pack("{s:O}", "allowed_modules", mods);
	rc = in ? tg_settings_store(c, in, &err) : -TG_E_NOMEM;
out:
	tg_err_clear(&err);
	json_decref(in);
	json_decref(mods);
	return rc;
}

int
tg_settings_get(const struct tg_call *c, json_t **out, struct tg_err *err)
{
	int rc;

	if ((rc = tg_svc_need(c, TG_P_READ, err)) != TG_OK)
		return rc;
	return tg_err_from(err, tg_settings_effective(c->db, out));
}

static int
patch_tx(const struct tg_call *c, void *in, struct tg_err *err)
{
	int rc;

	if ((rc = tg_settings_store(c, in, err)) != TG_OK)
		return rc;
	return tg_audit_call(c, "settings.update", "settings", TG_AUDIT_OK, in);
}

int
tg_settings_patch(const struct tg_call *c, json_t *in, json_t **out,
    struct tg_err *err)
{
	int rc;

	if ((rc = tg_svc_need(c, TG_P_SETTINGS, err)) != TG_OK)
		return rc;
	if ((rc = tg_call_tx(c, patch_tx, in, err)) != TG_OK)
		return rc;
	return tg_err_from(err, tg_settings_effective(c->db, out));
}
