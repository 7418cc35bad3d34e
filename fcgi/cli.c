/*
 * cli.c - the table of subcommands beyond the base ones in main.c.
 */
#include <stddef.h>

#include "fcgi/cli.h"
#include "fcgi/cli_user.h"
#include "fcgi/cli_ops.h"

const struct tg_cli_cmd tg_cli_extra_commands[] = {
	{"maintenance", tg_cmd_maintenance, "delete expired tokens, sessions, rate windows and old logs (for cron)"},
	{"backup", tg_cmd_backup, "pg_dump to [--dir DIR] with a checksum, keeping [--keep N] dumps"},
	{"restore", tg_cmd_restore, "restore FILE.dump into the empty database named by PG*, verified"},
	{"user", tg_cli_user, "accounts: user add|list|passwd|disable|enable (see docs/security.md)"},
	{NULL, NULL, NULL},
};
