/*
 * packages.h - third-party Python packages (docs/packages.md, issue #20).
 *
 * A package request names a distribution for one server. Creating it
 * resolves it off the request path, inside the sandbox (lib/pkg_resolver.py, egress
 * only to TOOLGATE_PIP_INDEX_URL and TOOLGATE_OSV_URL, wheels only): the
 * request records the exact closure {name, version, url, sha256, import
 * names} and what the reviewer needs (summary, licence, home page,
 * vulnerabilities, the diff against the approved version). Approval
 * (again off the request path) installs exactly that closure (each wheel downloaded again in the
 * sandbox, its sha256 compared with the recorded one) into a new
 * content-addressed, read-only tree TOOLGATE_PACKAGES_DIR/<sha256>; the
 * server's package set (package_sets) names that tree. Tool runs of the
 * server mount it read-only (tg_packages_apply).
 *
 * Request JSON: {"id", "kind":"package_request", "server_id",
 * "server_name", "name", "spec", "import_names", "reason", "tool_id",
 * "status", "extras", "resolution", "error", "attempts", "resolved_at",
 * "installed_at", "requested_by", "decided_by", "decision_reason",
 * "created_at", "decided_at"}.
 */
#ifndef TG_PACKAGES_H
#define TG_PACKAGES_H

#include <stdint.h>

#include <jansson.h>

#include "lib/call.h"
#include "lib/config.h"
#include "lib/db.h"
#include "lib/err.h"
#include "lib/sandbox_client.h"
#include "lib/svc.h"

#include "lib/packages_sql.h"

/* NOTIFY channel: a request was created or approved (payload: its id) */
#define TG_PKG_JOBS_CHANNEL "toolgate_packages"
/* The database application name of every package-job process (the
 * master's and `toolgate packages run-jobs`): how a worker tells whether
 * one is connected ("job_runner" in the answers below). */
#define TG_PKG_JOBS_APPNAME "toolgate-packages"

/*
 * The package-job process (lib/pkg_jobs.c), one per master: runs the due
 * jobs one at a time - resolves 'resolving' requests and installs
 * 'installing' ones - woken by TG_PKG_JOBS_CHANNEL and every few seconds.
 * A request is claimed with a session advisory lock, so a process that
 * dies (or a host that goes away) lets the next one take it over; the
 * outcome is written in one transaction. Never returns.
 */
void tg_pkg_jobs_main(const struct tg_config *cfg) __attribute__((noreturn));
/* One job if one is due: 1 done, 0 none, negative -TG_E_*. done (may be
 * NULL): the request afterwards, {"id", "name", "status", "error"}. */
int tg_pkg_jobs_run_one(struct tg_db *db, const struct tg_config *cfg,
    json_t **done);
/*
 * The job loop without the master (`toolgate packages run-jobs`): once,
 * every due job and then returns how many ran (negative -TG_E_* when the
 * database cannot be used); otherwise forever (LISTEN, reconnecting),
 * like tg_pkg_jobs_main. report (may be NULL) sees each finished request
 * as tg_pkg_jobs_run_one's done.
 */
int tg_pkg_jobs_run(const struct tg_config *cfg, int once,
    void (*report)(const json_t *done));

/* POST: {"server_id", "name" (or "name[extra,...]"), "version"?,
 * "import_names"?, "reason"?, "tool_id"?} -> 202 the request, status
 * "resolving": the package-job process (tg_pkg_jobs_main) resolves it in
 * the sandbox and makes it "pending" (the review document in "resolution")
 * or "failed" ("error": {"status": 422|503, "message"}). 422 bad input,
 * 409 one already resolving or pending, 503 no index configured. */
int tg_packages_create(const struct tg_call *c, json_t *in, json_t **out,
    struct tg_err *err);
int tg_packages_list(const struct tg_call *c, const char *status,
    const struct tg_page *pg, json_t **out, struct tg_err *err);
int tg_packages_get(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err);

enum tg_pkg_action { TG_PKG_APPROVE,
	TG_PKG_REJECT,
	TG_PKG_REVOKE };
/* approve (pending -> installing, answered 202 at once: the version
 * conflicts of the new set are checked now (409); the package-job process
 * then builds the set's tree - every wheel downloaded again, its hash
 * compared with the recorded one - and makes the request approved (an
 * older approved one superseded) and rewrites the set in one transaction,
 * or makes it failed with the reason; until then the server keeps its
 * previous set), reject (pending), revoke (approved -> revoked: gone from
 * new calls at once). Body optional {"reason"}. An answer that waits for
 * the package-job process (create, approve) carries "job_runner":
 * {"connected", "message"?}. */
int tg_packages_decide(const struct tg_call *c, int64_t id,
    enum tg_pkg_action action, json_t *in, json_t **out, struct tg_err *err);

/*
 * Tool runs: when server_id has a package set, make sure its tree exists
 * (built from the recorded hashes on first use on this host), add
 * "packages": <tree path> to the sandbox request sreq, append the set's
 * import names to its allowed_modules and run cold (o->warm = 0; see
 * docs/sandbox.md). No set: nothing changes. 0 or -TG_E_* with a one-line
 * reason in msg.
 */
int tg_packages_apply(struct tg_db *db, const struct tg_config *cfg,
    int64_t server_id, json_t *sreq, struct tg_sandbox_opts *o, char *msg,
    size_t msglen);

/* performance: the same with the set already read (set: the server's
 * package set as TG_PACKAGES_SET_JSON builds it, JSON null or NULL for
 * none), e.g. by the served-tool lookup in the same statement as the tool
 * (tg_tools_served_lookup, "package_set"): no round trip of its own. */
int tg_packages_apply_set(const struct tg_config *cfg, const json_t *set,
    json_t *sreq, struct tg_sandbox_opts *o, char *msg, size_t msglen);

/* A package_sets row (unqualified columns) as the JSON the two above read. */
#define TG_PACKAGES_SET_JSON \
	"json_build_object('tree', tree, 'closure', closure, 'import_names'," \
	" to_json(import_names))"

/* The validator: appends the import names of server_id's package set to
 * the array mods (nothing when it has none or mods is not an array). */
int tg_packages_import_names(struct tg_db *db, int64_t server_id, json_t *mods);

/* Export (lib/export.c): a server's package requests with their recorded
 * resolutions, as a SQL expression over servers s (the trees are not part
 * of an export; a host builds them from the recorded hashes on first use).
 * One still installing travels as pending: its approval is not done. */
#define TG_PACKAGES_EXPORT \
	"coalesce((SELECT json_agg(json_build_object('name', r.name, 'spec'," \
	" r.spec, 'import_names', to_json(r.import_names), 'reason', r.reason," \
	" 'status', CASE r.status WHEN 'installing' THEN 'pending' ELSE r.status END," \
	" 'resolution', r.resolution, 'created_at'," \
	" r.created_at) ORDER BY r.id) FROM package_requests r WHERE" \
	" r.server_id = s.id AND r.status NOT IN ('resolving', 'failed')), '[]'::json)"

/* Import: 0 when the exported request o is well-formed (its closure
 * entries have names, versions, http(s) URLs of .whl files and sha256
 * hashes), else -1 with why set. */
int tg_packages_check_export(json_t *o, char *why, size_t cap);

/* Import: inserts the requests of arr (checked) for server_id and writes
 * its package set. Without keep_status an approved request comes back
 * pending (a new review), or superseded when the document also has a
 * pending one for that name. 0 or -TG_E_* with err set. */
int tg_packages_import(const struct tg_call *c, int64_t server_id, json_t *arr,
    int keep_status, const char *actor, struct tg_err *err);

/* Unused trees stay this long (a call runs at most 600 s; a call touches
 * its tree when it starts). */
#define TG_PACKAGES_GC_GRACE_S 3600

/* Maintenance: removes trees under TOOLGATE_PACKAGES_DIR that no package
 * set names and that are older than grace_s. Number removed or -TG_E_*. */
int tg_packages_gc(struct tg_db *db, const struct tg_config *cfg,
    int64_t grace_s);

#endif
