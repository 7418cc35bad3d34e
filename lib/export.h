/*
 * export.h - export and import of the whole lifecycle state (service
 * layer, see svc.h): servers, their tools with the full version history,
 * the settings, and secret NAMES (never values, never ciphertexts).
 *
 * Document (format_version 2; ids are not part of it, it is portable
 * between databases):
 *   {"format": "toolgate-export", "format_version": 2,
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
 *            "versions": [{"version", "name", "code", "description",
 *                "input_schema"|null, "schema_source", "annotations"|null,
 *                "change_summary", "author": username|null,
 *                "created_at"}]}],
 *        "sources": [{"name", "description", "url", "transport",
 *            "internal", "enabled", "auth_type", "auth_header"|null,
 *            "credential_set", "connect_timeout_ms", "timeout_ms",
 *            "max_response_bytes", "failure_threshold", "cooldown_s",
 *            "created_at"}],
 *        "external_tools": [{"name", "source": source name,
 *            "remote_name", "remote_hash"|null, "description",
 *            "input_schema"|null, "schema_source", "annotations"|null,
 *            "status", "current_version", "approved_version"|null,
 *            "review_reason"|null, "created_at",
 *            "versions": [as for tools, without "code"]}],
 *        "packages": [{"name", "spec", "import_names", "reason", "status",
 *            "resolution", "created_at"}]}]}
 * ("packages", optional in either format version: the server's package
 * requests with their recorded resolutions, never the trees; see
 * lib/packages.h and docs/packages.md)
 * Servers are ordered by name, tools, sources and external tools by name,
 * versions by number. A source's credential is never part of it (nor its
 * ciphertext or nonce): "credential_set" only says whether one is stored.
 * Format 1 is format 2 without "sources" and "external_tools" (and
 * without imported tools); import reads both.
 *
 * Import takes that document (strict: unknown members, wrong types,
 * invalid names, duplicate names inside the document, versions that are
 * not strictly increasing, a current_version that is not the last version
 * or whose content differs from it, an approved_version that is not one
 * of the versions, an unknown format_version (1 and 2 are read), a source
 * that breaks the rules of sources.h (URL policy with its "internal" flag,
 * auth header, ranges), an external tool whose "source" is not one of its
 * server's sources, a tool name used twice across "tools" and
 * "external_tools": 422 with field paths such as
 * "servers[0].tools[2].versions[1].code"). Everything happens in one
 * transaction: all or nothing. A server whose name already exists is a
 * conflict: 409 with a field error "servers[i].name" per clash, nothing is
 * changed (no overwrite, no merge). Imported tools arrive as drafts
 * (approved_version and review reason cleared) and servers stopped,
 * unless opts->keep_status (admin only) keeps each tool's status and
 * approved version (under the workflow's rule: "approved" only when the
 * approved version is the current one, else pending_review with the
 * approved version served; no approved version behind a draft or a
 * rejected tool) and each server's running state (a running server is
 * checked for exposed-name clashes: 409). Secrets arrive as placeholders
 * without a value. Sources arrive without a credential (as given
 * otherwise, enabled state included; health state starts afresh) and
 * imported tools as tools of kind "external" of the new source, drafts like
 * the rest unless keep_status. Settings are applied (validated like PATCH /settings)
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
#define TG_EXPORT_FORMAT_VERSION 2	/* import reads 1 and 2 */
/* Field errors reported at most per import (the rest are summarised). */
#define TG_EXPORT_MAX_FIELD_ERRORS 100

struct tg_import_opts {
	int keep_status;	/* keep tool status/approved version, server state */
	int skip_settings;	/* do not apply the document's settings */
};

/* *out: the export document (new reference). */
int tg_export_build(const struct tg_call *c, json_t **out, struct tg_err *err);

/* doc: the export document (borrowed). *out: {"servers": [{"name", "id",
 * "status", "tools": [{"name", "id", "status", "versions", "source"?
 * (external tools)}], "sources": [{"name", "id", "credential_required"}]}],
 * "counts": {"servers", "tools" (both kinds), "versions", "secrets",
 * "sources"}, "settings_applied", "keep_status", "warnings": [{"field":
 * "servers[i].sources[j]", "server", "source", "source_id", "message"}]}:
 * one warning per source whose credential must be set again (it had one,
 * or its auth_type is not "none"). */
int tg_export_import(const struct tg_call *c, json_t *doc,
    const struct tg_import_opts *opts, json_t **out, struct tg_err *err);

#endif
