/*
 * tools.h - tools, immutable versions and the approval workflow (service
 * layer, see svc.h), plus what the MCP gateway needs to serve tools.
 *
 * Tool object (get; lists omit "code"):
 *   {"id", "server_id", "server_name", "name", "exposed_name",
 *    "description", "code", "input_schema" (verbatim), "schema_source":
 *    "explicit"|"derived"|"default", "annotations"|null, "status":
 *    "draft"|"pending_review"|"approved"|"rejected", "current_version",
 *    "approved_version"|null, "review_reason"|null, "reviewed_by",
 *    "reviewed_at", "served" (an approved version to serve and the server
 *    running), "served_version" (the version MCP clients get, or null),
 *    "created_by", "updated_by", "created_at", "updated_at"}; the content
 *    members are the CURRENT version's.
 * Version object: {"tool_id", "version", "name", "code", "description",
 *    "input_schema", "schema_source", "annotations", "change_summary",
 *    "author_id", "created_at"} (lists omit "code").
 *
 * Inputs (strict; 422 names the field):
 *   create {"name"!, "code"!, "description"?, "input_schema"? (object, kept
 *           verbatim; absent/null = derived from main()'s signature by the
 *           validator), "annotations"? (object|null), "change_summary"?}
 *   update  the same members, all optional; "input_schema": null goes back
 *           to the derived schema.
 *   rollback {"version"!: n}; submit {"note"?}; approve {"version"!: the
 *   version reviewed, "reason"?} (422 without a version, 409 when it is not
 *   the current version); reject / revoke {"reason"!} (422 without).
 *
 * Workflow: draft -> pending_review (submit) -> approved | rejected
 * (admin). A change of code resets an approved tool to pending_review; a
 * change of name, description, schema or annotations does too unless the
 * setting approval_reset_on is "code" (then the approval moves to the new
 * version). Identical content keeps the state and adds no version.
 * Rejected tools go back to draft on edit. Rollback appends the old
 * content as a new version and resets to pending_review, except that
 * content byte-identical to the approved version's is approved again at
 * once (Python tools). Revoke: whatever is served -> rejected, nothing
 * served (admin, reason). Served (MCP): always the approved version's
 * content, also while a newer version waits for review (Python tools);
 * an imported tool only while approved.
 *
 * Roles: reads viewer; writes/submit developer; approve/reject/revoke admin.
 */
#ifndef TG_TOOLS_H
#define TG_TOOLS_H

#include <stdint.h>

#include <jansson.h>

#include "lib/svc.h"

#define TG_TOOL_CODE_MAX (1024 * 1024)	/* hard ceiling; setting limits.code_bytes */
#define TG_TOOL_DESC_MAX 8192

/* status: NULL or one of the states (filter). */
int tg_tools_list(const struct tg_call *c, int64_t server_id,
    const char *status, const struct tg_page *pg, json_t **out,
    struct tg_err *err);
int tg_tools_get(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err);
int tg_tools_create(const struct tg_call *c, int64_t server_id, json_t *in,
    json_t **out, struct tg_err *err);
int tg_tools_update(const struct tg_call *c, int64_t id, json_t *in,
    json_t **out, struct tg_err *err);
int tg_tools_delete(const struct tg_call *c, int64_t id, struct tg_err *err);

int tg_tools_versions(const struct tg_call *c, int64_t id,
    const struct tg_page *pg, json_t **out, struct tg_err *err);
int tg_tools_version_get(const struct tg_call *c, int64_t id, int64_t version,
    json_t **out, struct tg_err *err);
int tg_tools_rollback(const struct tg_call *c, int64_t id, json_t *in,
    json_t **out, struct tg_err *err);

int tg_tools_submit(const struct tg_call *c, int64_t id, json_t *in,
    json_t **out, struct tg_err *err);
int tg_tools_approve(const struct tg_call *c, int64_t id, json_t *in,
    json_t **out, struct tg_err *err);
int tg_tools_reject(const struct tg_call *c, int64_t id, json_t *in,
    json_t **out, struct tg_err *err);
int tg_tools_revoke(const struct tg_call *c, int64_t id, json_t *in,
    json_t **out, struct tg_err *err);
/* What a reviewer sees: {"tool_id", "from_version" (last approved, or
 * null), "to_version" (current), "code_diff" (unified diff text),
 * "description": {"old","new"} | absent, "input_schema": {"old","new"} |
 * absent, "annotations": {"old","new"} | absent}. */
int tg_tools_diff(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err);

/* POST /validate: in {"code"!, "input_schema"?}; out {"ok", "errors":
 * [{"line","column","message"}], "input_schema", "schema_source"}.
 * 503 when the sandbox is unavailable. Role developer. */
int tg_tools_validate(const struct tg_call *c, json_t *in, json_t **out,
    struct tg_err *err);
/* POST /tools/{id}/test: in {"arguments"?: {}, "real_secrets"?: bool};
 * runs the current code (any status) with the allowed modules, the
 * server's hosts and the limits; out is the sandbox result document plus
 * "secret_values": "real" | "placeholder". security: the real secret
 * values only when the code is exactly the approved version's, or for an
 * admin who passes real_secrets (403 for anyone else); otherwise
 * {"KEY": "[placeholder:KEY]"}. Role developer. */
int tg_tools_test(const struct tg_call *c, int64_t id, json_t *in, json_t **out,
    struct tg_err *err);

/*
 * MCP gateway.
 *
 * tg_tools_served_list: every served tool of every running server (the
 * approved version's name, description, schema, annotations), in
 * exposed-name order: *out = [{"name": exposed name, "description",
 * "inputSchema" (verbatim; {"type":"object"} when none), "annotations"
 * (object, only when set), "tool_id", "server_id"}]. One query.
 *
 * tg_tools_served_lookup: the tool served under `exposed` right now (its
 * approved version's code and schema; "version" is that version)
 * (approval and server state checked in the same query): *out =
 * {"tool_id", "server_id", "server_name", "name", "version", "code",
 * "input_schema", "secrets": {"KEY": "value"} (decrypted; only keys with a
 * value; placeholders when the code is not the approved version's), "allowed_modules": [...], "allowed_hosts": [...], "limits":
 * {"timeout_ms", "memory_mb", "max_procs", "output_bytes"}} ready to become
 * a sandbox "run" request. -TG_E_NOTFOUND when no such tool is served;
 * -TG_E_INTERNAL when a secret fails to decrypt (logged by key name).
 * The result holds secret values: json_decref it as soon as the run is
 * over (install a zeroing jansson allocator in workers).
 */
int tg_tools_served_list(struct tg_db *db, json_t **out);
int tg_tools_served_lookup(struct tg_db *db, const struct tg_config *cfg,
    const char *exposed, json_t **out);

/*
 * security: the name a tool of a server SERVES (its approved version's
 * name) stays its own while a rename waits for review, so no other tool of
 * the server may take it (tools' unique index only covers current names).
 * *tool_id gets the tool of server_id other than except (0: none) served
 * under name, or 0.
 */
int tg_tools_served_as(struct tg_db *db, int64_t server_id, int64_t except,
    const char *name, int64_t *tool_id);

/* Line-based unified diff of a and b (new string, malloc'd; caller
 * frees). Very large inputs get a whole-file replacement hunk. */
char *tg_tools_unified_diff(const char *a, const char *b);

#endif
