/*
 * export.h - export and import of the whole lifecycle state (service
 * layer, see svc.h): servers, their tools with the full version history,
 * the settings, and secret NAMES (never values, never ciphertexts).
 *
 * Document (format_version 1; ids are not part of it, it is portable
 * between databases):
 *   {"format": "toolgate-export", "format_version": 1,
 *    "exported_at": "2025-01-01T00:00:00Z",
 *    "settings": {effective settings, see settings.h},
 *    "servers": [{"name", "description", "tool_prefix": string|null,
 *        "status": "running"|"stopped", "allowed_hosts": [host],
 *        "created_at",
 *        "secrets": [{"key", "description", "has_value"}],
 *        "tools": [{"name", "description", "code", "input_schema"|null,
 *            "schema_source", "annotations"|null, "status",
 *            "current_version", "approved_version"|null,
 *            "review_reason"|null, "created_at",
 *            "versions": [{"version", "code", "description",
 *                "input_schema"|null, "schema_source", "annotations"|null,
 *                "change_summary", "author": username|null,
 *                "created_at"}]}]}]}
 * Servers are ordered by name, tools by name, versions by number.
 * Tools imported from external MCP sources (kind "external") and the
 * sources themselves are not part of format 1: re-add the source and run
 * its discover/import on the target.
 *
 * Import takes that document (strict: unknown members, wrong types,
 * invalid names, duplicate names inside the document, versions that are
 * not strictly increasing, a current_version that is not the last version
 * or whose content differs from it, an approved_version that is not one
 * of the versions, an unknown format_version: 422 with field paths such as
 * "servers[0].tools[2].versions[1].code"). Everything happens in one
 * transaction: all or nothing. A server whose name already exists is a
 * conflict: 409 with a field error "servers[i].name" per clash, nothing is
 * changed (no overwrite, no merge). Imported tools arrive as drafts
 * (approved_version and review reason cleared) and servers stopped,
 * unless opts->keep_status (admin only) keeps each tool's status and
 * approved version and each server's running state (a running server is
 * checked for exposed-name clashes: 409). Secrets arrive as placeholders
 * without a value. Settings are applied (validated like PATCH /settings)
 * unless opts->skip_settings. Version authors are not mapped between
 * databases (author_id NULL); timestamps of servers, tools and versions
 * are kept. Code is not run through the validator (it is re-validated on
 * the next save); its size is checked against limits.code_bytes.
 *
 * Roles: both need admin (the export holds all code). Audited ("export",
 * "import").
 */
#ifndef TG_EXPORT_H
#define TG_EXPORT_H

#include <jansson.h>

#include "lib/svc.h"

#define TG_EXPORT_FORMAT "toolgate-export"
#define TG_EXPORT_FORMAT_VERSION 1
/* Field errors reported at most per import (the rest are summarised). */
#define TG_EXPORT_MAX_FIELD_ERRORS 100

struct tg_import_opts {
	int keep_status;	/* keep tool status/approved version, server state */
	int skip_settings;	/* do not apply the document's settings */
};

/* *out: the export document (new reference). */
int tg_export_build(struct tg_req *req, json_t **out, struct tg_err *err);

/* doc: the export document (borrowed). *out: {"servers": [{"name", "id",
 * "status", "tools": [{"name", "id", "status", "versions"}]}], "counts":
 * {"servers", "tools", "versions", "secrets"}, "settings_applied",
 * "keep_status"}. */
int tg_export_import(struct tg_req *req, json_t *doc,
    const struct tg_import_opts *opts, json_t **out, struct tg_err *err);

#endif
