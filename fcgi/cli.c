/*
 * cli.c - the table of subcommands beyond the base ones in main.c.
 */
#include <stddef.h>

#include "fcgi/cli.h"

const struct tg_cli_cmd tg_cli_extra_commands[] = {
	{NULL, NULL, NULL},
};
