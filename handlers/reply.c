/*
 * reply.c - the REST side of the service layer (reply.h): a service's
 * result or its struct tg_err rendered as the HTTP response, and the page
 * request read from the query string. The services themselves (lib/) know
 * nothing of HTTP.
 */
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/reply.h"
#include "lib/status.h"

int
tg_err_respond(struct tg_req *req, struct tg_resp *resp, struct tg_err *err,
    int rc)
{
	int st;

	tg_err_from(err, rc);
	st = err->status ? err->status : TG_E_INTERNAL;
	if (err->fields != NULL) {
		rc = tg_resp_fail_fields(req, resp, st, err->fields, "%s", err->detail);
		err->fields = NULL; /* stolen */
	} else {
		rc = tg_resp_fail(req, resp, st, "%s", err->detail);
	}
	tg_err_clear(err);
	return rc;
}

int
tg_svc_page_from_query(struct tg_req *req, struct tg_page *pg,
    struct tg_err *err)
{
	int64_t limit;

	if (tg_req_query_i64(req, "limit", 1, TG_PAGE_MAX, TG_PAGE_DEFAULT,
	    &limit) != TG_OK)
		return tg_err_set(err, TG_E_BADREQ,
		    "limit must be an integer from 1 to %d", TG_PAGE_MAX);
	pg->limit = limit;
	pg->cursor = tg_req_query(req, "cursor");
	return TG_OK;
}

int
tg_svc_reply(struct tg_req *req, struct tg_resp *resp, int rc,
    struct tg_err *err, json_t *out, int http_status)
{
	if (rc != TG_OK) {
		json_decref(out);
		return tg_err_respond(req, resp, err, rc);
	}
	tg_err_clear(err);
	if (http_status == 204) {
		json_decref(out);
		resp->status = 204;
		return TG_OK;
	}
	return tg_resp_json(resp, http_status, out);
}

