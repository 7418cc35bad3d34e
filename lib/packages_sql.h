/*
 * packages_sql.h - a package request as JSON, for lib/packages.c and the
 * pending list of lib/approvals.c (a header of its own, so that neither
 * service includes the other's).
 */
#ifndef TG_PACKAGES_SQL_H
#define TG_PACKAGES_SQL_H

#include "lib/clock.h"

/* A request as JSON text, over package_requests r JOIN servers s (the
 * list, lib/approvals.c's pending list). The resolution is shown once
 * there is one: not while resolving, nor when the resolution failed (a
 * failed install, decided_at set, keeps what was reviewed). */
#define TG_PACKAGES_JSON \
	"json_build_object('id', r.id, 'kind', 'package_request', 'server_id'," \
	" r.server_id, 'server_name', s.name, 'name', r.name, 'spec', r.spec," \
	" 'import_names', to_json(r.import_names), 'reason', r.reason," \
	" 'tool_id', r.tool_id, 'status', r.status, 'extras', to_json(r.extras)," \
	" 'resolution', CASE WHEN r.status = 'resolving' OR (r.status = 'failed'" \
	" AND r.decided_at IS NULL) THEN NULL ELSE r.resolution END, 'error', r.error," \
	" 'attempts', r.attempts, 'resolved_at', " TG_SQL_TS("r.resolved_at") "," \
	" 'installed_at', " TG_SQL_TS("r.installed_at") "," \
	" 'requested_by', r.requested_by, 'decided_by', r.decided_by," \
	" 'decision_reason', r.decision_reason, 'created_at', " TG_SQL_TS("r.created_at") "," \
	" 'decided_at', " TG_SQL_TS("r.decided_at") ")::text" \
	" FROM package_requests r JOIN servers s ON s.id = r.server_id"

#endif
