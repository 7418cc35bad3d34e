/* cli_ops.h - operations subcommands (see cli_ops.c). */
#ifndef TG_CLI_OPS_H
#define TG_CLI_OPS_H

int tg_cmd_maintenance(int argc, char **argv);
int tg_cmd_backup(int argc, char **argv);
int tg_cmd_restore(int argc, char **argv);

#endif
