/*
 * approvals.h - the review queues: pending tools, module requests (add a
 * Python module to the global allow-list) and network requests (allow a
 * host for one server). Service layer, see svc.h.
 *
 * Module request: {"id", "kind":"module_request", "module", "reason",
 *   "tool_id"|null, "status":"pending"|"approved"|"rejected",
 *   "requested_by", "decided_by", "decision_reason", "created_at",
 *   "decided_at"}
 * Package request: lib/packages.h (TG_PACKAGES_JSON), in the pending list.
 * Network request: {"id", "kind":"network_request", "server_id",
 *   "server_name", "host", "reason", "status", ...same decision fields}
 * Pending tool: {"id", "kind":"tool", "server_id", "server_name", "name",
 *   "exposed_name", "current_version", "approved_version", "updated_at",
 *   "diff": {"from_version", "to_version", "changed": [member names],
 *   "identical", "lines_added", "lines_removed"}} (GET /tools/{id}/diff
 *   shows the whole change against approved_version).
 *
 * Inputs: module {"module"!, "reason"?, "tool_id"?}; network {"server_id"!
 * (id or server name), "host"! (lower-case host name or IP, optional
 * :port, "*." wildcard prefix allowed), "reason"?}; decisions: approve
 * {"reason"?}, reject {"reason"!}.
 * Errors: 404 unknown ids, 409 a pending request for the same thing
 * exists / already allowed / already decided, 422 invalid.
 * Roles: list viewer, create developer, decide admin.
 */
#ifndef TG_APPROVALS_H
#define TG_APPROVALS_H

#include <stdint.h>

#include <jansson.h>

#include "lib/svc.h"

/* Everything pending, tools first, then module, then network requests. */
int tg_approvals_pending(const struct tg_call *c, const struct tg_page *pg,
    json_t **out, struct tg_err *err);

int tg_module_requests_create(const struct tg_call *c, json_t *in, json_t **out,
    struct tg_err *err);
int tg_module_requests_list(const struct tg_call *c, const char *status,
    const struct tg_page *pg, json_t **out, struct tg_err *err);
int tg_module_requests_decide(const struct tg_call *c, int64_t id, int approve,
    json_t *in, json_t **out, struct tg_err *err);

int tg_network_requests_create(const struct tg_call *c, json_t *in,
    json_t **out, struct tg_err *err);
int tg_network_requests_list(const struct tg_call *c, const char *status,
    const struct tg_page *pg, json_t **out, struct tg_err *err);
int tg_network_requests_decide(const struct tg_call *c, int64_t id, int approve,
    json_t *in, json_t **out, struct tg_err *err);

int tg_approvals_valid_host(const char *s);

#endif
