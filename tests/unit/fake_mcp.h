/*
 * fake_mcp.h - an in-memory MCP session backend for unit tests of the
 * /mcp transport (handlers/mcp*.c): one session, SID, whose negotiated
 * version is sess_version. The including file defines both before it
 * includes this header, and its own f_list/f_call.
 */
#ifndef TG_FAKE_MCP_H
#define TG_FAKE_MCP_H

#include <stdio.h>
#include <string.h>

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

#endif
