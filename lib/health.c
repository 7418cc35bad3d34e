/*
 * health.c - readiness (health.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/call.h"
#include "lib/clock.h"
#include "lib/config.h"	/* struct tg_config: c->cfg */
#include "lib/db.h"
#include "lib/health.h"
#include "lib/sandbox_client.h"
#include "lib/status.h"

/* The last probe of this process: the helper is spawned at most every 10 s. */
static struct {
	int64_t at_us;
	int rc;
	enum tg_sandbox_isolation level;
	char reason[160];
} probe;

static void
sandbox_probe(const struct tg_config *cfg)
{
	struct tg_sandbox_opts o;
	json_t *details = NULL;
	int64_t now = tg_now_us();

	if (probe.at_us != 0 && now - probe.at_us < 10 * 1000000)
		return;
	memset(&o, 0, sizeof(o));
	o.helper_path = cfg->sandbox_helper;
	o.python_path = cfg->sandbox_python;
	o.allow_degraded = cfg->sandbox_allow_degraded;
	o.diag = probe.reason;
	o.diag_len = sizeof(probe.reason);
	probe.reason[0] = '\0';
	probe.rc = tg_sandbox_probe(&o, &probe.level, &details);
	if (probe.rc == TG_OK && probe.reason[0] == '\0') {
		const char *r = json_string_value(json_object_get(details, "reason"));
		snprintf(probe.reason, sizeof(probe.reason), "%s", r ? r : "");
	}
	json_decref(details);
	probe.at_us = now;
}

int
tg_health_ready(const struct tg_call *c, json_t **out, struct tg_err *err)
{
	const struct tg_config *cfg = c->cfg;

	if (c->db == NULL || tg_db_exec(c->db, "SELECT 1", 0, NULL, NULL) != TG_OK)
		return tg_err_set(err, TG_E_DB, "the database is not reachable");
	if (cfg == NULL)
		return tg_err_set(err, TG_E_INTERNAL, "no configuration");
	sandbox_probe(cfg);
	if (probe.rc != TG_OK)
		return tg_err_set(err, TG_E_UNAVAIL,
		    "the sandbox helper %s cannot run%s%s", cfg->sandbox_helper,
		    probe.reason[0] ? ": " : "", probe.reason);
	if (probe.level == TG_SANDBOX_UNAVAILABLE ||
	    (probe.level == TG_SANDBOX_DEGRADED && !cfg->sandbox_allow_degraded))
		return tg_err_set(err, TG_E_UNAVAIL,
		    "tools cannot run: sandbox isolation is %s%s%s (see docs/sandbox.md;"
		    " TOOLGATE_SANDBOX_ALLOW_DEGRADED=1 accepts degraded isolation)",
		    tg_sandbox_isolation_name(probe.level),
		    probe.reason[0] ? ": " : "", probe.reason);
	*out = json_pack("{s:s, s:{s:s, s:s}}", "status", "ready", "checks",
	    "database", "ok", "sandbox", tg_sandbox_isolation_name(probe.level));
	return *out != NULL ? TG_OK : tg_err_from(err, -TG_E_NOMEM);
}

int
tg_health_aborted_commit(const struct tg_call *c, int lost)
{
	int rc;

	if ((rc = tg_db_begin(c->db)) != TG_OK)
		return rc;
	if (lost) {
		/* the server ends the session idle in this transaction */
		(void)tg_db_exec(c->db, "SET LOCAL idle_in_transaction_session_timeout = 1",
		    0, NULL, NULL);
		usleep(300000);
		(void)tg_db_exec(c->db, "SELECT 1", 0, NULL, NULL); /* finds it gone */
		(void)tg_db_exec(c->db, "SELECT 2", 0, NULL, NULL);
	} else {
		(void)tg_db_exec(c->db, "SELECT 1 / 0", 0, NULL, NULL);
	}
	return tg_db_commit(c->db);
}

int
tg_health_raise(const struct tg_call *c, const char *sqlstate)
{
	/* fixed statements only: the code is one of a known few */
	static const struct {
		const char *code, *sql;
	} raise[] = {
		{"40001", "DO $$ BEGIN RAISE EXCEPTION 'test' USING ERRCODE = '40001'; END $$"},
		{"40P01", "DO $$ BEGIN RAISE EXCEPTION 'test' USING ERRCODE = '40P01'; END $$"},
	};

	for (size_t i = 0; i < sizeof(raise) / sizeof(raise[0]); i++)
		if (sqlstate != NULL && strcmp(sqlstate, raise[i].code) == 0)
			return tg_db_exec(c->db, raise[i].sql, 0, NULL, NULL);
	return -TG_E_BADREQ;
}
