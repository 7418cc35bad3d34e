/*
 * access.c - the access step of the pipeline. Until identity lands, every
 * route that requires authentication is refused (fail closed): no route can
 * be reached without the checks the identity module adds here.
 */
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "fcgi/router.h"
#include "lib/access.h"
#include "lib/status.h"

int
tg_access_check(struct tg_req *req, struct tg_resp *resp)
{
	if (req->route && (req->route->flags & TG_R_AUTH)) {
		tg_resp_header(req, resp, "WWW-Authenticate", "Bearer realm=\"toolgate\"");
		return tg_resp_fail(req, resp, TG_E_UNAUTH,
		    "authentication is required");
	}
	return TG_OK;
}
