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
int tg_h_version(struct tg_req *req, struct tg_resp *resp);
int tg_h_test_echo(struct tg_req *req, struct tg_resp *resp);
int tg_h_test_sleep(struct tg_req *req, struct tg_resp *resp);
int tg_h_test_aborted_commit(struct tg_req *req, struct tg_resp *resp);
int tg_h_test_sqlstate(struct tg_req *req, struct tg_resp *resp);

/* metrics.c */
int tg_h_metrics(struct tg_req *req, struct tg_resp *resp);

/* mcp.c: POST/GET/DELETE /mcp (Streamable HTTP, JSON-RPC) */
int tg_h_mcp(struct tg_req *req, struct tg_resp *resp);

/* auth.c */
int tg_h_auth_login(struct tg_req *req, struct tg_resp *resp);
int tg_h_auth_refresh(struct tg_req *req, struct tg_resp *resp);
int tg_h_auth_me(struct tg_req *req, struct tg_resp *resp);
int tg_h_auth_test_perm(struct tg_req *req, struct tg_resp *resp);

/* oauth.c: the OAuth 2.1 authorization server for MCP clients */
int tg_h_oauth_prm(struct tg_req *req, struct tg_resp *resp);
int tg_h_oauth_asm(struct tg_req *req, struct tg_resp *resp);
int tg_h_oauth_register(struct tg_req *req, struct tg_resp *resp);
int tg_h_oauth_authorize(struct tg_req *req, struct tg_resp *resp);
int tg_h_oauth_token(struct tg_req *req, struct tg_resp *resp);
int tg_h_oauth_revoke(struct tg_req *req, struct tg_resp *resp);

/* ops.c: every route of the operation table (lib/ops.c);
 * tg_route_op(req->route) says which operation. */
int tg_h_op(struct tg_req *req, struct tg_resp *resp);
/* The operation a route of the table serves, or NULL (routes.c). */
struct tg_route;
struct tg_op;
const struct tg_op *tg_route_op(const struct tg_route *r);

#endif
