/*
 * cli_base.c - what the subcommand modules share (cli_base.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/cli_base.h"
#include "lib/call.h"
#include "lib/config.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/status.h"

static const char *
env_get(const char *name)
{
	return getenv(name);
}

/* The one definition, used by main.c and the CLI modules. */
int
tg_cli_load_config(struct tg_config *cfg, int need)
{
	char err[512];

	if (tg_config_load(cfg, need, env_get, err, sizeof(err)) != TG_OK) {
		fprintf(stderr, "toolgate: configuration error: %s\n"
				"toolgate: the settings come from the environment (TOOLGATE_*, PG*): "
				"see 'toolgate help' and docs/configuration.md\n",
		    err);
		return -1;
	}
	tg_log_set_level(cfg->log_level);
	return 0;
}

struct tg_db *
tg_cli_open_db(const char *name, const char *hint)
{
	struct tg_db *db = tg_db_open(name);

	if (db == NULL || !tg_db_ok(db)) {
		fprintf(stderr, "toolgate: cannot connect to PostgreSQL %s\n",
		    hint ? hint : "(check PGHOST, PGPORT, PGUSER, PGDATABASE)");
		tg_db_close(db);
		return NULL;
	}
	return db;
}

struct tg_db *
tg_cli_connect(struct tg_config *cfg, int need, const char *name,
    const char *hint)
{
	struct tg_db *db;

	if (tg_cli_load_config(cfg, need) != 0)
		return NULL;
	if ((db = tg_cli_open_db(name, hint)) == NULL)
		tg_config_wipe(cfg);
	return db;
}

void
tg_cli_call(struct tg_call *c, struct tg_principal *who,
    const struct tg_config *cfg, struct tg_db *db)
{
	memset(who, 0, sizeof(*who));
	who->authenticated = 1;
	who->role = TG_ROLE_ADMIN;
	who->username = "cli";
	memset(c, 0, sizeof(*c));
	c->db = db;
	c->cfg = cfg;
	c->who = who;
	c->actor = "cli";
	c->request_id = "";
	c->client_addr = "local";
}
