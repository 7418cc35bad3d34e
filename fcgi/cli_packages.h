/*
 * cli_packages.h - `toolgate packages run-jobs [--once]` (cli_packages.c).
 */
#ifndef TG_CLI_PACKAGES_H
#define TG_CLI_PACKAGES_H

int tg_cmd_packages(int argc, char **argv);

#endif
