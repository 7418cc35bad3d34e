/*
 * resource.h - the one shape most REST handlers have: resolve the ":id"
 * capture, call the service function, reply (tg_svc_reply: the service's
 * JSON with the given status, or its problem). handlers/servers.c,
 * tools.c and sources.c are one line per endpoint on top of these.
 */
#ifndef TG_RESOURCE_H
#define TG_RESOURCE_H

#include <stdint.h>

#include <jansson.h>

#include "lib/svc.h"

struct tg_req;
struct tg_resp;

/* ":id" resolvers (lib/servers.h): a server (name or id), a tool (id or
 * exposed name), a source (id). */
typedef int (*tg_h_resolve_fn)(struct tg_req *req, int64_t *id,
    struct tg_err *err);
int tg_h_server_capture(struct tg_req *req, int64_t *id, struct tg_err *err);
int tg_h_tool_capture(struct tg_req *req, int64_t *id, struct tg_err *err);
int tg_h_source_capture(struct tg_req *req, int64_t *id, struct tg_err *err);

/* fn(&c, id, &out, &err), c = tg_req_call(req) */
int tg_h_on_id(struct tg_req *req, struct tg_resp *resp, tg_h_resolve_fn resolve,
    int (*fn)(const struct tg_call *, int64_t, json_t **, struct tg_err *),
    int status);
/* fn(&c, id, req->json, &out, &err) */
int tg_h_on_body(struct tg_req *req, struct tg_resp *resp, tg_h_resolve_fn resolve,
    int (*fn)(const struct tg_call *, int64_t, json_t *, json_t **,
	struct tg_err *),
    int status);
/* fn(&c, id, &err), then 204 */
int tg_h_on_delete(struct tg_req *req, struct tg_resp *resp,
    tg_h_resolve_fn resolve,
    int (*fn)(const struct tg_call *, int64_t, struct tg_err *));

#endif
