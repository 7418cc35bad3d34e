/*
 * crud.h - the shapes the lifecycle services (servers, tools, sources,
 * secrets, approvals, logs) repeat around one row or one page of rows,
 * written once: a keyset page, a read by id, an audited delete by id.
 * Each service keeps its own SQL, rules and error texts; these only run it.
 */
#ifndef TG_CRUD_H
#define TG_CRUD_H

#include <stdint.h>

#include <jansson.h>

struct tg_call;
struct tg_err;
struct tg_page;

/* "%lld" of v into buf (cap >= 21 is always enough). */
void tg_i64s(char *buf, size_t cap, int64_t v);

struct tg_db;
/* Key rotation: writes one re-sealed secret back with sql, which takes $1
 * the row id, $2 the nonce and $3 the ciphertext (hex, as sql decodes
 * them). */
int tg_crud_reseal(struct tg_db *db, const char *sql, const char *id,
    const char *nonce, const char *ct);

/*
 * One keyset page: tg_keyset_args() checks the page request (400, as
 * tg_svc_page_args) and formats after and limit + 1 (one row more than the
 * page, to know whether a next page exists) as the statement's parameters;
 * tg_keyset_query() runs sql with params p (n of them, the caller places
 * ks.after and ks.limit where its SQL wants them) and wraps the rows as
 * {"items", "next_cursor"} (the cursor is cursor_key of the last item).
 */
struct tg_keyset {
	int64_t limit, after_id;
	char after[24];
	char limit1[24];
	char owner[24]; /* the parent's id, when the page has one */
};
int tg_keyset_args(const struct tg_page *pg, struct tg_keyset *ks,
    struct tg_err *err);
/* tg_svc_need(c, perm), then tg_keyset_args(). */
int tg_keyset_need(const struct tg_call *c, unsigned perm,
    const struct tg_page *pg, struct tg_keyset *ks, struct tg_err *err);
int tg_keyset_query(const struct tg_call *c, const char *sql, int n,
    const char *const *p, const struct tg_keyset *ks, const char *cursor_key,
    json_t **out, struct tg_err *err);
/* tg_keyset_query() of a page keyed by "id" with the parameters $1 owner
 * (when not NULL), then after and limit + 1, then extra (when np counts
 * it). */
int tg_keyset_page(const struct tg_call *c, const struct tg_keyset *ks,
    const char *owner, const char *sql, int np, const char *extra,
    json_t **out, struct tg_err *err);

/*
 * A whole keyset page for a caller holding perm: sql takes $1 the cursor,
 * $2 the row limit and, when np is 3, $3 extra (which may be NULL).
 */
int tg_crud_list(const struct tg_call *c, unsigned perm,
    const struct tg_page *pg, const char *sql, int np, const char *extra,
    json_t **out, struct tg_err *err);

/*
 * One row by id for a caller holding perm: sql takes the id as $1 and
 * returns the row's JSON text; no row is 404 "no <noun> with id <id>".
 */
int tg_crud_get(const struct tg_call *c, unsigned perm, const char *sql,
    const char *noun, int64_t id, json_t **out, struct tg_err *err);

/*
 * An audited insert (lib/audit.h tg_call_insert; detail is stolen, NULL
 * meaning out of memory), then the new row read back with sql ($1: its id).
 */
struct tg_insert_op;
int tg_crud_create(const struct tg_call *c, struct tg_insert_op *op,
    json_t *detail, const char *sql, json_t **out, struct tg_err *err);

/*
 * An audited delete by id for a caller holding perm: sql (taking the id as
 * $1) must return a row when it deleted one; audited as action on target
 * "<id>"; no row is 404 "no <noun> with id <id>".
 */
int tg_crud_delete(const struct tg_call *c, unsigned perm, const char *sql,
    const char *action, const char *noun, int64_t id, struct tg_err *err);

#endif
