/*
 * settings.c - GET/PATCH /api/v1/settings over lib/settings (the
 * document, ranges and defaults are in lib/settings.h; docs/api.md
 * "Settings").
 *
 *   GET   /api/v1/settings   200 effective settings
 *   PATCH /api/v1/settings   200 effective settings | 403 | 422 with fields
 */
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "handlers/reply.h"
#include "lib/settings.h"
#include "lib/status.h"

int
tg_h_settings_get(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	json_t *out = NULL;
	int rc;

	tg_err_init(&err);
	rc = tg_settings_get(&c, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}

int
tg_h_settings_patch(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	json_t *out = NULL;
	int rc;

	tg_err_init(&err);
	rc = tg_settings_patch(&c, req->json, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}
