/*
 * cli_lifecycle.h - lifecycle subcommands: rotate-key, secrets-verify.
 */
#ifndef TG_CLI_LIFECYCLE_H
#define TG_CLI_LIFECYCLE_H

/* Re-encrypts every server secret from TOOLGATE_ENCRYPTION_KEY_OLD to
 * TOOLGATE_ENCRYPTION_KEY in one transaction (all or nothing). */
int tg_cmd_rotate_key(int argc, char **argv);
/* Opens every secret with TOOLGATE_ENCRYPTION_KEY only; exit 1 if any
 * fails (names printed, never values). */
int tg_cmd_secrets_verify(int argc, char **argv);

#endif
