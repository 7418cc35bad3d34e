/*
 * ops.c - the REST side of the operation table (lib/ops.h): one handler
 * serves every route handlers/routes.c makes from a row of tg_ops[].
 *
 * In order: the ":id" capture resolved to the row's target (404), the
 * query string when the row reads it (400 when malformed), the page
 * (?limit=&cursor=, 400), the body checked against the row's field specs
 * (422 naming each field; an optional body that is absent or null is not
 * checked), then the service call (lib/ops.c), whose result or error is
 * the response (handlers/reply.c) with the row's success status. A row's
 * named inputs (tg_op_in.arg) are the path captures, then the query
 * parameters.
 */
#include <string.h>

#include "fcgi/request.h"
#include "fcgi/response.h"
#include "fcgi/router.h"
#include "handlers/handlers.h"
#include "handlers/reply.h"
#include "lib/ops.h"
#include "lib/status.h"

static const char *
rest_arg(const struct tg_op_in *in, const char *name)
{
	struct tg_req *req = in->ctx;
	const char *v = tg_req_capture(req, name);

	return v != NULL ? v : tg_req_query(req, name);
}

static int
check_body(const struct tg_op *op, const json_t *body, struct tg_err *err)
{
	if (op->fields == NULL || body == NULL ||
	    ((op->rest.flags & TG_OPR_BODY_OPT) && json_is_null(body)))
		return TG_OK;
	return tg_jfields_check(op->fields, body, err);
}

int
tg_h_op(struct tg_req *req, struct tg_resp *resp)
{
	const struct tg_op *op = tg_route_op(req->route);
	struct tg_call c = tg_req_call(req);
	struct tg_op_in in;
	struct tg_err err;
	json_t *out = NULL;
	int rc;

	if (op == NULL)
		return -TG_E_INTERNAL;
	memset(&in, 0, sizeof(in));
	in.op = op;
	in.c = &c;
	in.body = req->json;
	in.arg = rest_arg;
	in.ctx = req;
	tg_err_init(&err);
	rc = tg_op_resolve(&c, op->target, tg_req_capture(req, "id"), &in.id, &err);
	if (rc == TG_OK && (op->rest.flags & TG_OPR_QUERY) &&
	    (rc = tg_req_parse_query(req)) != TG_OK && rc != -TG_E_NOMEM)
		rc = tg_err_set(&err, TG_E_BADREQ, "malformed query string");
	if (rc == TG_OK && tg_op_paged(op))
		rc = tg_svc_page_from_query(req, &in.page, &err);
	if (rc == TG_OK)
		rc = check_body(op, req->json, &err);
	if (rc == TG_OK)
		rc = tg_op_run(&in, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, op->rest.status);
}
