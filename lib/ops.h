/*
 * ops.h - the operation table: one description per operation, from which
 * the REST route (handlers/ops.c, via handlers/routes.c), the MCP
 * management tool (lib/mcp_mgmt.c: name, description, inputSchema) and
 * the input validation all come (lib/ops.c holds the table).
 *
 * An operation is a service function (lib/svc.h) plus what a transport
 * needs to call it:
 *
 *   - its target: what the REST ":id" capture and the MCP member of the
 *     same name ("server", "tool", "source") designate, resolved alike
 *     (servers by name or id, tools also by exposed name or server/tool,
 *     sources by server/source), or a plain id (execution log, request,
 *     user, API key) that REST alone knows;
 *   - its shape, the signature of the service function (exactly one of
 *     the members none..adapt is set): no input, a body, a page, the
 *     target's id, id and body, id and page, a delete; anything else is
 *     an adapter that gets the whole struct tg_op_in;
 *   - its fields (lib/jschema.h): the members of the body (REST) or of
 *     the arguments (MCP) besides the target and the page. REST checks a
 *     body against them (tg_jfields_check) before the service runs; MCP
 *     serves them as the tool's inputSchema and validates arguments
 *     against that. A field marked TG_JF_REST never reaches the MCP schema
 *     (secret values, source credentials, "internal"), one marked
 *     TG_JF_MCP never the REST check;
 *   - an optional REST part (method, pattern, success status, body limit
 *     and whether the body is required or optional) and an optional MCP
 *     part (tool name, annotations, description). The permission bit is
 *     the operation's, for both.
 *
 * Adding an operation is one row in lib/ops.c plus its service function.
 */
#ifndef TG_OPS_H
#define TG_OPS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/call.h"
#include "lib/err.h"
#include "lib/jschema.h"

/* What an operation acts on. */
enum tg_op_target {
	TG_OT_NONE = 0,
	TG_OT_SERVER, /* a server: name or id */
	TG_OT_TOOL, /* a tool: id, exposed name or server/tool */
	TG_OT_SOURCE, /* a source: id or server/source */
	TG_OT_LOG, /* plain ids, REST only: an execution log */
	TG_OT_REQUEST, /* a module or network request */
	TG_OT_PACKAGE, /* a package request */
	TG_OT_USER, /* an account */
	TG_OT_APIKEY, /* an API key */
	TG_OT_OAUTH_CLIENT, /* a registered OAuth client (lib/oauth.h) */
	TG_OT_OAUTH_GRANT, /* a connected app: one user's consent */
};

/* REST part flags. */
#define TG_OPR_BODY 0x1 /* a JSON body is required */
#define TG_OPR_BODY_OPT 0x2 /* a JSON body is optional (JSON when present) */
#define TG_OPR_QUERY 0x4 /* reads the query string: 400 when it is malformed */
#define TG_OPR_PUBLIC 0x8 /* no authentication (readiness) */

/* MCP annotations (ToolAnnotations): readOnlyHint; for the others,
 * destructiveHint and idempotentHint; openWorldHint. */
#define TG_OPM_RO 0x1
#define TG_OPM_DESTRUCTIVE 0x2
#define TG_OPM_IDEMPOTENT 0x4
#define TG_OPM_OPEN 0x8

/* Operation flags. */
#define TG_OP_PAGED 0x1 /* an adapter that takes a page (limit, cursor) */

struct tg_op;

/*
 * The input of one call, built by the transport: REST from the request
 * (handlers/ops.c), MCP from the tool's arguments (lib/mcp_mgmt.c).
 */
struct tg_op_in {
	const struct tg_op *op;
	const struct tg_call *c;
	int64_t id; /* the resolved target; 0 without one */
	json_t *body; /* REST: the body (may be NULL); MCP: the
				 * arguments without the target member */
	struct tg_page page; /* REST: ?limit=&cursor=; MCP: limit, cursor */
	/* A named string input: REST a path capture, else a query
	 * parameter; MCP a string argument. NULL when absent. */
	const char *(*arg)(const struct tg_op_in *in, const char *name);
	void *ctx; /* the transport's, for arg */
};

struct tg_op_rest {
	const char *method; /* NULL: not served over REST */
	const char *pattern; /* "/api/v1/tools/:id" (target: ":id") */
	int status; /* success status (204: no body) */
	size_t max_body; /* bytes; 0 takes none */
	unsigned flags; /* TG_OPR_* */
};

struct tg_op_mcp {
	const char *name; /* NULL: not an MCP management tool */
	unsigned hints; /* TG_OPM_* */
	const char *description;
};

struct tg_op {
	const char *name; /* "servers.create": logs and docs */
	unsigned perm; /* TG_P_* needed, REST and MCP alike */
	enum tg_op_target target;
	unsigned flags; /* TG_OP_* */
	const struct tg_jfield *fields; /* body / argument members, or NULL */
	/* The service call: exactly one is set. */
	int (*none)(const struct tg_call *, json_t **, struct tg_err *);
	int (*create)(const struct tg_call *, json_t *, json_t **,
	    struct tg_err *);
	int (*list)(const struct tg_call *, const struct tg_page *, json_t **,
	    struct tg_err *);
	int (*by_id)(const struct tg_call *, int64_t, json_t **,
	    struct tg_err *);
	int (*body)(const struct tg_call *, int64_t, json_t *, json_t **,
	    struct tg_err *);
	int (*paged)(const struct tg_call *, int64_t, const struct tg_page *,
	    json_t **, struct tg_err *);
	int (*del)(const struct tg_call *, int64_t, struct tg_err *);
	int (*adapt)(const struct tg_op_in *, json_t **, struct tg_err *);
	struct tg_op_rest rest;
	struct tg_op_mcp mcp;
	int variant; /* an adapter's parameter */
};

/* The table (lib/ops.c), tg_ops_n rows. */
extern const struct tg_op tg_ops[];
extern const size_t tg_ops_n;
/* An upper bound of tg_ops_n, for tables sized at compile time. */
#define TG_OPS_MAX 96

/* 1 when exactly one service member of op is set (a row without one, or
 * with two, is a bug no transport serves). */
int tg_op_valid(const struct tg_op *op);
/* 1 when op takes a page (list, paged, or TG_OP_PAGED). */
int tg_op_paged(const struct tg_op *op);
/* The MCP argument that names op's target ("server", "tool", "source"),
 * or NULL; its field spec (a list of one), or NULL. */
const char *tg_op_target_member(enum tg_op_target t);
const struct tg_jfield *tg_op_target_fields(enum tg_op_target t);
/* The MCP page arguments (limit, cursor) as field specs. */
const struct tg_jfield *tg_op_page_fields(void);
/* An MCP reference as text: a string as is, an integer in decimal (in
 * buf); NULL for anything else. */
const char *tg_op_ref(const json_t *v, char *buf, size_t cap);

/*
 * Resolves ref (REST: the ":id" capture; MCP: the target member, an
 * integer given as its decimal text) to the id of a target t. 404 with
 * the target's own text when there is no such thing.
 */
int tg_op_resolve(const struct tg_call *c, enum tg_op_target t,
    const char *ref, int64_t *id, struct tg_err *err);

/* Runs the service call of in->op with in (target resolved, page and
 * body read and checked). 0 and *out (may stay NULL: delete) or -TG_E_*
 * with err set. */
int tg_op_run(const struct tg_op_in *in, json_t **out, struct tg_err *err);

#endif
