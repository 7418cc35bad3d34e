/*
 * access.h - the router's access step: authentication, role permission
 * and rate limiting for the matched route (req->route).
 *
 * Returns TG_OK when the request may proceed (req->who filled for
 * authenticated routes), or a failure recorded in resp (401 with
 * WWW-Authenticate, 403, 429 with Retry-After/RateLimit-*).
 */
#ifndef TG_ACCESS_H
#define TG_ACCESS_H

struct tg_req;
struct tg_resp;

int tg_access_check(struct tg_req *req, struct tg_resp *resp);

#endif
