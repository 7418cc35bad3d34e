/*
 * cli.h - admin subcommands. main.c has the base commands; other modules
 * add theirs to tg_cli_extra_commands[] in fcgi/cli.c. What the
 * subcommand modules share is fcgi/cli_base.h (below this header).
 */
#ifndef TG_CLI_H
#define TG_CLI_H

struct tg_cli_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);	/* argv[0] is the command name */
	const char *help;
};

extern const struct tg_cli_cmd tg_cli_extra_commands[];

#endif
