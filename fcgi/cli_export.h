/*
 * cli_export.h - `toolgate export [FILE]` and `toolgate import [--keep-status]
 * [--no-settings] FILE|-` (lib/export.h has the document and the rules).
 */
#ifndef TG_CLI_EXPORT_H
#define TG_CLI_EXPORT_H

int tg_cmd_export(int argc, char **argv);
int tg_cmd_import(int argc, char **argv);

#endif
