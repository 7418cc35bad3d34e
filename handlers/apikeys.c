/*
 * apikeys.c - API keys for MCP clients and scripts (TG_P_SELF).
 *
 *   GET    /api/v1/api-keys?limit=&cursor=[&all=1] -> own keys (admin: all=1
 *          lists everyone's)
 *   POST   /api/v1/api-keys {"name"[,"role"][,"expires_in_days"]} -> 201
 *          {..., "key": "tgk_..."}: the secret is shown once; only its
 *          SHA-256 is stored. role defaults to, and may not exceed, the
 *          caller's role (403); expires_in_days 1..3650 (default: never).
 *   DELETE /api/v1/api-keys/:id -> 204 (own key; admin: any). Revoked keys
 *          stay listed with revoked_at.
 * A key authenticates as its owner with the lower of the key's role and
 * the owner's current role; keys created before a revoke-all stop working.
 */
#include <string.h>

#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "handlers/identity_util.h"
#include "handlers/reply.h"
#include "lib/apikeys.h"
#include "lib/parse.h"
#include "lib/status.h"
#include "lib/svc.h"

int
tg_h_apikeys_list(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	json_t *out = NULL;
	int64_t limit, cursor, all = 0;
	int rc;

	if ((rc = tg_idu_page(req, resp, &limit, &cursor)) != TG_OK)
		return rc;
	if (tg_req_query_i64(req, "all", 0, 1, 0, &all) != TG_OK)
		return tg_resp_fail(req, resp, TG_E_BADREQ, "all must be 0 or 1");
	tg_err_init(&err);
	rc = tg_apikeys_list(&c, (int)all, limit, cursor, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}

int
tg_h_apikeys_create(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	const char *name = NULL, *role = NULL;
	json_int_t exp_days = 0;
	struct tg_err err;
	json_error_t jerr;
	json_t *out = NULL;
	int rc;

	if (json_unpack_ex(req->json, &jerr, JSON_STRICT, "{s:s, s?s, s?I}", "name", &name,
	    "role", &role, "expires_in_days", &exp_days) != 0)
		return tg_idu_bad_body(req, resp, &jerr);
	tg_err_init(&err);
	rc = tg_apikeys_create(&c, name, role, (int64_t)exp_days, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 201);
}

int
tg_h_apikeys_delete(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	int64_t id;
	int rc;

	if (tg_parse_i64(tg_req_capture(req, "id"), 1, INT64_MAX, &id) != TG_OK)
		return tg_resp_fail(req, resp, TG_E_NOTFOUND, "no such API key");
	tg_err_init(&err);
	rc = tg_apikeys_revoke(&c, id, &err);
	return tg_svc_reply(req, resp, rc, &err, NULL, 204);
}
