/*
 * cli_base.h - what the subcommand modules (fcgi/cli_*.c, fcgi/main.c)
 * share: the configuration loader, the database connection and the CLI's
 * service context. The subcommand table is fcgi/cli.h; this header is
 * below it, so no subcommand module includes the table that lists it.
 */
#ifndef TG_CLI_BASE_H
#define TG_CLI_BASE_H

struct tg_call;
struct tg_config;
struct tg_db;
struct tg_principal;

/* Loads and validates the environment; prints the one-line error. */
int tg_cli_load_config(struct tg_config *cfg, int need);

/*
 * Connects to PostgreSQL as application_name name; NULL (with the one-line
 * message on stderr, hint when given, else the PG* variables to check) when
 * the database cannot be reached. Close with tg_db_close().
 */
struct tg_db *tg_cli_open_db(const char *name, const char *hint);

/* tg_cli_load_config(cfg, need), then tg_cli_open_db(name, hint): NULL when
 * either fails (cfg wiped then); otherwise the caller wipes cfg. */
struct tg_db *tg_cli_connect(struct tg_config *cfg, int need, const char *name,
    const char *hint);

/*
 * The CLI's service context: the local operator acting with the admin role,
 * audited as actor "cli" from client address "local". who is filled (it must
 * outlive c); cfg may be NULL.
 */
void tg_cli_call(struct tg_call *c, struct tg_principal *who,
    const struct tg_config *cfg, struct tg_db *db);

#endif
