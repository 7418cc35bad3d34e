/*
 * reply.h - rendering service results for REST (handlers/reply.c).
 */
#ifndef TG_REPLY_H
#define TG_REPLY_H

#include <jansson.h>

#include "lib/err.h"

struct tg_req;
struct tg_resp;

/* Renders err (or rc) into resp as an RFC 9457 problem document; returns
 * the negative status for the handler to return. Clears err. */
int tg_err_respond(struct tg_req *req, struct tg_resp *resp,
    struct tg_err *err, int rc);
/* rc == 0 -> resp gets out (stolen) with http_status (204: no body, out
 * must be NULL); else tg_err_respond(). Returns 0 or the negative status. */
int tg_svc_reply(struct tg_req *req, struct tg_resp *resp, int rc,
    struct tg_err *err, json_t *out, int http_status);
/* Reads ?limit=&cursor= into pg. */
int tg_svc_page_from_query(struct tg_req *req, struct tg_page *pg,
    struct tg_err *err);

#endif
