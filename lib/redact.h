/*
 * redact.h - what never reaches a log or a reader of one: values under
 * sensitive keys, the values of a server's secrets, and texts past their
 * size limit. Pure functions over strings and jansson values (no
 * database, no request), below both the writer of execution logs
 * (lib/execlog.c) and their reader (lib/logs.c).
 *
 * The names keep their former homes' prefixes (tg_mcp_*, tg_logs_*): the
 * MCP gateway and the log reader, and the tests, call them by those.
 */
#ifndef TG_REDACT_H
#define TG_REDACT_H

#include <stddef.h>

#include <jansson.h>

#define TG_REDACTED "[REDACTED]"
#define TG_LOGS_SCRUB_MIN 4	/* shorter secret values are not scrubbed */

/*
 * Copy of v (new reference) where every object member whose key contains
 * password, secret, token, key, auth, credential or cookie
 * (case-insensitive), at any depth, is replaced by "[REDACTED]".
 */
json_t *tg_mcp_redact(const json_t *v);
/* 1 when key names a sensitive value (see tg_mcp_redact). */
int tg_mcp_key_sensitive(const char *key);

/*
 * Copy of s (n bytes) cut to at most max bytes at a UTF-8 boundary, with
 * the marker "…[truncated N bytes]" appended when cut. malloc'd (free());
 * NULL on OOM.
 */
char *tg_mcp_truncate(const char *s, size_t n, size_t max);

/*
 * Copy of s (malloc'd, free(); NULL on OOM) in which every value of
 * secrets (an object of name -> string, as tg_secrets_decrypt_all gives;
 * NULL or {} for none) of at least TG_LOGS_SCRUB_MIN bytes is replaced by
 * "[REDACTED]", both raw and in its JSON-escaped form. Used at write time
 * (lib/execlog.c) and on the way out (lib/logs.c).
 */
char *tg_logs_scrub(const char *s, const json_t *secrets);

#endif
