/*
 * audit.h - the append-only, hash-chained audit trail (docs/security.md).
 *
 * Each row: time, actor (user id + name, or "key:<id>/<name>" for an API
 * key, "-" when unauthenticated), role, action ("user.create", "auth.login",
 * "tool.approve"...), target ("user:12", "tool:7", a username...), request
 * id, client address, outcome and an optional JSON detail.
 *
 * Outcomes: TG_AUDIT_OK for an operation that happened, TG_AUDIT_FAILED for
 * one that was refused or went wrong, and a few specific words where the
 * difference matters ("denied" for a rejected credential, "throttled",
 * "reuse_detected"). Rows written before the vocabulary was unified may
 * carry "success" or "failure"; they are never rewritten (the chain covers
 * the stored text, so they keep verifying). The database computes
 * hash = SHA-256(prev_hash || canonical row) under an advisory transaction
 * lock (function audit_append in sql/002_identity.sql); the application role
 * can only INSERT and SELECT the table.
 *
 * Transactions: tg_audit_call() joins the caller's open transaction (the row
 * commits or rolls back with the change it describes) and then holds the
 * chain lock until that transaction ends, so audit last, just before
 * COMMIT. Outside a transaction the row commits at once.
 */
#ifndef TG_AUDIT_H
#define TG_AUDIT_H

#include <stdint.h>

#include <jansson.h>

struct tg_call;
struct tg_db;
struct tg_err;
struct tg_page;

#define TG_AUDIT_OK "ok"
#define TG_AUDIT_FAILED "failed"

struct tg_audit_rec {
	int64_t actor_id;		/* 0: none */
	const char *actor;		/* NULL: "-" */
	const char *role;		/* NULL: "-" */
	const char *action;		/* required */
	const char *target;		/* NULL: "" */
	const char *request_id;		/* NULL: "" */
	const char *client_addr;	/* NULL: "" */
	const char *outcome;		/* required */
	const json_t *detail;		/* borrowed; NULL: SQL NULL. No secrets. */
};

/*
 * Appends one row for a service caller (lib/call.h; handlers build it with
 * tg_req_call()): actor and role from c->who, or c->actor when set (the
 * CLI's "cli"); request id and client address from c. detail is borrowed
 * (the caller keeps and frees it) and may be NULL. Returns 0 or -TG_E_*
 * (logged here); a mutating service treats a failure as the failure of the
 * whole operation (roll back).
 */
int tg_audit_call(const struct tg_call *c, const char *action,
    const char *target, const char *outcome, json_t *detail);

/*
 * security: the audit of a rejected credential, aggregated: per (client
 * address, action, reason) and TG_AUDIT_REJECT_INTERVAL-second interval
 * only the 1st, 10th, 100th, ... rejection writes a row (outcome, target
 * "", detail {"reason", "count" (the running count of the interval),
 * "interval_seconds", "method", "path"}); the rest only add to a counter
 * (rate_limits, bucket "rej:..."; removed by maintenance). So a flood of
 * bad credentials costs one counter upsert each, not one row under the
 * audit chain's global lock. Best effort: always 0 unless out of memory.
 */
#define TG_AUDIT_REJECT_INTERVAL 60
/* The address from c->client_addr, method and path from c->method and
 * c->path. */
int tg_audit_reject_call(const struct tg_call *c, const char *action,
    const char *outcome, const char *reason);

/* The same for callers without a request (CLI, maintenance). */
int tg_audit_write(struct tg_db *db, const struct tg_audit_rec *rec);

/*
 * The audit query (lib/audit_query.c; TG_P_AUDIT): one page, newest first,
 * {"items":[{id, at, actor_id, actor, role, action, target, request_id,
 * client_addr, outcome, detail, hash}], "next_cursor":"<id>"|null}. Filters
 * (NULL: any) are exact matches; since/until are ISO 8601 timestamps (422,
 * field "since/until", when PostgreSQL cannot read them). The keyset page
 * of lib/crud.h, descending: pg->cursor is the last id of the previous
 * page (none: the newest).
 */
struct tg_audit_filter {
	const char *actor;
	const char *action;
	const char *target;
	const char *since;
	const char *until;
};
int tg_audit_query(const struct tg_call *c, const struct tg_audit_filter *f,
    const struct tg_page *pg, json_t **out, struct tg_err *err);

/*
 * Recomputes the chain. *out receives a new object
 * {"ok":bool, "rows":n, "checked_through":id|null, "problems":[{"id":..,
 *  "problem":"hash mismatch"|"chain broken"}] (first 100)}.
 */
int tg_audit_verify(struct tg_db *db, json_t **out);

/* Audited transactions: a service mutation and its audit row commit
 * together or not at all. */

/*
 * Runs body(c, arg, err) in one transaction of c->db: COMMIT when it
 * returns 0, ROLLBACK otherwise (also when the commit fails). The body does
 * its statements and, last, its audit row (tg_audit_call joins the
 * transaction). Returns the body's or the commit's status, with err set.
 */
int tg_call_tx(const struct tg_call *c,
    int (*body)(const struct tg_call *c, void *arg, struct tg_err *err),
    void *arg, struct tg_err *err);

/*
 * tg_call_tx(), then, once it committed, the changed row as the service
 * returns it: read(c, *id, out, err). *id is read after the transaction, so
 * a body that creates the row may set it.
 */
int tg_call_tx_read(const struct tg_call *c,
    int (*body)(const struct tg_call *c, void *arg, struct tg_err *err),
    void *arg, int (*read)(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err), const int64_t *id, json_t **out, struct tg_err *err);

/*
 * The commonest service mutation: one statement that changes one row and
 * returns it (column 0: the row's JSON text; column 1: its id unless id is
 * given), audited as action on "<kind>:<id>", in its own transaction.
 * pre (optional) runs first inside the transaction (a lock, a rule check).
 * 404 (missing) when no row, 409 (conflict, when given) on a unique
 * violation. On success op->row holds the row (caller owns it). Without a
 * kind it is a plain audited statement (tg_svc_exec_audited): the target
 * is id as given and no row is read back (op->row stays NULL).
 */
struct tg_row_op {
	const char *sql;
	const char *const *p;
	int np;
	const char *action;
	const char *kind;
	const char *id;
	const json_t *detail;		/* borrowed; no secrets */
	const char *missing;
	const char *conflict;
	int (*pre)(const struct tg_call *c, void *arg, struct tg_err *err);
	void *pre_arg;
	json_t *row;			/* out */
};
int tg_call_row_op(const struct tg_call *c, struct tg_row_op *op,
    struct tg_err *err);

/*
 * An audited insert, in its own transaction: pre (optional: a lock, a rule
 * check), then sql (returning the new row's id as column 0), then the audit
 * row (action on target "<id>", detail borrowed). A failing statement goes
 * to on_error when given (e.g. a unique violation as 409 with the caller's
 * text). On success op->id holds the new id as text; the caller reads the
 * row back after the commit.
 */
struct tg_insert_op {
	const char *sql;
	const char *const *p;
	int np;
	const char *action;
	const json_t *detail;		/* borrowed; no secrets */
	int (*pre)(const struct tg_call *c, void *arg, struct tg_err *err);
	int (*on_error)(const struct tg_call *c, int rc, void *arg,
	    struct tg_err *err);
	void *arg;			/* for pre and on_error */
	char id[24];			/* out */
};
int tg_call_insert(const struct tg_call *c, struct tg_insert_op *op,
    struct tg_err *err);

#endif
