/*
 * fake_mcp.h - an in-memory MCP session backend for unit tests of the
 * /mcp transport (handlers/mcp*.c): one session, SID, whose negotiated
 * version is sess_version (a test may change it), and the cfg/ctx the
 * requests run with. Included after fake_io.h and handlers/mcp.h; the
 * including file defines its own f_list/f_call and the backend;
 * fake_mcp_serve runs one request through tg_mcp_serve.
 */
#ifndef TG_FAKE_MCP_H
#define TG_FAKE_MCP_H

#include <stdio.h>
#include <string.h>

#include "lib/config.h"

/* No authentication on /mcp, bodies up to 1 MiB. */
static struct tg_config cfg = {.mcp_auth_required = 0, .max_body = 1 << 20};
static struct tg_ctx ctx = {&cfg, NULL, NULL};
static const char SID[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static char sess_version[33] = "2025-11-25";

static int
f_create(struct tg_req *req, const char *version, const json_t *ci,
    const json_t *caps, struct tg_mcp_session *out)
{
	(void)req;
	(void)ci;
	(void)caps;
	memset(out, 0, sizeof(*out));
	snprintf(out->id, sizeof(out->id), "%s", SID);
	snprintf(out->version, sizeof(out->version), "%s", version);
	return 0;
}

static int
f_get(struct tg_req *req, const char *id, struct tg_mcp_session *out)
{
	(void)req;
	if (strcmp(id, SID) != 0)
		return -TG_E_NOTFOUND;
	memset(out, 0, sizeof(*out));
	snprintf(out->id, sizeof(out->id), "%s", SID);
	snprintf(out->version, sizeof(out->version), "%s", sess_version);
	return 0;
}

static int
f_del(struct tg_req *req, const char *id)
{
	(void)req;
	return strcmp(id, SID) == 0 ? 0 : -TG_E_NOTFOUND;
}

static int
f_init(struct tg_req *req, const struct tg_mcp_session *s)
{
	(void)req;
	(void)s;
	return 0;
}

static int
f_level(struct tg_req *req, const struct tg_mcp_session *s, const char *l)
{
	(void)req;
	(void)s;
	(void)l;
	return 0;
}

/* The CGI parameters of a request to /mcp from 127.0.0.1: method, body
 * (NULL: none), Mcp-Session-Id sid and MCP-Protocol-Version ver (each
 * NULL: none). */
static void
fake_mcp_params(struct fake_params *p, const char *method, const char *body,
    const char *sid, const char *ver)
{
	fake_params_init(p, method, "/mcp", body);
	fake_params_add(p, "REMOTE_ADDR", "127.0.0.1");
	fake_params_add(p, "HTTP_MCP_SESSION_ID", sid);
	fake_params_add(p, "HTTP_MCP_PROTOCOL_VERSION", ver);
}

struct fake_mcp {
	struct fake_req x;
	struct tg_resp resp;
	int served; /* the request got as far as tg_mcp_serve */
};

/* One request through tg_req_init, the body reader and tg_mcp_serve with
 * backend be; write (NULL: the fake's) replaces the transport's writer.
 * Returns the first failure or tg_mcp_serve's status, at once after it;
 * m->resp holds the answer until fake_mcp_done (always called). */
static int
fake_mcp_serve(struct fake_mcp *m, const struct fake_params *p, const char *body,
    int (*write)(void *, const char *, size_t), const struct tg_mcp_backend *be)
{
	int rc;

	m->served = 0;
	tg_resp_init(&m->resp);
	if (fake_req_open(&m->x, p->v, body, &ctx) != 0)
		return -TG_E_NOMEM;
	if (write != NULL)
		m->x.io.write = write;
	if ((rc = tg_req_init(&m->x.req, m->x.a, &m->x.io, &ctx)) != TG_OK)
		return rc;
	if (body && *body && (rc = tg_req_read_body(&m->x.req)) != TG_OK)
		return rc;
	m->served = 1;
	return tg_mcp_serve(&m->x.req, &m->resp, be);
}

/* The HTTP status of the answer. */
static int
fake_mcp_status(const struct fake_mcp *m)
{
	return m->resp.err ? tg_status_http(m->resp.err) : m->resp.status;
}

static void
fake_mcp_done(struct fake_mcp *m)
{
	tg_resp_clear(&m->resp);
	fake_req_close(&m->x);
}

#endif
