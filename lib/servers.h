/*
 * servers.h - servers: named groups of tools (service layer, see svc.h).
 *
 * Server object:
 *   {"id":1, "name":"weather", "description":"", "tool_prefix":"weather__",
 *    "default_prefix":true, "status":"stopped"|"running",
 *    "allowed_hosts":["api.example.com"], "tool_count":0,
 *    "created_by":1|null, "created_at":"...", "updated_at":"..."}
 *
 * Inputs (strict: unknown members are 422):
 *   create {"name" (c, [a-z0-9][a-z0-9_-]{0,47}), "description"?,
 *           "tool_prefix"? (string [A-Za-z0-9_.-]{0,64}, "" allowed; null or
 *           absent = "<name>__")}
 *   update {"name"?, "description"?, "tool_prefix"? (null = default)}
 * Errors: 404 unknown id, 409 duplicate name / exposed-name clash with
 * another running server / delete while running, 422 invalid fields.
 * Roles: list/get viewer; create/update/delete/start/stop developer.
 */
#ifndef TG_SERVERS_H
#define TG_SERVERS_H

#include <stdint.h>

#include <jansson.h>

#include "lib/svc.h"

int tg_servers_list(const struct tg_call *c, const struct tg_page *pg,
    json_t **out, struct tg_err *err);
int tg_servers_get(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err);

/*
 * Starts a page of a server's children (tools, sources, secrets): the
 * caller holds TG_P_READ, the page request is valid (400) and the server
 * exists (404 "no server with id N"). Fills ks (lib/crud.h), ks->owner
 * with the server id as a statement parameter.
 */
struct tg_keyset;
int tg_servers_child_page(const struct tg_call *c, int64_t server_id,
    const struct tg_page *pg, struct tg_keyset *ks, struct tg_err *err);
/* The whole page of a server's children: sql takes $1 the server id, $2
 * the keyset cursor, $3 the row limit and, when np is 4, $4 extra (which
 * may be NULL). */
int tg_servers_child_list(const struct tg_call *c, int64_t server_id,
    const struct tg_page *pg, const char *sql, int np, const char *extra,
    json_t **out, struct tg_err *err);
int tg_servers_create(const struct tg_call *c, json_t *in, json_t **out,
    struct tg_err *err);
int tg_servers_update(const struct tg_call *c, int64_t id, json_t *in,
    json_t **out, struct tg_err *err);
int tg_servers_delete(const struct tg_call *c, int64_t id, struct tg_err *err);
/* start refuses (409) when an exposed name (prefix + tool name) of this
 * server equals one of another running server, or starts with the
 * reserved "toolgate_" of the management tools. */
int tg_servers_start(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err);
int tg_servers_stop(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err);

/* Resolves "12" (id) or "weather" (name) to an id; 404 in err. */
int tg_servers_resolve(const struct tg_call *c, const char *ref, int64_t *id,
    struct tg_err *err);
/* Resolves a tool: "12" (id), "weather__forecast" (its exposed name: the
 * served one when a running server has it; 409 when only several stopped
 * servers' tools have it) or "weather/forecast" (server name or id, tool
 * name); 404 in err naming the accepted forms. */
int tg_tools_resolve(const struct tg_call *c, const char *ref, int64_t *id,
    struct tg_err *err);
/* Resolves a source: "12" (id) or "weather/upstream" (server, source name). */
int tg_sources_resolve(const struct tg_call *c, const char *ref, int64_t *id,
    struct tg_err *err);

/* Inside a transaction: 409 in err when exposed names of server id (all
 * its tools, or only the one named `only` when non-NULL, under prefix
 * `prefix`, NULL = the stored one) would clash with those of other running
 * servers. Takes the lifecycle advisory lock. */
int tg_servers_check_clash(const struct tg_call *c, int64_t id,
    const char *prefix, const char *only, struct tg_err *err);

/* Inside a transaction: locks server id FOR UPDATE (update) or FOR SHARE,
 * reading cols (SQL, a constant) into *res; 404 "no server with id N" in
 * err when it does not exist. */
int tg_servers_lock(const struct tg_call *c, int64_t id, int update,
    const char *cols, PGresult **res, struct tg_err *err);

#endif
