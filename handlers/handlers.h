/*
 * handlers.h - every handler's prototype, one block per handlers/ file.
 * The route table in routes.c is the only place that binds them to paths.
 */
#ifndef TG_HANDLERS_H
#define TG_HANDLERS_H

struct tg_req;
struct tg_resp;

/* health.c */
int tg_h_health(struct tg_req *req, struct tg_resp *resp);
int tg_h_ready(struct tg_req *req, struct tg_resp *resp);
int tg_h_version(struct tg_req *req, struct tg_resp *resp);
int tg_h_test_echo(struct tg_req *req, struct tg_resp *resp);
int tg_h_test_sleep(struct tg_req *req, struct tg_resp *resp);

/* metrics.c */
int tg_h_metrics(struct tg_req *req, struct tg_resp *resp);

/* mcp.c: POST/GET/DELETE /mcp (Streamable HTTP, JSON-RPC) */
int tg_h_mcp(struct tg_req *req, struct tg_resp *resp);

/* auth.c */
int tg_h_auth_login(struct tg_req *req, struct tg_resp *resp);
int tg_h_auth_refresh(struct tg_req *req, struct tg_resp *resp);
int tg_h_auth_logout(struct tg_req *req, struct tg_resp *resp);
int tg_h_auth_revoke(struct tg_req *req, struct tg_resp *resp);
int tg_h_auth_revoke_all(struct tg_req *req, struct tg_resp *resp);
int tg_h_auth_me(struct tg_req *req, struct tg_resp *resp);
int tg_h_auth_blacklist_stats(struct tg_req *req, struct tg_resp *resp);
int tg_h_auth_test_perm(struct tg_req *req, struct tg_resp *resp);

/* users.c */
int tg_h_users_list(struct tg_req *req, struct tg_resp *resp);
int tg_h_users_create(struct tg_req *req, struct tg_resp *resp);
int tg_h_users_get(struct tg_req *req, struct tg_resp *resp);
int tg_h_users_update(struct tg_req *req, struct tg_resp *resp);
int tg_h_users_delete(struct tg_req *req, struct tg_resp *resp);

/* apikeys.c */
int tg_h_apikeys_list(struct tg_req *req, struct tg_resp *resp);
int tg_h_apikeys_create(struct tg_req *req, struct tg_resp *resp);
int tg_h_apikeys_delete(struct tg_req *req, struct tg_resp *resp);

/* audit.c */
int tg_h_audit_list(struct tg_req *req, struct tg_resp *resp);
int tg_h_audit_verify(struct tg_req *req, struct tg_resp *resp);

/* servers.c, tools.c, secrets.c, settings.c, approvals.c, export.c: tool lifecycle */
int tg_h_servers_list(struct tg_req *req, struct tg_resp *resp);
int tg_h_servers_create(struct tg_req *req, struct tg_resp *resp);
int tg_h_servers_get(struct tg_req *req, struct tg_resp *resp);
int tg_h_servers_update(struct tg_req *req, struct tg_resp *resp);
int tg_h_servers_delete(struct tg_req *req, struct tg_resp *resp);
int tg_h_servers_start(struct tg_req *req, struct tg_resp *resp);
int tg_h_servers_stop(struct tg_req *req, struct tg_resp *resp);
int tg_h_tools_list(struct tg_req *req, struct tg_resp *resp);
int tg_h_tools_create(struct tg_req *req, struct tg_resp *resp);
int tg_h_tools_get(struct tg_req *req, struct tg_resp *resp);
int tg_h_tools_update(struct tg_req *req, struct tg_resp *resp);
int tg_h_tools_delete(struct tg_req *req, struct tg_resp *resp);
int tg_h_tools_versions(struct tg_req *req, struct tg_resp *resp);
int tg_h_tools_version_get(struct tg_req *req, struct tg_resp *resp);
int tg_h_tools_rollback(struct tg_req *req, struct tg_resp *resp);
int tg_h_tools_submit(struct tg_req *req, struct tg_resp *resp);
int tg_h_tools_approve(struct tg_req *req, struct tg_resp *resp);
int tg_h_tools_reject(struct tg_req *req, struct tg_resp *resp);
int tg_h_tools_revoke(struct tg_req *req, struct tg_resp *resp);
int tg_h_tools_diff(struct tg_req *req, struct tg_resp *resp);
int tg_h_tools_test(struct tg_req *req, struct tg_resp *resp);
int tg_h_validate(struct tg_req *req, struct tg_resp *resp);
/* logs.c: execution logs */
int tg_h_logs_tool(struct tg_req *req, struct tg_resp *resp);
int tg_h_logs_server(struct tg_req *req, struct tg_resp *resp);
int tg_h_logs_get(struct tg_req *req, struct tg_resp *resp);
int tg_h_secrets_list(struct tg_req *req, struct tg_resp *resp);
int tg_h_secrets_create(struct tg_req *req, struct tg_resp *resp);
int tg_h_secrets_set(struct tg_req *req, struct tg_resp *resp);
int tg_h_secrets_delete(struct tg_req *req, struct tg_resp *resp);
int tg_h_settings_get(struct tg_req *req, struct tg_resp *resp);
int tg_h_settings_patch(struct tg_req *req, struct tg_resp *resp);
int tg_h_approvals_list(struct tg_req *req, struct tg_resp *resp);
int tg_h_module_requests_list(struct tg_req *req, struct tg_resp *resp);
int tg_h_module_requests_create(struct tg_req *req, struct tg_resp *resp);
int tg_h_module_requests_approve(struct tg_req *req, struct tg_resp *resp);
int tg_h_module_requests_reject(struct tg_req *req, struct tg_resp *resp);
int tg_h_network_requests_list(struct tg_req *req, struct tg_resp *resp);
int tg_h_network_requests_create(struct tg_req *req, struct tg_resp *resp);
int tg_h_network_requests_approve(struct tg_req *req, struct tg_resp *resp);
int tg_h_network_requests_reject(struct tg_req *req, struct tg_resp *resp);
/* packages.c: third-party Python packages */
int tg_h_packages_list(struct tg_req *req, struct tg_resp *resp);
int tg_h_packages_create(struct tg_req *req, struct tg_resp *resp);
int tg_h_packages_get(struct tg_req *req, struct tg_resp *resp);
int tg_h_packages_approve(struct tg_req *req, struct tg_resp *resp);
int tg_h_packages_reject(struct tg_req *req, struct tg_resp *resp);
int tg_h_packages_revoke(struct tg_req *req, struct tg_resp *resp);
int tg_h_export(struct tg_req *req, struct tg_resp *resp);
int tg_h_import(struct tg_req *req, struct tg_resp *resp);

/* sources.c: external MCP sources */
int tg_h_sources_list(struct tg_req *req, struct tg_resp *resp);
int tg_h_sources_create(struct tg_req *req, struct tg_resp *resp);
int tg_h_sources_get(struct tg_req *req, struct tg_resp *resp);
int tg_h_sources_update(struct tg_req *req, struct tg_resp *resp);
int tg_h_sources_delete(struct tg_req *req, struct tg_resp *resp);
int tg_h_sources_discover(struct tg_req *req, struct tg_resp *resp);
int tg_h_sources_import(struct tg_req *req, struct tg_resp *resp);
int tg_h_sources_health(struct tg_req *req, struct tg_resp *resp);

#endif
