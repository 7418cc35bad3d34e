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

/* metrics.c */
int tg_h_metrics(struct tg_req *req, struct tg_resp *resp);

/* mcp.c: POST/GET/DELETE /mcp (Streamable HTTP, JSON-RPC) */
int tg_h_mcp(struct tg_req *req, struct tg_resp *resp);

#endif
