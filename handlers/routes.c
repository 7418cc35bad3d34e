/*
 * routes.c - THE route table: the only list of endpoints.
 * {method, pattern, flags, max_body, permission, handler}; patterns are
 * exact segments plus :captures. See fcgi/router.h for the flags.
 */
#include <stddef.h>

#include "fcgi/router.h"
#include "handlers/handlers.h"
#include "fcgi/access.h"

#define KiB 1024

const struct tg_route tg_routes[] = {
	{"GET", "/health", 0, 0, 0, tg_h_health},
	{"GET", "/ready", 0, 0, 0, tg_h_ready},
	{"GET", "/api/v1/version", 0, 0, 0, tg_h_version},
	{"GET", "/metrics", TG_R_AUTH_OPTIONAL, 0, 0, tg_h_metrics},
	{"POST", "/api/v1/_test/echo", TG_R_JSON | TG_R_TEST, 64 * KiB, 0, tg_h_test_echo},
	{"GET", "/api/v1/_test/sleep", TG_R_TEST, 0, 0, tg_h_test_sleep},
	{"POST", "/mcp", TG_R_RAW | TG_R_AUTH_OPTIONAL | TG_R_STREAM, 1024 * KiB, 0, tg_h_mcp},
	{"GET", "/mcp", TG_R_AUTH_OPTIONAL, 0, 0, tg_h_mcp},
	{"DELETE", "/mcp", TG_R_AUTH_OPTIONAL, 0, 0, tg_h_mcp},
	/* identity: handlers/auth.c, users.c, apikeys.c, audit.c */
	{"POST", "/api/v1/auth/login", TG_R_JSON, 8 * KiB, 0, tg_h_auth_login},
	{"POST", "/api/v1/auth/refresh", TG_R_JSON, 4 * KiB, 0, tg_h_auth_refresh},
	{"POST", "/api/v1/auth/logout", TG_R_AUTH | TG_R_JSON_OPT, 4 * KiB, TG_P_SELF, tg_h_auth_logout},
	{"POST", "/api/v1/auth/revoke", TG_R_AUTH | TG_R_JSON, 8 * KiB, TG_P_SELF, tg_h_auth_revoke},
	{"POST", "/api/v1/auth/revoke-all", TG_R_AUTH | TG_R_JSON_OPT, 4 * KiB, TG_P_SELF, tg_h_auth_revoke_all},
	{"GET", "/api/v1/auth/me", TG_R_AUTH, 0, TG_P_SELF, tg_h_auth_me},
	{"GET", "/api/v1/auth/blacklist/stats", TG_R_AUTH, 0, TG_P_USERS, tg_h_auth_blacklist_stats},
	{"GET", "/api/v1/users", TG_R_AUTH, 0, TG_P_USERS, tg_h_users_list},
	{"POST", "/api/v1/users", TG_R_AUTH | TG_R_JSON, 8 * KiB, TG_P_USERS, tg_h_users_create},
	{"GET", "/api/v1/users/:id", TG_R_AUTH, 0, TG_P_USERS, tg_h_users_get},
	{"PATCH", "/api/v1/users/:id", TG_R_AUTH | TG_R_JSON, 8 * KiB, TG_P_USERS, tg_h_users_update},
	{"DELETE", "/api/v1/users/:id", TG_R_AUTH, 0, TG_P_USERS, tg_h_users_delete},
	{"GET", "/api/v1/api-keys", TG_R_AUTH, 0, TG_P_SELF, tg_h_apikeys_list},
	{"POST", "/api/v1/api-keys", TG_R_AUTH | TG_R_JSON, 4 * KiB, TG_P_SELF, tg_h_apikeys_create},
	{"DELETE", "/api/v1/api-keys/:id", TG_R_AUTH, 0, TG_P_SELF, tg_h_apikeys_delete},
	{"GET", "/api/v1/audit", TG_R_AUTH, 0, TG_P_AUDIT, tg_h_audit_list},
	{"GET", "/api/v1/audit/verify", TG_R_AUTH, 0, TG_P_AUDIT, tg_h_audit_verify},
	{"POST", "/api/v1/_test/perm/write", TG_R_AUTH | TG_R_TEST | TG_R_JSON_OPT, 1 * KiB, TG_P_WRITE, tg_h_auth_test_perm},
	{"POST", "/api/v1/_test/perm/approve", TG_R_AUTH | TG_R_TEST | TG_R_JSON_OPT, 1 * KiB, TG_P_APPROVE, tg_h_auth_test_perm},
	{"POST", "/api/v1/_test/perm/secrets", TG_R_AUTH | TG_R_TEST | TG_R_JSON_OPT, 1 * KiB, TG_P_SECRETS, tg_h_auth_test_perm},
	/* lifecycle: servers, tools, versions, approvals, secrets, settings */
	{"GET", "/api/v1/servers", TG_R_AUTH, 0, TG_P_READ, tg_h_servers_list},
	{"POST", "/api/v1/servers", TG_R_AUTH | TG_R_JSON, 16 * KiB, TG_P_WRITE, tg_h_servers_create},
	{"GET", "/api/v1/servers/:id", TG_R_AUTH, 0, TG_P_READ, tg_h_servers_get},
	{"PATCH", "/api/v1/servers/:id", TG_R_AUTH | TG_R_JSON, 16 * KiB, TG_P_WRITE, tg_h_servers_update},
	{"DELETE", "/api/v1/servers/:id", TG_R_AUTH, 0, TG_P_WRITE, tg_h_servers_delete},
	{"POST", "/api/v1/servers/:id/start", TG_R_AUTH | TG_R_JSON_OPT, 1 * KiB, TG_P_WRITE, tg_h_servers_start},
	{"POST", "/api/v1/servers/:id/stop", TG_R_AUTH | TG_R_JSON_OPT, 1 * KiB, TG_P_WRITE, tg_h_servers_stop},
	{"GET", "/api/v1/servers/:id/tools", TG_R_AUTH, 0, TG_P_READ, tg_h_tools_list},
	{"POST", "/api/v1/servers/:id/tools", TG_R_AUTH | TG_R_JSON, 1024 * KiB, TG_P_WRITE, tg_h_tools_create},
	{"GET", "/api/v1/servers/:id/secrets", TG_R_AUTH, 0, TG_P_READ, tg_h_secrets_list},
	{"POST", "/api/v1/servers/:id/secrets", TG_R_AUTH | TG_R_JSON, 80 * KiB, TG_P_WRITE, tg_h_secrets_create},
	{"PUT", "/api/v1/servers/:id/secrets/:key", TG_R_AUTH | TG_R_JSON, 80 * KiB, TG_P_SECRETS, tg_h_secrets_set},
	{"DELETE", "/api/v1/servers/:id/secrets/:key", TG_R_AUTH, 0, TG_P_SECRETS, tg_h_secrets_delete},
	{"GET", "/api/v1/tools/:id", TG_R_AUTH, 0, TG_P_READ, tg_h_tools_get},
	{"PATCH", "/api/v1/tools/:id", TG_R_AUTH | TG_R_JSON, 1024 * KiB, TG_P_WRITE, tg_h_tools_update},
	{"DELETE", "/api/v1/tools/:id", TG_R_AUTH, 0, TG_P_WRITE, tg_h_tools_delete},
	{"GET", "/api/v1/tools/:id/versions", TG_R_AUTH, 0, TG_P_READ, tg_h_tools_versions},
	{"GET", "/api/v1/tools/:id/versions/:n", TG_R_AUTH, 0, TG_P_READ, tg_h_tools_version_get},
	{"GET", "/api/v1/tools/:id/diff", TG_R_AUTH, 0, TG_P_READ, tg_h_tools_diff},
	/* execution logs: handlers/logs.c */
	{"GET", "/api/v1/tools/:id/logs", TG_R_AUTH, 0, TG_P_READ, tg_h_logs_tool},
	{"GET", "/api/v1/servers/:id/logs", TG_R_AUTH, 0, TG_P_READ, tg_h_logs_server},
	{"GET", "/api/v1/logs/:id", TG_R_AUTH, 0, TG_P_READ, tg_h_logs_get},
	{"POST", "/api/v1/tools/:id/rollback", TG_R_AUTH | TG_R_JSON, 1 * KiB, TG_P_WRITE, tg_h_tools_rollback},
	{"POST", "/api/v1/tools/:id/submit", TG_R_AUTH | TG_R_JSON_OPT, 4 * KiB, TG_P_WRITE, tg_h_tools_submit},
	{"POST", "/api/v1/tools/:id/approve", TG_R_AUTH | TG_R_JSON_OPT, 4 * KiB, TG_P_APPROVE, tg_h_tools_approve},
	{"POST", "/api/v1/tools/:id/reject", TG_R_AUTH | TG_R_JSON_OPT, 4 * KiB, TG_P_APPROVE, tg_h_tools_reject},
	{"POST", "/api/v1/tools/:id/revoke", TG_R_AUTH | TG_R_JSON_OPT, 4 * KiB, TG_P_APPROVE, tg_h_tools_revoke},
	{"POST", "/api/v1/tools/:id/test", TG_R_AUTH | TG_R_JSON_OPT, 512 * KiB, TG_P_RUN, tg_h_tools_test},
	{"POST", "/api/v1/validate", TG_R_AUTH | TG_R_JSON, 1024 * KiB, TG_P_RUN, tg_h_validate},
	{"GET", "/api/v1/approvals", TG_R_AUTH, 0, TG_P_READ, tg_h_approvals_list},
	{"GET", "/api/v1/module-requests", TG_R_AUTH, 0, TG_P_READ, tg_h_module_requests_list},
	{"POST", "/api/v1/module-requests", TG_R_AUTH | TG_R_JSON, 8 * KiB, TG_P_WRITE, tg_h_module_requests_create},
	{"POST", "/api/v1/module-requests/:id/approve", TG_R_AUTH | TG_R_JSON_OPT, 4 * KiB, TG_P_APPROVE, tg_h_module_requests_approve},
	{"POST", "/api/v1/module-requests/:id/reject", TG_R_AUTH | TG_R_JSON_OPT, 4 * KiB, TG_P_APPROVE, tg_h_module_requests_reject},
	{"GET", "/api/v1/network-requests", TG_R_AUTH, 0, TG_P_READ, tg_h_network_requests_list},
	{"POST", "/api/v1/network-requests", TG_R_AUTH | TG_R_JSON, 8 * KiB, TG_P_WRITE, tg_h_network_requests_create},
	{"POST", "/api/v1/network-requests/:id/approve", TG_R_AUTH | TG_R_JSON_OPT, 4 * KiB, TG_P_APPROVE, tg_h_network_requests_approve},
	{"POST", "/api/v1/network-requests/:id/reject", TG_R_AUTH | TG_R_JSON_OPT, 4 * KiB, TG_P_APPROVE, tg_h_network_requests_reject},
	{"GET", "/api/v1/settings", TG_R_AUTH, 0, TG_P_READ, tg_h_settings_get},
	{"PATCH", "/api/v1/settings", TG_R_AUTH | TG_R_JSON, 64 * KiB, TG_P_SETTINGS, tg_h_settings_patch},
	{"GET", "/api/v1/export", TG_R_AUTH, 0, TG_P_SETTINGS, tg_h_export},
	{"POST", "/api/v1/import", TG_R_AUTH | TG_R_JSON, 8192 * KiB, TG_P_SETTINGS, tg_h_import},
	/* external MCP sources: handlers/sources.c */
	{"GET", "/api/v1/servers/:id/sources", TG_R_AUTH, 0, TG_P_READ, tg_h_sources_list},
	{"POST", "/api/v1/servers/:id/sources", TG_R_AUTH | TG_R_JSON, 32 * KiB, TG_P_WRITE, tg_h_sources_create},
	{"GET", "/api/v1/sources/:id", TG_R_AUTH, 0, TG_P_READ, tg_h_sources_get},
	{"PATCH", "/api/v1/sources/:id", TG_R_AUTH | TG_R_JSON, 32 * KiB, TG_P_WRITE, tg_h_sources_update},
	{"DELETE", "/api/v1/sources/:id", TG_R_AUTH, 0, TG_P_WRITE, tg_h_sources_delete},
	{"POST", "/api/v1/sources/:id/discover", TG_R_AUTH | TG_R_JSON_OPT, 1 * KiB, TG_P_WRITE, tg_h_sources_discover},
	{"POST", "/api/v1/sources/:id/import", TG_R_AUTH | TG_R_JSON, 64 * KiB, TG_P_WRITE, tg_h_sources_import},
	{"GET", "/api/v1/sources/:id/health", TG_R_AUTH, 0, TG_P_READ, tg_h_sources_health},
	{NULL, NULL, 0, 0, 0, NULL},
};
