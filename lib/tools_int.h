/*
 * tools_int.h - what the parts of the tools service share (internal; the
 * public contract is tools.h): lib/tools.c (reads, writes, the workflow),
 * lib/tools_run.c (validation, test runs, the MCP serving queries) and
 * lib/tools_diff.c (diffs).
 */
#ifndef TG_TOOLS_INT_H
#define TG_TOOLS_INT_H

#include <jansson.h>

#include "lib/clock.h"
#include "lib/err.h"

/* security: a tool has something to serve (see the head comment of tools.c). */
#define SERVABLE \
	"(t.approved_version IS NOT NULL AND (t.kind = 'python' OR t.status = 'approved'))"

#define TOOL_FIELDS \
	"'id', t.id, 'server_id', t.server_id, 'server_name', s.name," \
	" 'name', t.name, 'exposed_name', coalesce(s.tool_prefix, s.name || '__') || t.name," \
	" 'description', t.description, 'input_schema', t.input_schema," \
	" 'schema_source', t.schema_source, 'annotations', t.annotations," \
	" 'status', t.status, 'current_version', t.current_version," \
	" 'approved_version', t.approved_version, 'review_reason', t.review_reason," \
	" 'reviewed_by', t.reviewed_by, 'reviewed_at', " TG_SQL_TS("t.reviewed_at") "," \
	" 'served', (" SERVABLE " AND s.status = 'running')," \
	" 'served_version', CASE WHEN " SERVABLE " THEN t.approved_version END," \
	" 'created_by', t.created_by, 'updated_by', t.updated_by," \
	" 'created_at', " TG_SQL_TS("t.created_at") ", 'updated_at', " TG_SQL_TS("t.updated_at")
#define TOOL_FROM " FROM tools t JOIN servers s ON s.id = t.server_id"
/* security: what is served is the approved version's content */
#define SERVED_JOIN \
	" JOIN tool_versions v ON v.tool_id = t.id AND v.version = t.approved_version"

/*
 * Validates code and works out the schema to store: explicit (given, kept
 * verbatim), derived (from the validator) or default ({"type":"object"},
 * when the sandbox is unavailable: saving still works, derivation happens
 * on the next save). *schema is a new reference. The import names of
 * server_id's package set are allowed (0: no server).
 */
int tg_tools_check_code(const struct tg_call *c, int64_t server_id,
    const char *code,
    json_t *explicit_schema, json_t **schema, const char **source,
    struct tg_err *err);
/* An input schema must describe an object (422 on "input_schema"). */
int tg_tools_check_schema(json_t *s, struct tg_err *err);
/* json_equal with NULL as JSON null. */
int tg_tools_jeq(json_t *a, json_t *b);

#endif
