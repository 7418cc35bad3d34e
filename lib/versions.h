/*
 * versions.h - the tool-versioning rule, in one place for every writer of
 * tool content: the tools service (create, update, rollback), external
 * sources (import, discover) and the export import (lib/export.c).
 *
 * A tool's content (name, code, description, input schema, annotations)
 * lives in tools (the current version) and, immutably, in tool_versions.
 * A content change makes a new version: tools.current_version goes up by
 * one and the new content is appended as a tool_versions row, in the
 * caller's transaction. What is served is the APPROVED version
 * (tools.approved_version, docs/security.md "Review findings", issue #14),
 * so a change never moves an approval by itself:
 *
 *  - an approved tool goes back to review (pending_review, review_reason
 *    the caller's reason or NULL; its approved version stays served)
 *    unless the approval survives the change (tg_versions_keeps_approval:
 *    a Python tool, no code change and the setting approval_reset_on
 *    "code"), in which case the approval moves to the new version (status
 *    stays 'approved': 'approved' means the approved version IS the
 *    current one);
 *  - a rejected tool becomes a draft and its review_reason is cleared
 *    (the rejection was of an older version);
 *  - a rollback either goes to review, or, when the content is the
 *    approved version's again, is approved at once (TG_V_APPROVED);
 *    either way review_reason is the caller's (NULL).
 * Nothing else moves approved_version: approve, reject and revoke
 * (lib/tools.c) do, without a new version.
 */
#ifndef TG_VERSIONS_H
#define TG_VERSIONS_H

#include <stdint.h>

struct tg_db;

/* What a new version does to the approval. */
enum tg_vrule {
	TG_V_EDIT,	/* the content-change rule above */
	TG_V_REVIEW,	/* the new version waits for review, whatever the status */
	TG_V_APPROVED,	/* the new version is approved (reviewed content again) */
};

struct tg_vchange {
	const char *tool_id;	/* decimal */
	const char *summary;	/* change_summary of the new version */
	const char *actor;	/* user id (decimal) or NULL */
	enum tg_vrule rule;
	int keep_approval;	/* TG_V_EDIT: the approval survives (see above) */
	const char *reason;	/* review_reason when the approval is reset or the
				 * status is forced; NULL clears it */
};

/*
 * Appends the tool's current content (tools row tool_id) as the immutable
 * version current_version: the first version of a new tool, or the last
 * step of tg_versions_bump(). In the caller's transaction.
 */
int tg_versions_append(struct tg_db *db, const char *tool_id,
    const char *summary, const char *actor);

/*
 * A content change of tool ch->tool_id, whose tools row already holds the
 * new content: bumps current_version, applies ch->rule to status,
 * approved_version and review_reason, and appends the new version. In the
 * caller's transaction (the row should be locked by it, or the change made
 * by one statement). status (cap >= 16, may be NULL) gets the new status.
 * -TG_E_NOTFOUND when there is no such tool.
 */
int tg_versions_bump(struct tg_db *db, const struct tg_vchange *ch,
    char *status, size_t cap);

/*
 * Whether an approval survives a content change (TG_V_EDIT keep_approval):
 * only for a Python tool (an imported tool's behaviour lives on its
 * source), without a code change, under approval_reset_on "code".
 */
int tg_versions_keeps_approval(struct tg_db *db, int external,
    int code_changed, int *keep);

/*
 * Every approved tool imported from source source_id (decimal) goes back
 * to review with reason, without a new version (its endpoint changed).
 */
int tg_versions_review_source(struct tg_db *db, const char *source_id,
    const char *reason);

/*
 * The approval state an imported document (lib/export.c, keep_status) may
 * keep: 'approved' only when the approved version is the current one
 * (otherwise pending_review, the approved one served); an approved version
 * only for an approved or pending tool (older documents cannot tell a
 * revoked tool from a rejected newer version). *status is updated;
 * *approved is set to 0 when it is dropped (0: none).
 */
void tg_versions_import_state(const char **status, int64_t current,
    int64_t *approved);

#endif
