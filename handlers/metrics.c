/*
 * metrics.c - GET /metrics: Prometheus text exposition of the shared
 * counters (lib/metrics.c). Served to loopback clients without credentials
 * (a Prometheus on the same host), and to anyone presenting an admin token
 * or API key (TG_R_AUTH_OPTIONAL: presented credentials are verified like
 * everywhere else); other callers get 401 (no credentials) or 403.
 *
 *   GET /metrics   200 text/plain; version=0.0.4 | 401 | 403 problem | 503 (no shm)
 */
#include <string.h>

#include "fcgi/request.h"
#include "fcgi/response.h"
#include "handlers/handlers.h"
#include "lib/metrics.h"
#include "lib/status.h"

static int
is_loopback(const char *addr)
{
	return addr != NULL && (strncmp(addr, "127.", 4) == 0 ||
	    strcmp(addr, "::1") == 0 || strncmp(addr, "::ffff:127.", 11) == 0);
}

int
tg_h_metrics(struct tg_req *req, struct tg_resp *resp)
{
	if (req->who.authenticated) {
		if (req->who.role != TG_ROLE_ADMIN)
			return tg_resp_fail(req, resp, TG_E_FORBIDDEN,
			    "metrics need the admin role");
	} else if (!is_loopback(req->remote_addr)) {
		tg_resp_header(req, resp, "WWW-Authenticate", "Bearer realm=\"toolgate\"");
		return tg_resp_fail(req, resp, TG_E_UNAUTH,
		    "metrics need an admin token, or a loopback client");
	}
	if (req->ctx->metrics == NULL)
		return tg_resp_fail(req, resp, TG_E_UNAVAIL,
		    "metrics are not available in this process mode");
	if (tg_metrics_render(req->ctx->metrics, &resp->body) != TG_OK)
		return -TG_E_NOMEM;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return TG_OK;
}
