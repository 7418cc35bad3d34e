/*
 * execlog.h - what a tool run produces: its MCP CallToolResult, and its
 * row in execution_logs (sql/004; read back by lib/logs.c).
 *
 * Writers: tools/call of a served tool (lib/mcp_calls.c: the row is
 * written before the run, status "running", and completed after it) and
 * the REST test run (POST /tools/{id}/test, lib/tools_run.c: the same,
 * tg_mcp_log_test_begin before the run and tg_mcp_log_test after it).
 *
 * security: arguments are redacted (lib/redact.h) and every value of the
 * server's decrypted secrets is scrubbed from result, stdout, stderr and
 * error before the texts are cut to log_max_bytes (a cut cannot leave
 * half a secret behind) and written.
 *
 * Below lib/tools*.c and lib/logs.c: includes neither.
 */
#ifndef TG_EXECLOG_H
#define TG_EXECLOG_H

#include <stdint.h>

#include <jansson.h>

#include "lib/call.h"

#define TG_MCP_LOG_MAX_DEFAULT 16384	/* bytes kept per logged text */

/* {"content":[{"type":"text","text":text}],"isError":is_error} (new
 * reference; NULL on OOM). */
json_t *tg_mcp_text_result(const char *text, int is_error);

/*
 * Maps a sandbox result document to a CallToolResult (new reference), or
 * NULL on OOM. *status receives the execution-log status ("ok", "error",
 * "timeout", "truncated", "cancelled").
 */
json_t *tg_mcp_result_from_sandbox(const json_t *sbx, const char **status);

/* One execution_logs row. Strings and values are borrowed. */
struct tg_execlog {
	const char *tool_id, *server_id, *tool_name, *version, *kind, *status;
	const json_t *arguments;	/* unredacted; redacted at write */
	const json_t *result;		/* CallToolResult or NULL */
	const json_t *sbx;		/* sandbox document or NULL */
	const char *error;
	int64_t duration_ms;
	const json_t *secrets;		/* security: the server's decrypted secrets, scrubbed out */
	const char *session_hash, *traceparent;	/* or NULL */
	int64_t id;	/* reliability: the row tg_execlog_start() wrote, or 0 */
	int64_t log_max;	/* log_max_bytes read with that row, or 0 */
	char ids[3][24];	/* storage for tg_execlog_ids() */
};

/* Sets l->tool_id, server_id and version from the members tool_key,
 * "server_id" and version_key of o (integers or strings; NULL when
 * absent). */
void tg_execlog_ids(struct tg_execlog *l, const json_t *o,
    const char *tool_key, const char *version_key);

/*
 * reliability: writes the row of a run about to start (status "running",
 * with this worker's pid and its database backend, so that maintenance
 * can tell a call whose worker died: "lost") and sets l->id. A call whose
 * row cannot be written is not run. 0 or -TG_E_*. One round trip: the
 * backend's start time is looked up once per database connection, and
 * the log_max_bytes setting comes back with the row (l->log_max).
 * tg_execlog_finish() also records the sandbox document's "isolation"
 * and "sandbox" (warm or cold) when l->sbx has them.
 */
int tg_execlog_start(const struct tg_call *c, struct tg_execlog *l);

/* Completes the row tg_execlog_start() wrote (l->id > 0; a row that
 * maintenance marked "lost" meanwhile gets its real outcome), or inserts
 * a whole row (l->id == 0). 0 or -TG_E_*. */
int tg_execlog_finish(const struct tg_call *c, const struct tg_execlog *l);

/*
 * reliability: begins the execution_logs row (kind "test", status
 * "running") of a REST test run (POST /tools/{id}/test, lib/tools_run.c)
 * before the sandbox starts; a run whose row cannot be written is not
 * run. tool is the tool document (tg_tools_get: id, server_id, name,
 * current_version); args stay borrowed until tg_mcp_log_test(). 0 or
 * -TG_E_*.
 */
int tg_mcp_log_test_begin(const struct tg_call *c, const json_t *tool,
    const json_t *args, struct tg_execlog *l);

/*
 * security: completes that row: sbx is the sandbox document when run_rc is
 * 0, else run_rc (-TG_E_TIMEOUT -> "timeout", a refused request "error",
 * others "unavailable") and diag describe the failure. Arguments are
 * redacted and every value of secrets (the server's decrypted secrets) is
 * scrubbed from result, stdout, stderr and error before the write, as for
 * tools/call.
 */
int tg_mcp_log_test(const struct tg_call *c, struct tg_execlog *l,
    const json_t *sbx, int run_rc, const char *diag, const json_t *secrets,
    int64_t duration_ms);

#endif
