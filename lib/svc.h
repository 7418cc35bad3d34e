/*
 * svc.h - what the lifecycle service layer (servers, tools, approvals,
 * secrets, settings, export) shares, and how REST and MCP call it.
 *
 * Every service function has the shape
 *
 *     int tg_<module>_<verb>(const struct tg_call *c, ..., json_t **out,
 *         struct tg_err *err);
 *
 * c (lib/call.h) supplies the database (c->db), the configuration
 * (c->cfg), the caller (c->who) and the request id for the audit trail;
 * REST handlers build it with tg_req_call(), the MCP management tools from
 * their request, the CLI itself. Input is a JSON object (the REST body, or
 * an MCP tool's arguments), validated strictly. On success the function
 * returns 0 and *out (when given) receives a new reference the caller
 * owns. On failure it returns -TG_E_* and err holds the status, a one-line
 * detail and, for TG_E_UNPROCESSABLE (and import conflicts), field errors
 * [{"field":..., "message":...}]. The service checks the caller's
 * permission bits itself (tg_svc_need; the REST route's permission bit is
 * a second, earlier check), so the MCP management tools behave exactly
 * like REST.
 *
 * Lists take a struct tg_page and return {"items":[...],
 * "next_cursor": "<opaque>"|null}.
 */
#ifndef TG_SVC_H
#define TG_SVC_H

#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "lib/call.h"
#include "lib/err.h"

/* 0 when the caller of c holds every bit of perm (tg_call_can), else
 * -TG_E_UNAUTH when unauthenticated or -TG_E_FORBIDDEN naming the least
 * role that holds perm ("this needs the developer (or admin) role"). */
int tg_svc_need(const struct tg_call *c, unsigned perm, struct tg_err *err);
/* tg_svc_need(c, perm), then json_unpack_ex(in, flags, fmt, ...): a body
 * that does not match fmt is a 422 on the field "body" with jansson's text.
 * TG_OK, or the negative status (err set). */
int tg_svc_unpack(const struct tg_call *c, unsigned perm, struct tg_err *err,
    json_t *in, size_t flags, const char *fmt, ...);
/* Parses a positive decimal id; -TG_E_NOTFOUND (with detail naming what)
 * when it is not one. */
int tg_svc_parse_id(const char *s, const char *what, int64_t *out,
    struct tg_err *err);

/* The caller's user id as a decimal string in buf (cap >= 24), or NULL
 * when there is none (CLI, imports): a SQL NULL parameter. */
const char *tg_svc_actor(const struct tg_call *c, char *buf, size_t cap);

/* Runs sql; each row's column col is JSON text appended (parsed) to a new
 * array *out. */
int tg_svc_query_array(struct tg_db *db, const char *sql, int n,
    const char *const *params, json_t **out);
/* Runs sql expecting at most one row whose first column is JSON text:
 * *out gets the parsed value, or -TG_E_NOTFOUND when there is no row. */
int tg_svc_query_object(struct tg_db *db, const char *sql, int n,
    const char *const *params, json_t **out);
/* The same for the one parameter $1 = id (a bigint): a row by its id. */
int tg_svc_query_id(struct tg_db *db, const char *sql, int64_t id,
    json_t **out);
/* Wraps a page: takes rows (fetched with limit+1), cuts it to limit and
 * sets next_cursor from key(item) of the last item kept. */
int tg_svc_page_wrap(json_t *rows, int64_t limit, const char *cursor_key,
    json_t **out);
/* Effective limit (default/max applied) and the integer cursor (0 when
 * none; -TG_E_BADREQ for a malformed one). */
int tg_svc_page_args(const struct tg_page *pg, int64_t *limit,
    int64_t *after, struct tg_err *err);

/*
 * One audited change of one row in its own transaction: sql (with a
 * RETURNING clause) with params p[0..n-1]; 404 with the message missing
 * when it touches no row; then the audit record (action on target,
 * "success") and the commit. Any failure rolls back. 0 or -TG_E_* with
 * err set.
 */
int tg_svc_exec_audited(const struct tg_call *c, const char *sql, int n,
    const char *const *p, const char *action, const char *target,
    const char *missing, struct tg_err *err);

/* Duplicates a PGresult value into a malloc'd string (NULL on OOM). */
char *tg_svc_strdup_val(const PGresult *res, int row, int col);

/* Field-level validation of an input object before json_unpack_ex, so
 * that 422 answers name the field: spec is "name:T[!]" items separated by
 * commas, T one of s (string), S (string or null), o (object), O (object
 * or null), I (integer), b (boolean), a (array), * (any); '!' marks a
 * required member. Unknown members are field errors too. The spec is read
 * into field specs for tg_jfields_check (lib/jschema.h), the one checker;
 * operation bodies are checked from their rows in lib/ops.c, this is for
 * the parts of nested documents (lib/export.c). */
int tg_svc_check_object(json_t *in, const char *spec, struct tg_err *err);

/* Name rules (also enforced by CHECK constraints in sql/003). */
int tg_svc_valid_server_name(const char *s);
int tg_svc_valid_tool_name(const char *s);
int tg_svc_valid_prefix(const char *s);

#endif
