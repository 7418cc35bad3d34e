/*
 * identity_util.c - helpers for the identity handlers (identity_util.h).
 */
#include <stdio.h>
#include <string.h>

#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/identity_util.h"
#include "lib/parse.h"
#include "lib/status.h"

int
tg_idu_bad_field(struct tg_req *req, struct tg_resp *resp, const char *field,
    const char *msg)
{
	json_t *errs = json_pack("[{s:s, s:s}]", "field", field, "message", msg);

	if (errs == NULL)
		return -TG_E_NOMEM;
	return tg_resp_fail_fields(req, resp, TG_E_UNPROCESSABLE, errs,
	    "%s: %s", field, msg);
}

int
tg_idu_bad_body(struct tg_req *req, struct tg_resp *resp, const json_error_t *err)
{
	return tg_idu_bad_field(req, resp, "body", err->text);
}

int
tg_idu_page(struct tg_req *req, struct tg_resp *resp, int64_t *limit,
    int64_t *cursor)
{
	if (tg_req_parse_query(req) != TG_OK)
		return tg_resp_fail(req, resp, TG_E_BADREQ, "malformed query string");
	if (tg_req_query_i64(req, "limit", 1, 200, 50, limit) != TG_OK)
		return tg_resp_fail(req, resp, TG_E_BADREQ, "limit must be an integer in 1..200");
	if (tg_req_query_i64(req, "cursor", 1, INT64_MAX, 0, cursor) != TG_OK)
		return tg_resp_fail(req, resp, TG_E_BADREQ, "malformed cursor");
	return TG_OK;
}
