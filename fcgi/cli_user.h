/*
 * cli_user.h - `toolgate user ...` (fcgi/cli_user.c).
 */
#ifndef TG_CLI_USER_H
#define TG_CLI_USER_H

int tg_cli_user(int argc, char **argv);

#endif
