/*
 * versions.c - the tool-versioning rule (see versions.h): one new
 * immutable tool_versions row per content change, current_version bumped
 * with it, and the approval rule applied in the same statement, so that
 * every writer (lib/tools.c, lib/sources_remote.c, lib/export.c) keeps
 * what is served (the approved version) the same way.
 */
#include <stdio.h>
#include <string.h>

#include "lib/db.h"
#include "lib/settings.h"
#include "lib/status.h"
#include "lib/versions.h"

/* The tools row's content becomes version current_version. */
#define APPEND_VERSION \
	"INSERT INTO tool_versions (tool_id, version, name, code, description," \
	" input_schema, schema_source, annotations, change_summary, author_id)" \
	" SELECT id, current_version, name, code, description, input_schema, schema_source," \
	" annotations, $2, $3::bigint FROM tools WHERE id = $1::bigint"

/* An approval reset: the approved tool's new version waits for review. */
#define RESETS "(status = 'approved' AND NOT $3::boolean)"

/*
 * $2 the rule ("edit", or the forced status "pending_review"/"approved"),
 * $3 keep_approval, $4 reason, $5 actor. Every SET expression reads the
 * row as it was before the change.
 */
#define BUMP \
	"UPDATE tools SET" \
	" status = CASE WHEN $2 <> 'edit' THEN $2" \
	"  WHEN " RESETS " THEN 'pending_review'" \
	"  WHEN status = 'rejected' THEN 'draft' ELSE status END," \
	" approved_version = CASE WHEN $2 = 'approved' OR ($2 = 'edit'" \
	"  AND status = 'approved' AND $3::boolean) THEN current_version + 1" \
	"  ELSE approved_version END," \
	" review_reason = CASE WHEN $2 <> 'edit' OR " RESETS " THEN $4" \
	"  WHEN status = 'rejected' THEN NULL ELSE review_reason END," \
	" current_version = current_version + 1, updated_by = $5::bigint," \
	" updated_at = now() WHERE id = $1::bigint RETURNING status"

int
tg_versions_append(struct tg_db *db, const char *tool_id, const char *summary,
    const char *actor)
{
	const char *p[3] = {tool_id, summary, actor};

	return tg_db_exec(db, APPEND_VERSION, 3, p, NULL);
}

int
tg_versions_bump(struct tg_db *db, const struct tg_vchange *ch, char *status,
    size_t cap)
{
	static const char *const rules[] = {"edit", "pending_review", "approved"};
	const char *p[5];
	PGresult *res = NULL;
	int rc;

	p[0] = ch->tool_id;
	p[1] = rules[ch->rule];
	p[2] = ch->keep_approval ? "true" : "false";
	p[3] = ch->reason;
	p[4] = ch->actor;
	if ((rc = tg_db_exec(db, BUMP, 5, p, &res)) != TG_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = -TG_E_NOTFOUND;
		goto out;
	}
	if (status != NULL)
		snprintf(status, cap, "%s", PQgetvalue(res, 0, 0));
	rc = tg_versions_append(db, ch->tool_id, ch->summary, ch->actor);
out:
	PQclear(res);
	return rc;
}

int
tg_versions_keeps_approval(struct tg_db *db, int external, int code_changed,
    int *keep)
{
	int rc, code_only = 0;

	*keep = 0;
	if (external || code_changed)
		return TG_OK;
	if ((rc = tg_settings_reset_code_only(db, &code_only)) != TG_OK)
		return rc;
	*keep = code_only;
	return TG_OK;
}

int
tg_versions_review_source(struct tg_db *db, const char *source_id,
    const char *reason)
{
	const char *p[2] = {source_id, reason};

	return tg_db_exec(db, "UPDATE tools SET status = 'pending_review',"
	    " review_reason = $2, updated_at = now() WHERE source_id = $1::bigint"
	    " AND status = 'approved'", 2, p, NULL);
}

void
tg_versions_import_state(const char **status, int64_t current, int64_t *approved)
{
	if (*approved != 0 && strcmp(*status, "approved") == 0 && *approved != current)
		*status = "pending_review";
	if (strcmp(*status, "approved") != 0 && strcmp(*status, "pending_review") != 0)
		*approved = 0;
}
