/*
 * resource.c - resolve ":id", call the service, reply (see resource.h).
 */
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/resource.h"
#include "handlers/reply.h"
#include "lib/servers.h"
#include "lib/status.h"

int
tg_h_server_capture(struct tg_req *req, int64_t *id, struct tg_err *err)
{
	struct tg_call c = tg_req_call(req);

	return tg_servers_resolve(&c, tg_req_capture(req, "id"), id, err);
}

int
tg_h_tool_capture(struct tg_req *req, int64_t *id, struct tg_err *err)
{
	struct tg_call c = tg_req_call(req);

	return tg_tools_resolve(&c, tg_req_capture(req, "id"), id, err);
}

int
tg_h_source_capture(struct tg_req *req, int64_t *id, struct tg_err *err)
{
	struct tg_call c = tg_req_call(req);

	return tg_sources_resolve(&c, tg_req_capture(req, "id"), id, err);
}

int
tg_h_on_id(struct tg_req *req, struct tg_resp *resp, tg_h_resolve_fn resolve,
    int (*fn)(const struct tg_call *, int64_t, json_t **, struct tg_err *),
    int status)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	json_t *out = NULL;
	int64_t id = 0;
	int rc;

	tg_err_init(&err);
	if ((rc = resolve(req, &id, &err)) == TG_OK)
		rc = fn(&c, id, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, status);
}

int
tg_h_on_body(struct tg_req *req, struct tg_resp *resp, tg_h_resolve_fn resolve,
    int (*fn)(const struct tg_call *, int64_t, json_t *, json_t **,
	struct tg_err *),
    int status)
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	json_t *out = NULL;
	int64_t id = 0;
	int rc;

	tg_err_init(&err);
	if ((rc = resolve(req, &id, &err)) == TG_OK)
		rc = fn(&c, id, req->json, &out, &err);
	return tg_svc_reply(req, resp, rc, &err, out, status);
}

int
tg_h_on_delete(struct tg_req *req, struct tg_resp *resp,
    tg_h_resolve_fn resolve,
    int (*fn)(const struct tg_call *, int64_t, struct tg_err *))
{
	struct tg_call c = tg_req_call(req);
	struct tg_err err;
	int64_t id = 0;
	int rc;

	tg_err_init(&err);
	if ((rc = resolve(req, &id, &err)) == TG_OK)
		rc = fn(&c, id, &err);
	return tg_svc_reply(req, resp, rc, &err, NULL, 204);
}
