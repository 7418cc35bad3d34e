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

#endif
