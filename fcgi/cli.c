/*
 * cli.c - the table of subcommands beyond the base ones in main.c.
 */
#include <stddef.h>

#include "fcgi/cli.h"
#include "fcgi/cli_user.h"
#include "fcgi/cli_ops.h"
#include "fcgi/cli_lifecycle.h"
#include "fcgi/cli_export.h"
#include "fcgi/cli_packages.h"

const struct tg_cli_cmd tg_cli_extra_commands[] = {
	{"maintenance", tg_cmd_maintenance, "delete expired tokens, sessions, rate windows and old logs (for cron)"},
	{"backup", tg_cmd_backup, "pg_dump to [--dir DIR] with a checksum, keeping [--keep N] dumps"},
	{"restore", tg_cmd_restore, "restore FILE.dump into the empty database named by PG*, verified"},
	{"user", tg_cli_user, "accounts: user add|list|passwd|disable|enable (see docs/security.md)"},
	{"rotate-key", tg_cmd_rotate_key, "re-encrypt all server secrets from TOOLGATE_ENCRYPTION_KEY_OLD to TOOLGATE_ENCRYPTION_KEY"},
	{"secrets-verify", tg_cmd_secrets_verify, "check every server secret opens with TOOLGATE_ENCRYPTION_KEY"},
	{"export", tg_cmd_export, "write servers, tools, versions, settings and secret names as JSON to [FILE] or stdout"},
	{"import", tg_cmd_import, "import an export document (all or nothing): import [--keep-status] [--no-settings] FILE|-"},
	{"packages", tg_cmd_packages, "package jobs without the master: packages run-jobs [--once] (resolve and install; --once for cron)"},
	{NULL, NULL, NULL},
};
