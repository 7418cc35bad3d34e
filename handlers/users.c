/*
 * users.c - account administration (TG_P_USERS, i.e. admin).
 *
 *   GET    /api/v1/users?limit=&cursor=  -> {"items":[user...], "next_cursor"}
 *   POST   /api/v1/users   {"username","password","role"[,"disabled"]} -> 201 user
 *   GET    /api/v1/users/:id              -> user
 *   PATCH  /api/v1/users/:id {"role"?,"disabled"?,"password"?} -> user
 *   DELETE /api/v1/users/:id              -> 204
 *
 * user = {id, username, role, disabled, created_at, updated_at,
 * last_login_at}; the password hash is never returned. A change of role,
 * disabling, or a new password revokes the user's existing tokens
 * (tokens_valid_after). Errors: 422 invalid fields (field errors), 409
 * duplicate username or removing/demoting/disabling the last enabled admin,
 * 404 unknown id.
 */
#include <string.h>

#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "handlers/identity_util.h"
#include "handlers/reply.h"
#include "lib/parse.h"
#include "lib/status.h"
#include "lib/svc.h"
#include "lib/users.h"

static int
user_id(struct tg_req *req, struct tg_resp *resp, int64_t *id)
{
	if (tg_parse_i64(tg_req_capture(req, "id"), 1, INT64_MAX, id) != TG_OK)
		return tg_resp_fail(req, resp, TG_E_NOTFOUND, "no such user");
	return TG_OK;
}

int
tg_h_users_list(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	json_t *out = NULL;
	int64_t limit, cursor;
	int rc;

	if ((rc = tg_idu_page(req, resp, &limit, &cursor)) != TG_OK)
		return rc;
	tg_err_init(&err);
	rc = tg_users_list(&c, limit, cursor, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}

int
tg_h_users_create(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_user_new u;
	struct tg_err err;
	json_error_t jerr;
	json_t *out = NULL;
	int disabled = 0, rc;

	memset(&u, 0, sizeof(u));
	if (json_unpack_ex(req->json, &jerr, JSON_STRICT, "{s:s, s:s, s:s, s?b}",
	    "username", &u.username, "password", &u.password, "role", &u.role,
	    "disabled", &disabled) != 0)
		return tg_idu_bad_body(req, resp, &jerr);
	u.password_len = strlen(u.password);
	u.disabled = disabled;
	tg_err_init(&err);
	rc = tg_users_create(&c, &u, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 201);
}

int
tg_h_users_get(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	json_t *out = NULL;
	int64_t id;
	int rc;

	if ((rc = user_id(req, resp, &id)) != TG_OK)
		return rc;
	tg_err_init(&err);
	rc = tg_users_get(&c, id, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}

int
tg_h_users_update(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_user_patch pa;
	struct tg_err err;
	json_error_t jerr;
	json_t *jdis = NULL, *out = NULL;
	int64_t id;
	int rc;

	memset(&pa, 0, sizeof(pa));
	if ((rc = user_id(req, resp, &id)) != TG_OK)
		return rc;
	if (json_unpack_ex(req->json, &jerr, JSON_STRICT, "{s?s, s?o, s?s}", "role", &pa.role,
	    "disabled", &jdis, "password", &pa.password) != 0)
		return tg_idu_bad_body(req, resp, &jerr);
	if (jdis != NULL && !json_is_boolean(jdis))
		return tg_idu_bad_field(req, resp, "disabled", "must be true or false");
	pa.disabled = jdis == NULL ? -1 : json_is_true(jdis);
	pa.password_len = pa.password ? strlen(pa.password) : 0;
	tg_err_init(&err);
	rc = tg_users_update(&c, id, &pa, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}

int
tg_h_users_delete(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	int64_t id;
	int rc;

	if ((rc = user_id(req, resp, &id)) != TG_OK)
		return rc;
	tg_err_init(&err);
	rc = tg_users_delete(&c, id, &err);
	return tg_svc_reply(req, resp, rc, &err, NULL, 204);
}
