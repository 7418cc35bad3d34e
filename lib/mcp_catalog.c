/*
 * mcp_catalog.c - tools/list (see mcp_tools.h): the management tools the
 * caller's role may use (lib/mcp_mgmt.c) and the approved tools of
 * running servers under their exposed names (COALESCE(prefix, name ||
 * '__') || tool name, with the approved version's description, input
 * schema verbatim and annotations: lib/tools.c tg_tools_served_list), in
 * one name-sorted list, served in pages from a per-worker cache.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/inval.h"
#include "lib/jsonalloc.h"
#include "lib/mcp_mgmt.h"
#include "lib/mcp_session.h"
#include "lib/parse.h"
#include "lib/status.h"
#include "lib/tools.h"

static int
by_name(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;

	return strcmp(json_string_value(json_object_get(x, "name")),
	    json_string_value(json_object_get(y, "name")));
}

/*
 * The worker's tools/list cache (the management tools' descriptors are
 * built once by lib/mcp_mgmt.c), in three layers, all keyed by the
 * tool_catalog version (any change to servers or tools bumps it:
 * sql/006_catalog.sql):
 *   - the approved tools of running servers, bookkeeping members removed;
 *   - per role, the merged list (management tools the role may call plus
 *     the approved tools), sorted by name once;
 *   - the last TG_MCP_PAGE_CACHE pages served, each a result object with a
 *     process-unique stamp, so the transport can keep its serialised text
 *     (handlers/mcp.c) and a repeated tools/list costs no JSON work.
 * The version comes with the session row (no extra round trip) or, for
 * stateless requests, from one indexed read. Results handed out are shared:
 * callers must not modify them.
 */
#define TG_MCP_PAGE_CACHE 16

struct view {
	int64_t version;	/* 0: empty */
	json_t *all;		/* the sorted list (holds the references) */
};

struct page {
	int64_t version;	/* 0: empty */
	enum tg_role role;
	char after[256];
	json_t *result;
	uint64_t stamp;
};

static struct {
	json_t *served;		/* bookkeeping members removed */
	int64_t version;
	struct view view[TG_ROLE_ADMIN + 1];
	struct page page[TG_MCP_PAGE_CACHE];
	unsigned next_page;
	uint64_t stamp;
} cache;

/* The catalogue version: cached (lib/inval.h), else the one read with the
 * session row, else one indexed read. */
static struct {
	int64_t version;
	struct tg_inval_stamp at;
} catver;

static int
catalog_version(const struct tg_mcp_call *c, int64_t *v)
{
	struct tg_inval_stamp st;
	PGresult *res = NULL;
	int rc;

	if (tg_inval_fresh(&catver.at, TG_INV_CATALOG)) {
		*v = catver.version;
		return TG_OK;
	}
	if (c->session != NULL && c->session->catalog_version > 0) {
		*v = c->session->catalog_version;
		catver.version = *v;
		catver.at = c->session->catalog_at;
		return TG_OK;
	}
	tg_inval_stamp(&st, TG_INV_CATALOG);
	rc = tg_db_exec(c->call->db,
	    "SELECT version FROM tool_catalog WHERE id = 1", 0, NULL, &res);
	if (rc != TG_OK)
		return rc;
	if (PQntuples(res) != 1 ||
	    tg_parse_i64(PQgetvalue(res, 0, 0), 1, INT64_MAX, v) != TG_OK)
		rc = -TG_E_INTERNAL;
	PQclear(res);
	if (rc == TG_OK) {
		catver.version = *v;
		catver.at = st;
	}
	return rc;
}

/* Approved tools of running servers (lifecycle's served list) at version
 * v, with the bookkeeping members removed; reloaded when v moves. */
static int
approved_tools(const struct tg_mcp_call *c, int64_t v)
{
	json_t *served = NULL, *item;
	size_t i;
	int rc;

	if (cache.served != NULL && cache.version == v)
		return TG_OK;
	if ((rc = tg_tools_served_list(c->call->db, &served)) != TG_OK)
		return rc;
	json_array_foreach(served, i, item) {
		json_object_del(item, "tool_id");
		json_object_del(item, "server_id");
	}
	json_decref(cache.served);
	cache.served = served;
	cache.version = v;
	return TG_OK;
}

/* What selects the list a caller sees: its role, or TG_ROLE_NONE when
 * anonymous (TOOLGATE_MCP_AUTH=none: served tools only). */
static enum tg_role
view_role(const struct tg_call *call)
{
	if (call->who == NULL || !call->who->authenticated ||
	    call->who->role < TG_ROLE_NONE || call->who->role > TG_ROLE_ADMIN)
		return TG_ROLE_NONE;
	return call->who->role;
}

/* A new array of the tools of all sorted by name (NULL: out of memory). */
static json_t *
sorted_by_name(json_t *all)
{
	size_t i, n = json_array_size(all);
	json_t **arr, *sorted;

	if ((arr = calloc(n ? n : 1, sizeof(*arr))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		arr[i] = json_array_get(all, i);
	qsort(arr, n, sizeof(*arr), by_name);
	sorted = json_array();
	for (i = 0; sorted != NULL && i < n; i++)
		if (json_array_append(sorted, arr[i]) != 0) {
			json_decref(sorted);
			sorted = NULL;
		}
	free(arr);
	return sorted;
}

/* The sorted list a role sees at version v (borrowed from the cache). */
static int
role_view(const struct tg_mcp_call *c, int64_t v, json_t **out)
{
	struct view *vw = &cache.view[view_role(c->call)];
	json_t *all, *sorted = NULL;
	int rc;

	if (vw->all != NULL && vw->version == v) {
		*out = vw->all;
		return TG_OK;
	}
	if ((rc = approved_tools(c, v)) != TG_OK)
		return rc;
	if ((all = json_array()) == NULL)
		return -TG_E_NOMEM;
	if ((rc = tg_mcp_mgmt_list(c->call, all)) == TG_OK &&
	    (json_array_extend(all, cache.served) != 0 ||
	    (sorted = sorted_by_name(all)) == NULL))
		rc = -TG_E_NOMEM;
	json_decref(all);
	if (rc != TG_OK)
		return rc;
	json_decref(vw->all);
	vw->all = sorted;
	vw->version = v;
	*out = sorted;
	return TG_OK;
}

/* One page of a sorted view: {"tools":[...], "nextCursor"?}. */
static json_t *
page_new(json_t *all, const char *after)
{
	json_t *page, *result;
	size_t i, n = json_array_size(all), start = 0, count = 0;
	char next[400];

	if (after[0])
		while (start < n && strcmp(json_string_value(json_object_get(
		    json_array_get(all, start), "name")), after) <= 0)
			start++;
	if ((page = json_array()) == NULL)
		return NULL;
	for (i = start; i < n && count < TG_MCP_PAGE; i++, count++)
		if (json_array_append(page, json_array_get(all, i)) != 0) {
			json_decref(page);
			return NULL;
		}
	if ((result = json_pack("{s:o}", "tools", page)) == NULL)
		return NULL;
	if (i < n) {
		const char *last = json_string_value(json_object_get(
		    json_array_get(all, i - 1), "name"));

		if (tg_crypto_b64url_encode((const unsigned char *)last, strlen(last),
		    next, sizeof(next), NULL) != TG_OK ||
		    json_object_set_new(result, "nextCursor", json_string(next)) != 0) {
			json_decref(result);
			return NULL;
		}
	}
	return result;
}

int
tg_mcp_tools_list(const struct tg_mcp_call *c, const char *cursor,
    json_t **result, uint64_t *stamp, struct tg_rpc_err *err)
{
	unsigned char raw[256];
	char after[256];
	json_t *all = NULL, *r;
	struct page *pg;
	int64_t v = 0;
	unsigned i;
	int k;

	*result = NULL;
	if (stamp != NULL)
		*stamp = 0;
	after[0] = '\0';
	if (cursor != NULL) {
		size_t len = strlen(cursor), got = 0;

		k = tg_crypto_b64url_decode(cursor, len, raw, sizeof(raw) - 1, &got);
		if (k != TG_OK || len == 0 || got == 0 || memchr(raw, '\0', got))
			return tg_rpc_err_set(err, TG_RPC_INVALID_PARAMS, "Invalid cursor");
		memcpy(after, raw, got);
		after[got] = '\0';
	}
	if (catalog_version(c, &v) != TG_OK || role_view(c, v, &all) != TG_OK)
		return tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR,
		    "the tool catalogue is unavailable; retry shortly");
	for (i = 0; i < TG_MCP_PAGE_CACHE; i++) {
		pg = &cache.page[i];
		if (pg->result != NULL && pg->version == v &&
		    pg->role == view_role(c->call) && strcmp(pg->after, after) == 0)
			goto hit;
	}
	if ((r = page_new(all, after)) == NULL)
		return tg_rpc_err_set(err, TG_RPC_INTERNAL_ERROR, "out of memory");
	pg = &cache.page[cache.next_page++ % TG_MCP_PAGE_CACHE];
	json_decref(pg->result);
	pg->result = r;
	pg->version = v;
	pg->role = view_role(c->call);
	memcpy(pg->after, after, sizeof(pg->after));
	pg->stamp = ++cache.stamp;
hit:
	*result = json_incref(pg->result);
	if (stamp != NULL)
		*stamp = pg->stamp;
	return 0;
}

int
tg_mcp_tools_digest(struct tg_db *db, const struct tg_config *cfg,
    enum tg_role role, unsigned char out[32])
{
	struct tg_principal who;
	struct tg_call call;
	struct tg_mcp_call mc;
	json_t *all = NULL;
	char *text;
	int64_t v = 0;
	int rc;

	memset(&who, 0, sizeof(who));
	memset(&call, 0, sizeof(call));
	memset(&mc, 0, sizeof(mc));
	who.authenticated = role != TG_ROLE_NONE;
	who.role = role;
	call.db = db;
	call.cfg = cfg;
	call.who = &who;
	call.request_id = "";
	mc.call = &call;
	if ((rc = catalog_version(&mc, &v)) != TG_OK || (rc = role_view(&mc, v, &all)) != TG_OK)
		return rc;
	if ((text = tg_jsonalloc_dumps(all, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return -TG_E_NOMEM;
	rc = tg_crypto_sha256(text, strlen(text), out);
	free(text);
	return rc;
}
