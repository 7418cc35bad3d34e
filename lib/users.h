/*
 * users.h - the user-account service, shared by the REST handlers
 * (the users.* rows of lib/ops.c) and the CLI (`toolgate user ...`, fcgi/cli_user.c).
 *
 * Every rule about accounts lives here and only here:
 *   - only an admin may manage accounts (the CLI acts as the local
 *     operator: a principal with the admin role, audited as "cli");
 *   - usernames follow tg_users_name_ok(), roles are admin|developer|viewer,
 *     passwords 12..1024 bytes (hashed with Argon2id, never returned);
 *   - the last enabled admin can be neither demoted, disabled nor deleted
 *     (409), checked under a row lock so two concurrent changes cannot both
 *     pass;
 *   - a change of role, disabling or a new password revokes the user's
 *     existing tokens (tokens_valid_after);
 *   - every change is audited in its own transaction: user.create,
 *     user.update (detail: role, disabled, password_changed), user.delete,
 *     target "user:<id>", outcome "ok".
 *
 * user = {id, username, role, disabled, created_at, updated_at,
 * last_login_at}. Functions return 0 or -TG_E_* with err filled
 * (lib/err.h); *out receives a new reference on success.
 */
#ifndef TG_USERS_H
#define TG_USERS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/err.h"

struct tg_call;
struct tg_page;

struct tg_user_new {
	const char *username;
	const char *password;
	size_t password_len;
	const char *role;
	int disabled;
};

struct tg_user_patch {
	const char *role;	/* NULL: unchanged */
	int disabled;		/* -1: unchanged, 0 or 1 */
	const char *password;	/* NULL: unchanged */
	size_t password_len;
};

/* [A-Za-z0-9][A-Za-z0-9_.@-]{0,63} */
int tg_users_name_ok(const char *s);

/* One page ordered by id: {"items":[user...], "next_cursor": "<id>"|null}
 * (the keyset page of lib/crud.h: pg->cursor is the last id of the
 * previous page). */
int tg_users_list(const struct tg_call *c, const struct tg_page *pg,
    json_t **out, struct tg_err *err);
int tg_users_get(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err);
/* The id of a username (case-insensitive); 404 when there is none. */
int tg_users_find(const struct tg_call *c, const char *username, int64_t *id,
    struct tg_err *err);
int tg_users_create(const struct tg_call *c, const struct tg_user_new *u,
    json_t **out, struct tg_err *err);
int tg_users_update(const struct tg_call *c, int64_t id,
    const struct tg_user_patch *p, json_t **out, struct tg_err *err);
int tg_users_delete(const struct tg_call *c, int64_t id, struct tg_err *err);

#endif
