/*
 * export.c - REST wrappers over lib/export (the document and the import
 * rules are in lib/export.h; docs/api.md "Export and import").
 *
 *   GET  /api/v1/export    200 export document | 403 (admin only)
 *   POST /api/v1/import    201 {"servers", "counts", ...} | 400 | 403 |
 *                          409 server names taken (field errors) |
 *                          413 | 422 invalid document (field errors)
 *        ?keep_status=true   keep tool approval states and server states
 *        ?settings=false     do not apply the document's settings
 *
 * The import route allows a large body (routes.c), but the router caps
 * every route at TOOLGATE_MAX_BODY and nginx at client_max_body_size; the
 * CLI (`toolgate import FILE`) has no such cap.
 */
#include <string.h>

#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "handlers/reply.h"
#include "lib/export.h"
#include "lib/status.h"

/* Boolean query flag: absent -> def; "true"/"1" or "false"/"0" else 400. */
static int
flag(struct tg_req *req, const char *name, int def, int *out,
    struct tg_err *err)
{
	const char *v = tg_req_query(req, name);

	if (v == NULL) {
		*out = def;
	} else if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
		*out = 1;
	} else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) {
		*out = 0;
	} else {
		return tg_err_set(err, TG_E_BADREQ, "%s must be true or false", name);
	}
	return TG_OK;
}

int
tg_h_export(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	json_t *out = NULL;
	int rc;

	tg_err_init(&err);
	rc = tg_export_build(&c, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, 200);
}

int
tg_h_import(struct tg_req *req, struct tg_resp *resp)
{
	struct tg_call c = tg_req_call(req);
	struct tg_import_opts opts = {0, 0};
	struct tg_err err;
	json_t *out = NULL;
	int rc, settings = 1;

	tg_err_init(&err);
	if (tg_req_parse_query(req) != TG_OK)
		rc = tg_err_set(&err, TG_E_BADREQ, "malformed query string");
	else if ((rc = flag(req, "keep_status", 0, &opts.keep_status, &err)) == TG_OK &&
	    (rc = flag(req, "settings", 1, &settings, &err)) == TG_OK) {
		opts.skip_settings = !settings;
		rc = tg_export_import(&c, req->json, &opts, &out, &err);
	}
	return tg_svc_reply(req, resp, rc, &err, out, 201);
}
