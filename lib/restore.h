/*
 * restore.h - the database side of `toolgate restore` (fcgi/cli_ops.c
 * checks the dump's checksum and runs pg_restore between the two calls).
 */
#ifndef TG_RESTORE_H
#define TG_RESTORE_H

#include <stdint.h>

#include "lib/err.h"

struct tg_call;

/*
 * Before pg_restore: the target database must be empty (409 otherwise,
 * naming the number of tables) and the application role, cluster-wide,
 * must exist so the dump's GRANTs apply: created NOLOGIN when missing and
 * granted to the current user. role: [a-z0-9_]+ (422 otherwise).
 */
int tg_restore_prepare(const struct tg_call *c, const char *role,
    struct tg_err *err);

/* After pg_restore: the counts of tables and applied migrations; 422
 * "does not look like a toolgate database" when they cannot be read. */
int tg_restore_verify(const struct tg_call *c, int64_t *ntables,
    int64_t *nmigrations, struct tg_err *err);

#endif
